"""`reconciler serve` without a caller secret (RECONCILER_SERVE_TOKEN) does not authenticate its callers: whoever
reaches its port calls every tool, with any `user_id` and conversation state, which context parameters trust
(`customer_id: conversation.user_id`). On loopback (the default) only this machine can; any other address needs
`--allow-unauthenticated` (tests/serve/test_auth_cli.py), and it says so when it starts, as the emulator refuses
such an address without `--allow-remote`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = "name: check\ndescription: Checks.\nendpoint: https://tools.example.com/check\n"
WARNING = "does not authenticate its callers"


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_serve_says_when_every_tool_is_open_to_the_network(repo: Path, host: str, warned: bool) -> None:
    (repo / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "serve", "--host", host, "--port", "0", "--allow-unauthenticated"],
        cwd=repo,
        env={k: v for k, v in os.environ.items() if k != "RECONCILER_SERVE_TOKEN"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("reconciler serve listening on ")
    finally:
        process.terminate()
        _, said = process.communicate(timeout=30)
    assert (WARNING in said) is warned, said
