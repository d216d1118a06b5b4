"""The one error funnel: every way a command can end is a message and an exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

GOOD = "name: ok_tool\ndescription: Does a thing.\nendpoint: https://tools.example.com/ok\n"


@pytest.fixture
def tool(repo: Path) -> Path:
    (repo / "tools.d" / "a.yaml").write_text(GOOD, encoding="utf-8")
    return repo


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--out", "a-file/plan.json"],
        ["plan", "--out", "read-only/plan.json"],
        ["export", "--out", "read-only/exported"],
        ["apply", "--auto-approve", "--audit-log", "read-only/audit.jsonl"],
        ["apply", "--auto-approve", "--audit-log", "a-file/audit.jsonl"],
    ],
    ids=["plan-out-under-file", "plan-out-read-only", "export-out-read-only", "audit-read-only", "audit-under-file"],
)
def test_an_unwritable_output_path_is_a_user_error(tool: Path, run: Callable[..., object], argv: list[str]) -> None:
    if os.geteuid() == 0 and "read-only" in " ".join(argv):
        (tool / "read-only").write_text("a file where a folder should be", encoding="utf-8")  # root ignores modes
    else:
        (tool / "read-only").mkdir()
        (tool / "read-only").chmod(0o500)
    (tool / "a-file").write_text("", encoding="utf-8")
    result = run(*argv)
    assert result.code == 1, result.output
    assert "error: cannot write or read " in result.err
    in_the_way = argv[-1].split("/")[0]
    if (tool / in_the_way).is_file():  # the OS says only "File exists" or "Not a directory"
        assert f"{in_the_way} is a file, not a folder; give another path, or move that file" in result.err
    else:
        assert "check the path" in result.err
    assert "Traceback" not in result.output
    if argv[0] == "apply":  # refused before the first write: the registry is still empty
        assert "ok_tool: created" not in result.err


def test_a_bug_is_exit_3_and_names_its_place_but_not_its_text(
    tool: Path, run: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("value-from-the-input")

    monkeypatch.setattr("reconciler.cli.validate.load_desired", broken)
    result = run("validate")
    assert result.code == 3
    assert "error: internal error (KeyError at " in result.err
    assert "this is a bug in reconciler" in result.err
    assert "Rerun with --debug" in result.err
    assert "value-from-the-input" not in result.err
    assert "Traceback" not in result.err

    debug = run("--debug", "validate")
    assert debug.code == 3
    assert "Traceback" in debug.err
    assert "value-from-the-input" in debug.err


@pytest.mark.parametrize("exception", [MemoryError, RecursionError, AssertionError, UnicodeEncodeError])
def test_every_unexpected_exception_is_exit_3(
    tool: Path, run: Callable[..., object], monkeypatch: pytest.MonkeyPatch, exception: type[BaseException]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        if exception is UnicodeEncodeError:
            "\ud800".encode()
        raise exception()

    monkeypatch.setattr("reconciler.cli.plan.load_desired", broken)
    result = run("plan")
    assert result.code == 3
    assert f"internal error ({exception.__name__} at reconciler.cli" in result.err


def test_ctrl_c_is_exit_130(tool: Path, run: Callable[..., object], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("reconciler.cli.validate.load_desired", interrupted)
    result = run("validate")
    assert result.code == 130
    assert result.err.endswith("error: interrupted\n")


def test_usage_errors_are_exit_1(tool: Path, run: Callable[..., object]) -> None:
    result = run("plan", "--format", "yaml")
    assert result.code == 1
    assert "Invalid value for '--format'" in result.err


def test_a_closed_stdout_ends_the_run_without_a_traceback(tool: Path) -> None:
    for index in range(200):
        name = f"tool_{index}"
        (tool / "tools.d" / f"{name}.yaml").write_text(GOOD.replace("ok_tool", name), encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, "-m", "reconciler", "render"],
        cwd=tool,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.read(10)
        process.stdout.close()  # as `reconciler render | head -c 10` does
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr
    assert code in (0, 1)


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("'('", ["missing )"]),
        ("'[a-'", ["missing ]"]),
        ("'(a)\\1'", ["invalid escape sequence"]),
        ("'(?=a)a'", ["invalid perl operator"]),
        ("'x{1001}'", ["invalid repetition size"]),
    ],
    ids=["unclosed-group", "unclosed-class", "backreference", "lookahead", "huge-repetition"],
)
def test_a_broken_name_pattern_is_refused_where_it_is_written(
    tool: Path, run: Callable[..., object], pattern: str, words: list[str]
) -> None:
    (tool / "reconciler.yaml").write_text(f"limits:\n  max_parameters: 5\n  name_pattern: {pattern}\n", "utf-8")
    for command in ("validate", "plan"):
        result = run(command)
        assert result.code == 1
        assert (
            "reconciler.yaml:3:3: error: 'limits.name_pattern' is not a regular expression we can use"
            in result.out + result.err
        )
        for word in words:
            assert word in result.output
        assert "Traceback" not in result.output


@pytest.mark.parametrize("pattern", ["^(a+)+$", "^(a|a)*$", "^(a*)*b$", "^(\\w+\\s?)*$"])
def test_a_catastrophic_name_pattern_cannot_hang_validate(tool: Path, run: Callable[..., object], pattern: str) -> None:
    (tool / "reconciler.yaml").write_text(f"limits:\n  name_pattern: '{pattern}'\n", "utf-8")
    (tool / "tools.d" / "a.yaml").write_text(GOOD.replace("ok_tool", "'" + "a" * 5000 + "!'"), encoding="utf-8")
    started = time.monotonic()
    result = run("validate")
    assert time.monotonic() - started < 10  # a backtracking engine takes longer than the universe has
    assert result.code == 1
    assert "tools.d/a.yaml:1:1: error: invalid tool name 'aaaa" in result.out
    assert "… (5001 characters): it does not match limits.name_pattern of reconciler.yaml" in result.out


@pytest.mark.parametrize(
    "pattern",
    ["'a{99999999999}'", "'" + "(" * 2000 + ")" * 2000 + "'"],
    ids=["repetition-past-the-limit", "groups-nested-2000-deep"],
)
@pytest.mark.parametrize("where", ["pattern", "patternProperties"])
def test_a_schema_pattern_python_cannot_compile_is_an_error_not_a_crash(
    tool: Path, run: Callable[..., object], pattern: str, where: str
) -> None:
    schema = (
        f"  properties:\n    q: {{type: string, description: d, pattern: {pattern}}}\n"
        if where == "pattern"
        else f"  patternProperties:\n    ? {pattern}\n    : {{type: string}}\n"  # explicit: a long key
    )
    (tool / "tools.d" / "a.yaml").write_text(GOOD + "schema:\n  type: object\n" + schema, encoding="utf-8")
    result = run("validate")
    assert result.code == 1, result.output
    assert "tools.d/a.yaml:4:1: error: schema of 'ok_tool' has a pattern that cannot be compiled" in result.out
