"""A Data Action reaches a `reconciler serve` that requires its caller secret as the platform calls it: the Web
Services Data Actions integration's **Basic Auth** credentials (any user name, the secret as the password) go with
every request of its actions, with nothing in the compiled action. The action is compiled from tools.d, created
in the emulator, and run by its `POST .../execute` against the real `serve` process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.compile.data_actions import action_input
from reconciler.config import Config
from reconciler.desired import build_desired_state
from reconciler.emulator import RunningEmulator, run_emulator
from reconciler.emulator.config import EmulatorConfig
from reconciler.serve.auth import SECRET_VARIABLE

SECRET = "s3cr3t-caller-token-0123456789abcdef"
TOOL = """\
name: check_inventory
description: Checks real-time inventory levels for a product SKU.
endpoint: ${SERVE_URL}/tools/check_inventory
parameters:
  sku: {type: string, description: Product stock keeping unit, required: true}
context:
  user_id: conversation.user_id
"""
HANDLERS = """\
async def check_inventory(arguments):
    return {"seen": arguments}

TOOLS = {"check_inventory": check_inventory}
"""


@pytest.fixture
def served(repo: Path) -> Iterator[str]:
    (repo / "tools.d" / "inventory.yaml").write_text(TOOL, encoding="utf-8")
    (repo / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "serve", "--port", "0", "--app", "handlers:TOOLS"],
        cwd=repo,
        env={**os.environ, "SERVE_URL": "http://127.0.0.1:9", SECRET_VARIABLE: SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("reconciler serve listening on http://127.0.0.1:"), line + process.stderr.read()
        yield line.split()[-1]
    finally:
        process.kill()
        process.communicate()


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(EmulatorConfig(rate_limit=1000)) as running:
        yield running


def execute(emulator: RunningEmulator, repo: Path, url: str, integration: dict[str, Any]) -> httpx.Response:
    state = build_desired_state(repo / "tools.d", Config(root=repo), {"SERVE_URL": url})
    assert state.errors == []
    [tool] = state.tools
    body = action_input(tool, category="Tools", integration_id=integration["id"])
    assert "authorization" not in {name.lower() for name in body["config"]["request"]["headers"]}
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as client:
        created = client.post("/api/v2/integrations/actions", json=body)
        assert created.status_code == 200, created.text
        return client.post(
            f"/api/v2/integrations/actions/{created.json()['id']}/execute", json={"sku": "A-1", "user_id": "u-42"}
        )


def test_an_integrations_basic_auth_credentials_carry_the_secret_to_serve(
    repo: Path, served: str, emulator: RunningEmulator
) -> None:
    integration = emulator.actions.add_integration("Tools", basic_auth=("genesys", SECRET))

    answer = execute(emulator, repo, served, integration)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "success"
    assert answer.json()["output"] == {"seen": {"sku": "A-1", "user_id": "u-42"}}
    assert SECRET not in httpx.get(f"{emulator.url}/api/v2/integrations", headers={"Authorization": "Bearer t"}).text


@pytest.mark.parametrize("basic_auth", [None, ("genesys", "an-old-secret-0123456789")], ids=["none", "wrong"])
def test_an_integration_without_the_secret_fails_its_action_with_the_services_401(
    repo: Path, served: str, emulator: RunningEmulator, basic_auth: tuple[str, str] | None
) -> None:
    integration = emulator.actions.add_integration("Tools", basic_auth=basic_auth)

    answer = execute(emulator, repo, served, integration)

    assert answer.status_code == 400
    assert "[401]" in answer.json()["message"] and "UNAUTHORIZED" in answer.json()["message"]
