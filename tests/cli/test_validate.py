"""validate: text, json and strict; the shipped examples are valid."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
NO_DESCRIPTION = (
    "name: t\ndescription: Does a thing.\nendpoint: https://e.example.com\nparameters:\n  q: {type: string}\n"
)


def test_the_shipped_examples_are_valid(repo: Path, run: Callable[..., Any]) -> None:
    shutil.copytree(REPO / "tools.d", repo / "tools.d", dirs_exist_ok=True)
    result = run("validate", "--strict")
    assert result.code == 0, result.output
    assert result.out == ""
    assert result.err.strip() == "valid: 3 tools, 0 errors, 0 warnings"


def test_warnings_fail_only_when_strict(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "tools.d" / "t.yaml").write_text(NO_DESCRIPTION)
    relaxed = run("validate")
    assert relaxed.code == 0
    assert "tools.d/t.yaml:5:3: warning: parameter 'q' of 't' has no description" in relaxed.out
    assert run("validate", "--strict").code == 1


def test_files_are_named_as_the_user_would_type_them(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "tools.d" / "t.yaml").write_text(NO_DESCRIPTION)
    assert "tools.d/t.yaml:5:3: warning" in run("validate", str(repo / "tools.d")).out
    monkeypatch.chdir(repo / "tools.d")
    assert run("validate", ".").out.startswith("t.yaml:5:3: warning")  # not ./t.yaml


def test_json_report_for_machines(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "tools.d" / "t.yaml").write_text(NO_DESCRIPTION + "colour: red\n")
    result = run("validate", "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["format_version"] == 1
    assert report["valid"] is False
    assert report["diagnostics"] == [
        {
            "severity": "error",
            "file": "tools.d/t.yaml",
            "line": 6,
            "column": 1,
            "code": "unknown-key",
            "message": "unknown key 'colour'; known keys: name, description, endpoint, parameters, schema, "
            "output_schema, context, rate_limit, labels, protected, ignore_changes, request, timeout, secure",
        }
    ]


def test_a_broken_reconciler_yaml_is_reported_with_its_place(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "reconciler.yaml").write_text("managed_by: team-a\nprune: maybe\nmass_delete_sahre: 0.5\n")
    result = run("validate")
    assert result.code == 1
    assert "reconciler.yaml:2:1: error: 'prune' must be true or false, not 'maybe'" in result.out
    assert (
        "reconciler.yaml:3:1: error: unknown key 'mass_delete_sahre'; did you mean 'mass_delete_share'?" in result.out
    )


MANY = "name: t\ndescription: d\nendpoint: https://e.example.com\nparameters:\n" + "".join(
    f"  p{i}: {{type: string, description: p}}\n" for i in range(12)
)


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_reconciler_yaml_errors_and_tools_d_errors_are_reported_in_one_run(
    repo: Path, run: Callable[..., Any], command: str
) -> None:
    """A mistake in reconciler.yaml that no tool check depends on hid every error of tools.d until it was fixed:
    the user fixed errors in rounds."""
    (repo / "reconciler.yaml").write_text("managed_bi: team-a\nprune: maybe\n")
    (repo / "tools.d" / "t.yaml").write_text(NO_DESCRIPTION.replace("type: string", "type: strin"))

    result = run(command)

    assert result.code == 1
    assert "reconciler.yaml:1:1: error: unknown key 'managed_bi'; did you mean 'managed_by'?" in result.output
    assert "reconciler.yaml:2:1: error: 'prune' must be true or false, not 'maybe'" in result.output
    assert "tools.d/t.yaml:5:3: error: parameter 'q' of 't' has unsupported type 'strin'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "setting", ["limits: {max_parameters: '12'}", "limits: {max_parameters: -1}", "limits: [12]", "target: tool"]
)
def test_a_broken_setting_that_tool_checks_depend_on_hides_them_rather_than_misleading(
    repo: Path, run: Callable[..., Any], setting: str
) -> None:
    (repo / "reconciler.yaml").write_text(setting + "\n")
    (repo / "tools.d" / "t.yaml").write_text(MANY)

    result = run("validate", "--format", "json")

    assert result.code == 1
    assert {d["file"] for d in json.loads(result.out)["diagnostics"]} == {"reconciler.yaml"}


def test_limits_come_from_reconciler_yaml(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "reconciler.yaml").write_text("limits: {max_parameters: 1}\n")
    (repo / "tools.d" / "t.yaml").write_text(
        "name: t\ndescription: d\nendpoint: https://e.example.com\nparameters:\n"
        "  a: {type: string, description: a}\n  b: {type: string, description: b}\n"
    )
    result = run("validate")
    assert result.code == 1
    assert "'t' has 2 parameters; the limit is 1" in result.out


def test_a_missing_directory_is_a_clear_error(repo: Path, run: Callable[..., Any]) -> None:
    result = run("validate", "nowhere")
    assert result.code == 1
    # a folder has no lines: its path alone, not nowhere:1:1
    assert result.out.startswith("nowhere: error: no such directory")
    (finding,) = json.loads(run("validate", "nowhere", "--format", "json").out)["diagnostics"]
    assert (finding["file"], finding["line"], finding["column"]) == ("nowhere", None, None)


def test_debug_logging_ends_with_its_run(repo: Path, run: Callable[..., Any]) -> None:
    """`main` may run many times in one process: --debug must not leave a handler or the DEBUG level behind."""
    logger = logging.getLogger("reconciler")
    handlers, level = list(logger.handlers), logger.level
    for _ in range(3):
        assert run("--debug", "validate").code == 0
    assert (logger.handlers, logger.level) == (handlers, level)
