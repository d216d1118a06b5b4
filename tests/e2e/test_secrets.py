"""No secret reaches output, logs, plans or audit logs: real commands, --debug, client credentials."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from reconciler.emulator import EmulatorConfig, run_emulator

CLIENT_SECRET = "s3cr3t-Client-Value-9f8e7d"
PARTNER_KEY = "pk_live_Abc123SensitiveValue"


def test_debug_output_plan_files_and_audit_logs_hold_no_secret(repo: Path, run_cli: Any) -> None:
    (repo / "tools.d" / "partner.yaml").write_text(
        "name: partner_lookup\n"
        "description: Looks up a partner record.\n"
        "endpoint: https://partner.example.com/lookup?key=${PARTNER_API_KEY}\n"
        "parameters:\n  q: {type: string, description: Query}\n",
        encoding="utf-8",
    )
    config = EmulatorConfig(client_id="reconciler-ci", client_secret=CLIENT_SECRET, token_lifetime=60)
    with run_emulator(config) as emulator:
        environ = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GENESYS", "NO_COLOR"))},
            "GENESYS_CLOUD_API_URL": emulator.url,
            "GENESYS_CLOUD_CLIENT_ID": "reconciler-ci",
            "GENESYS_CLOUD_CLIENT_SECRET": CLIENT_SECRET,
            "PARTNER_API_KEY": PARTNER_KEY,
        }
        outputs = []
        for argv in (
            ["--debug", "validate"],
            ["--debug", "render"],
            ["--debug", "plan", "--out", "plan.json"],
            ["--debug", "plan", "--format", "json"],
            ["--debug", "plan", "--format", "markdown"],
            ["--debug", "apply", "plan.json", "--audit-log", "audit.jsonl"],
            ["--debug", "plan", "--detailed-exitcode"],
            ["--debug", "export", "--out", "exported"],
        ):
            completed = run_cli(argv, cwd=repo, environ=environ)
            assert completed.returncode in (0, 2), (argv, completed.stderr)
            outputs.append(completed.stdout + completed.stderr)
        tokens = emulator.tokens.issued_tokens()
        [stored] = emulator.registry.all_tools()

    assert tokens, "the commands must have used client credentials"
    assert stored["executionEndpoint"].endswith(PARTNER_KEY), "the real value is what the org receives"
    debug_lines = "\n".join(outputs)
    assert "debug: reconciler.api" in debug_lines, "--debug must log the HTTP exchanges"
    files = [
        (repo / "plan.json").read_text(),
        (repo / "audit.jsonl").read_text(),
        *(path.read_text() for path in (repo / "exported").iterdir()),
    ]
    assert "((sensitive:PARTNER_API_KEY))" in files[0]
    for text in [*outputs, *files]:
        assert CLIENT_SECRET not in text
        assert PARTNER_KEY not in text
        for token in tokens:
            assert token not in text
