"""Values and files a tool definition can never hold are refused by validate, with their place, exit 1.

Each of these once passed validate (and crashed apply), raised a traceback, hung, or ran out of memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.load.files import MAX_DOCUMENTS

HEAD = "name: ok_tool\ndescription: Does a thing.\nendpoint: https://tools.example.com/ok\n"
JSON_HEAD = '{"name": "ok_tool", "description": "Does a thing.", "endpoint": "https://tools.example.com/ok",\n'
HUGE = "9" * 5000

# (id, file name, text, "file:line:column", words)
VALUES: list[tuple[str, str, str, str, list[str]]] = [
    (
        "yaml-int-tag-on-word",
        "a.yaml",
        HEAD + "labels: {team: !!int abc}\n",
        "a.yaml:4:16",
        ["'abc' is not an integer"],
    ),
    ("yaml-float-tag-on-word", "a.yaml", HEAD + "labels: {t: !!float xyz}\n", "a.yaml:4:13", ["'xyz' is not a number"]),
    ("yaml-bool-tag-maybe", "a.yaml", HEAD + "protected: !!bool maybe\n", "a.yaml:4:12", ["'maybe' is not a boolean"]),
    ("yaml-null-tag-on-word", "a.yaml", HEAD + "labels: !!null abc\n", "a.yaml:4:9", ["'abc' is not null"]),
    ("yaml-int-tag-empty", "a.yaml", HEAD + "labels: {t: !!int ''}\n", "a.yaml:4:13", ["is not an integer"]),
    ("yaml-huge-int", "a.yaml", HEAD + f"labels: {{t: {HUGE}}}\n", "a.yaml:4:13", ["too long", "5000 characters"]),
    ("yaml-huge-int-key", "a.yaml", HEAD + f"labels:\n  ? {HUGE}\n  : x\n", "a.yaml:5:5", ["too long"]),
    ("yaml-huge-hex", "a.yaml", HEAD + "labels: {t: 0x" + "f" * 80 + "}\n", "a.yaml:4:13", ["too long"]),
    ("yaml-int-tag-huge", "a.yaml", HEAD + f"labels: {{t: !!int '{HUGE}'}}\n", "a.yaml:4:13", ["too long"]),
    ("yaml-nan", "a.yaml", HEAD + "labels: {t: .nan}\n", "a.yaml:4:13", [".nan is not a finite number"]),
    ("yaml-inf", "a.yaml", HEAD + "labels: {t: .inf}\n", "a.yaml:4:13", ["not a finite number"]),
    ("yaml-minus-inf", "a.yaml", HEAD + "labels: {t: -.Inf}\n", "a.yaml:4:13", ["not a finite number"]),
    ("yaml-float-overflow", "a.yaml", HEAD + "labels: {t: 1.0e+999}\n", "a.yaml:4:13", ["not a finite number"]),
    ("yaml-float-tag-huge", "a.yaml", HEAD + f"labels: {{t: !!float {HUGE}}}\n", "a.yaml:4:13", ["not a finite"]),
    (
        "yaml-nan-in-schema-default",
        "a.yaml",
        HEAD + "parameters:\n  p: {type: number, description: d, default: .nan}\n",
        "a.yaml:5:46",
        ["not a finite number"],
    ),
    ("yaml-lone-surrogate", "a.yaml", HEAD.replace("Does a thing.", '"\\ud800"'), "a.yaml:2", ["Unicode"]),
    ("json-nan", "a.json", JSON_HEAD + ' "labels": {"t": NaN}}', "a.json:2:18", ["NaN is not a finite number"]),
    ("json-infinity", "a.json", JSON_HEAD + ' "labels": {"t": -Infinity}}', "a.json:2:18", ["not a finite"]),
    ("json-float-overflow", "a.json", JSON_HEAD + ' "labels": {"t": 1e999}}', "a.json:2:18", ["not a finite"]),
    ("json-huge-int", "a.json", JSON_HEAD + f' "labels": {{"t": {HUGE}}}}}', "a.json:2:18", ["too long"]),
    (
        "json-huge-int-in-list",
        "a.json",
        JSON_HEAD + f' "schema": {{"type": "object", "enum": [1, {HUGE}]}}}}',
        "a.json:2:43",
        ["too long"],
    ),
    ("json-lone-high-surrogate", "a.json", JSON_HEAD + ' "labels": {"t": "x\\ud800"}}', "a.json:2:20", ["\\ud800"]),
    ("json-lone-low-surrogate", "a.json", JSON_HEAD + ' "labels": {"t": "\\uDC00y"}}', "a.json:2:19", ["\\uDC00"]),
    ("json-surrogate-in-key", "a.json", JSON_HEAD + ' "labels": {"\\ud83d": "x"}}', "a.json:2:14", ["UTF-16"]),
    ("json-surrogate-in-list", "a.json", JSON_HEAD + ' "x": ["a", "\\ud83d"]}', "a.json:2:14", ["UTF-16"]),
]


@pytest.mark.parametrize(("name", "text", "where", "words"), [v[1:] for v in VALUES], ids=[v[0] for v in VALUES])
def test_hostile_values_are_refused_where_they_are_written(
    repo: Path, run: Callable[..., object], name: str, text: str, where: str, words: list[str]
) -> None:
    (repo / "tools.d" / name).write_text(text, encoding="utf-8")
    result = run("validate")
    assert result.code == 1, result.output
    assert f"tools.d/{where}" in result.output
    for word in words:
        assert word in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "text",
    [
        JSON_HEAD + ' "labels": {"t": "\\ud83d\\ude00 and \\\\ud800 as text"}}',  # a pair, and an escaped backslash
        JSON_HEAD + ' "labels": {"t": "9223372036854775807", "u": "NaN"}, "schema": {"maximum": 1.5e300}}',
    ],
    ids=["surrogate-pair-and-escaped-backslash", "limits-and-quoted"],
)
def test_what_looks_hostile_but_is_not_still_loads(repo: Path, run: Callable[..., object], text: str) -> None:
    from reconciler.load import read_documents

    (repo / "tools.d" / "a.json").write_text(text, encoding="utf-8")
    [document] = read_documents(repo / "tools.d" / "a.json")
    assert isinstance(document.content, dict)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_integers_past_64_bits_are_read_as_json_parsers_read_them(repo: Path, suffix: str) -> None:
    from reconciler.load import read_documents

    path = (repo / "tools.d" / "a").with_suffix(suffix)
    path.write_text('{"x": [9223372036854775807, -9223372036854775808, 18446744073709551615]}', encoding="utf-8")
    [document] = read_documents(path)
    assert document.content["x"] == [2**63 - 1, -(2**63), 1.8446744073709552e19]
    assert [type(x) for x in document.content["x"]] == [int, int, float]


def _validate_subprocess(repo: Path, timeout: float = 30) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    return completed, time.monotonic() - started


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX special files")
@pytest.mark.parametrize("kind", ["dev-zero", "dev-urandom", "fifo", "dev-null"])
def test_special_files_are_refused_without_reading_them(repo: Path, kind: str) -> None:
    target = repo / "tools.d" / "x.yaml"
    if kind == "fifo":
        os.mkfifo(target)  # no writer: a blocking open or read would hang forever
    else:
        target.symlink_to(f"/dev/{kind.removeprefix('dev-')}")
    completed, elapsed = _validate_subprocess(repo)
    assert completed.returncode == 1, completed.stderr
    assert "tools.d/x.yaml:1:1: error: not a regular file" in completed.stdout
    assert "Traceback" not in completed.stderr
    assert elapsed < 20


def test_a_file_past_the_size_limit_is_refused_while_reading(
    repo: Path, run: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reconciler.load.files.MAX_FILE_BYTES", 64 * 1024)
    (repo / "tools.d" / "big.yaml").write_text(HEAD + "labels:\n" + "  k: v\n" * 20_000, encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert "tools.d/big.yaml:1:1: error: file is larger than the limit of 65536 bytes" in result.output


def test_a_million_tiny_documents_stop_at_the_document_limit(repo: Path) -> None:
    (repo / "tools.d" / "many.yaml").write_text("---\n1\n" * 1_000_000, encoding="utf-8")  # 6 MB
    completed, elapsed = _validate_subprocess(repo)
    assert completed.returncode == 1
    line = MAX_DOCUMENTS * 2 + 1  # each document is two lines; the first one past the limit
    assert f"tools.d/many.yaml:{line + 1}:1: error: more than {MAX_DOCUMENTS} documents in one file" in completed.stdout
    assert elapsed < 20


def test_errors_printed_are_capped_with_a_count_of_the_rest(repo: Path, run: Callable[..., object]) -> None:
    for index in range(3):
        (repo / "tools.d" / f"m{index}.yaml").write_text("---\n1\n" * 100, encoding="utf-8")
    result = run("validate")
    errors = [line for line in result.out.splitlines() if ": error: " in line]
    assert result.code == 1
    assert len(errors) == 100
    assert result.out.splitlines()[-1] == "… and 200 more; `reconciler validate --format json` lists every one"
    assert "300 errors" in result.err
    as_json = run("validate", "--format", "json")
    assert as_json.out.count('"severity": "error"') == 300


def test_plan_caps_the_errors_it_prints_too(repo: Path, run: Callable[..., object]) -> None:
    (repo / "tools.d" / "m.yaml").write_text("---\n1\n" * 150, encoding="utf-8")
    result = run("plan")
    assert result.code == 1
    assert "… and 50 more" in result.err
    assert result.err.count(": error: ") == 100


def test_an_environment_variable_that_is_not_utf8_is_refused_where_it_is_used(
    repo: Path, run: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLS_BASE_URL", "https://tools.example\udcff.com")  # b"\xff", as os.environ keeps it
    (repo / "tools.d" / "a.yaml").write_text(HEAD.replace("https://tools.example.com", "${TOOLS_BASE_URL}"), "utf-8")
    result = run("validate")
    assert result.code == 1
    assert "tools.d/a.yaml:3:1: error: environment variable TOOLS_BASE_URL holds bytes that are not UTF-8" in result.out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX special files")
def test_an_audit_log_that_is_a_fifo_does_not_hang_apply(repo: Path) -> None:
    (repo / "tools.d" / "a.yaml").write_text(HEAD, encoding="utf-8")
    os.mkfifo(repo / "audit.jsonl")  # no reader: a blocking open for writing would wait forever
    completed = _reconciler(repo, "apply", "--auto-approve", "--audit-log", "audit.jsonl")
    assert completed.returncode == 1
    assert "error: cannot write or read audit.jsonl" in completed.stderr
    assert "created" not in completed.stderr  # refused before the first write


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX special files")
@pytest.mark.parametrize("command", ["apply", "show"])
def test_a_saved_plan_that_is_a_fifo_is_named_for_what_it_is(repo: Path, command: str) -> None:
    os.mkfifo(repo / "plan.json")  # no writer: a blocking open would wait forever
    completed = _reconciler(repo, command, "plan.json")
    assert completed.returncode == 1
    assert completed.stderr.strip().endswith(
        "plan.json: the plan file is not a regular file (a device, FIFO or socket)"
    )


def _reconciler(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in its own process, so a hang on a special file fails on the timeout instead of stalling."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
