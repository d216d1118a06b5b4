"""Start-up: a command imports what it needs when it runs. `--help` and `validate` of a valid file must not
pay for httpx, jsonschema or the emulator (bench/startup.py measures the time; this guards the import list)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from reconciler.cli import _register, cli
from reconciler.cli.commands import COMMANDS

HEAVY = ("httpx", "jsonschema", "deepdiff", "importlib.metadata", "reconciler.api", "reconciler.emulator")
PROBE = """
import contextlib, io, json, sys
from reconciler.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported_by(argv: list[str], cwd: Path) -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, completed.stderr
    return set(result["modules"])


@pytest.mark.parametrize(
    ("argv", "also_absent"),
    [
        (["--help"], ("yaml", "logging", "reconciler.desired", "reconciler.runtime")),
        (["validate"], ("reconciler.plan", "reconciler.runtime", "reconciler.serve", "reconciler.compile.openapi")),
    ],
)
def test_help_and_validate_import_only_what_they_need(
    tmp_path: Path, argv: list[str], also_absent: tuple[str, ...]
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "tools.d").mkdir()
    (tmp_path / "tools.d" / "a.yaml").write_text(
        "name: ok\ndescription: Checks stock.\nendpoint: https://tools.example.com/x\n", encoding="utf-8"
    )
    modules = imported_by(argv, tmp_path)
    assert "click" in modules  # the probe did run the CLI
    assert sorted(name for name in (*HEAVY, *also_absent) if name in modules) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_command_table_matches_the_commands(name: str) -> None:
    _register()
    command = cli.commands[name]
    entry = COMMANDS[name]
    assert (command.callback.__module__ if command.callback else None) == entry.module
    assert inspect.cleandoc(command.help or "").split("\n\n")[0] == entry.summary
    assert isinstance(command, click.Command)
