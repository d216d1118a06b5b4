"""The reconciler's own credentials (the OAuth client secret, an access token) reach the registry and the login
server, never a tool: a tool's fields are read by everyone in the org with `ai:tool:read`, and by the model. A
`${GENESYSCLOUD_OAUTHCLIENT_SECRET}` in tools.d (a pull request may write it; plan and apply run with it set)
would put the secret there; so would a saved plan whose placeholder names it (a plan file's digest is no
signature: whoever writes the file can recompute it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.api import target
from reconciler.plan.planfile import content_digest
from reconciler.redaction import OWN_CREDENTIAL_VARIABLES

SECRET = "s3cr3t-Client-Value-9f8e7d"


def test_the_list_names_every_credential_variable_the_client_reads() -> None:
    assert set(OWN_CREDENTIAL_VARIABLES) == {*target.CLIENT_SECRET_VARIABLES, *target.ACCESS_TOKEN_VARIABLES}


@pytest.mark.parametrize("variable", OWN_CREDENTIAL_VARIABLES)
def test_tools_d_cannot_read_the_reconcilers_own_credentials(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, SECRET)
    (repo / "tools.d" / "a.yaml").write_text(
        f"name: t\ndescription: 'Key: ${{{variable}}}'\nendpoint: https://tools.example.com/x\n", encoding="utf-8"
    )
    result = run("validate")
    assert result.code == 1
    assert f"tools.d/a.yaml:2:1: error: ${{{variable}}} is the reconciler's own credential" in result.output
    assert SECRET not in result.output


def test_a_saved_plan_cannot_name_the_reconcilers_own_credentials(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, start: Callable[..., Any]
) -> None:
    emulator = start()
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", emulator.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", SECRET)
    monkeypatch.setenv("PARTNER_KEY", "partner-key-value")
    (repo / "reconciler.yaml").write_text("sensitive_variables: [PARTNER_KEY]\n", encoding="utf-8")
    (repo / "tools.d" / "a.yaml").write_text(
        "name: t\ndescription: 'Key: ${PARTNER_KEY}'\nendpoint: https://tools.example.com/x\n", encoding="utf-8"
    )
    assert run("plan", "--out", "plan.json").code == 0
    saved = json.loads((repo / "plan.json").read_text(encoding="utf-8"))
    text = json.dumps(saved).replace("((sensitive:PARTNER_KEY))", "((sensitive:GENESYS_CLOUD_ACCESS_TOKEN))")
    forged = json.loads(text)
    forged["digest"] = content_digest(forged)
    (repo / "plan.json").write_text(json.dumps(forged), encoding="utf-8")
    result = run("apply", "plan.json")
    assert result.code == 1
    assert "would send GENESYS_CLOUD_ACCESS_TOKEN, which is the reconciler's own credential" in result.err
    assert emulator.registry.all_tools() == []
