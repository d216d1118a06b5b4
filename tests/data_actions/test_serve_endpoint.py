"""A hand-written tool's Data Action calls its endpoint with the invocation every tool endpoint takes, so
`reconciler serve` (or any endpoint written for the Tools API's callback) serves a tool on either target: the
action compiled from tools.d, executed by the emulator as the platform runs it, against a real `serve`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.compile.data_actions import action_input
from reconciler.config import Config
from reconciler.desired import build_desired_state
from reconciler.emulator.execute import execute

TOOL = """\
name: check_inventory
description: Checks real-time inventory levels for a product SKU.
endpoint: ${SERVE_URL}/tools/check_inventory
parameters:
  sku: {type: string, description: Product stock keeping unit, required: true}
  count: {type: integer, description: How many}
CONTEXT"""

HANDLERS = """\
async def check_inventory(arguments):
    return {"seen": arguments}

TOOLS = {"check_inventory": check_inventory}
"""


@pytest.fixture
def served(repo: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, str]]:
    context: str = request.param
    (repo / "tools.d" / "inventory.yaml").write_text(TOOL.replace("CONTEXT", context), encoding="utf-8")
    (repo / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "serve", "--port", "0", "--app", "handlers:TOOLS"],
        cwd=repo,
        env={**os.environ, "SERVE_URL": "http://127.0.0.1:9"},  # serve runs the handler: the endpoint is not read
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("reconciler serve listening on http://127.0.0.1:"), line + process.stderr.read()
        yield repo, line.split()[-1]
    finally:
        process.kill()
        process.communicate()


def action_for(repo: Path, url: str) -> dict[str, Any]:
    state = build_desired_state(repo / "tools.d", Config(root=repo), {"SERVE_URL": url})
    assert state.errors == []
    [tool] = state.tools
    return action_input(tool, category="Tools", integration_id="integration-1")


@pytest.mark.parametrize(
    "served",
    ["", "context:\n  user_id: conversation.user_id\n  tier: conversation.customer.tier\n"],
    ids=["no context", "context"],
    indirect=True,
)
def test_the_action_of_a_hand_written_tool_is_served_by_reconciler_serve(served: tuple[Path, str]) -> None:
    repo, url = served
    action = action_for(repo, url)
    with_context = "user_id" in action["contract"]["input"]["inputSchema"]["properties"]
    inputs: dict[str, Any] = {"sku": 'A-1 "quoted" \\ ü', "count": 3}
    if with_context:  # what the calling flow or guide fills
        inputs |= {"user_id": "u-42", "tier": "gold"}

    status, answer = execute(action, inputs)

    assert status == 200, answer
    assert answer["status"] == "success", answer
    expected = {"sku": 'A-1 "quoted" \\ ü', "count": 3}
    if with_context:
        expected |= {"user_id": "u-42", "tier": "gold"}
    assert answer["output"] == {"seen": expected}
    # an optional parameter left out is not sent as null or ""
    status, answer = execute(action, {key: value for key, value in inputs.items() if key != "count"})
    assert (status, answer["status"]) == (200, "success"), answer
    assert "count" not in answer["output"]["seen"]
