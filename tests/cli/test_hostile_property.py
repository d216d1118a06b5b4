"""The law of bad input: whatever tools.d and reconciler.yaml hold, `validate` either passes (exit 0) or refuses
with exit 1 and a place (file:line), never with a traceback or exit 3, within a time and memory bound."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main

FRAGMENTS = [
    "!!int abc", "!!float xyz", "!!bool maybe", "!!null x", "!!int ''", "!!binary aGk=", "!!set {a}", "!!omap [a]",
    "!python/object:os.system ls", ".nan", ".inf", "-.Inf", "1.0e+999", "9" * 5000, "0x" + "f" * 100, "-" + "9" * 30,
    '"\\ud800"', '"\\udfff"', '"\\U0010FFFF"', "'\\ud800'", "&a [*a, *a]", "*undefined", "<<: 5", "[" * 300, "{" * 300,
    "? [a]\n: b", "\t- x", "%TAG ! tag:x,2000:", "...", "---", "\x00", "\x1b[31m", "\ufeff", "~", "null", "",
    "${UNSET_VARIABLE_X}", "$${literal}", "[1, 2", "{a: 1, a: 2}", "'unclosed", '"unclosed', "|\n  text", ">-\n  t",
    "{type: object, properties: {q: {type: string, pattern: 'a{99999999999}'}}}",
    "{type: object, patternProperties: {'((((((((((': {}}}", "{type: object, properties: {q: {type: nan}}}",
    "2001-12-14t21:59:43.10-05:00", "0o777", "1_000", "1:20:30", "yes", "off", "=", "<<", "? ", "- - - -",
]  # fmt: skip
JSON_FRAGMENTS = [
    "NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, '"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', "[" * 300,
    '{"a": 1, "a": 2}', "tru", "nul", "01", "1.", ".5", "+1", '"\\x41"', '"\\u12"', "\x00", '"' + "a" * 1000 + '"',
    "{}", "[]", '""', "-0", "1E+2", '"\\/"',
]  # fmt: skip
FIELDS = ["name", "description", "endpoint", "parameters", "schema", "labels", "context", "rate_limit", "protected"]
PLACE = re.compile(r"(tools\.d/[a-z]+\.(?:yaml|json)|reconciler\.yaml):\d+(?::\d+)?: error: ")


def _yaml_document(field: str, fragment: str, extra: str) -> str:
    fields = {"name": "ok_tool", "description": "Does it.", "endpoint": "https://tools.example.com/x"}
    fields[field] = fragment
    return "".join(f"{key}: {value}\n" for key, value in fields.items()) + extra


def _json_document(field: str, fragment: str) -> str:
    fields = {"name": '"ok_tool"', "description": '"Does it."', "endpoint": '"https://tools.example.com/x"'}
    fields[field] = fragment
    return "{" + ", ".join(f'"{key}": {value}' for key, value in fields.items()) + "}"


yaml_documents = st.builds(
    _yaml_document,
    st.sampled_from(FIELDS),
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)),
    st.one_of(st.just(""), st.sampled_from(FRAGMENTS).map(lambda f: f"extra: {f}\n"), st.text(max_size=40)),
)
json_documents = st.one_of(
    st.builds(
        _json_document, st.sampled_from(FIELDS), st.one_of(st.sampled_from(JSON_FRAGMENTS), st.text(max_size=20))
    ),
    st.text(max_size=60),
)
name_patterns = st.one_of(
    st.none(),
    st.sampled_from(["(", "^(a+)+$", "(a)\\1", "(?=a)", "[", "x{1001}", "\\", "^[a-z_]+$"]),
    st.text(max_size=12),
)


@contextlib.contextmanager
def _repository(files: dict[str, str]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / ".git").mkdir()
        (root / "tools.d").mkdir()
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        previous = os.getcwd()
        os.chdir(root)
        try:
            yield root
        finally:
            os.chdir(previous)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(yaml_text=yaml_documents, json_text=st.one_of(st.none(), json_documents), pattern=name_patterns)
def test_any_input_validates_or_is_refused_with_a_place(
    capsys: pytest.CaptureFixture[str], yaml_text: str, json_text: str | None, pattern: str | None
) -> None:
    files = {"tools.d/a.yaml": yaml_text}
    if json_text is not None:
        files["tools.d/b.json"] = json_text
    if pattern is not None:
        files["reconciler.yaml"] = f"limits:\n  name_pattern: {_yaml_string(pattern)}\n"
    with _repository(files):
        tracemalloc.start()
        started = time.monotonic()
        try:
            code = main(["validate"])
            elapsed = time.monotonic() - started
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert code in (0, 1), output
    assert "Traceback" not in output
    assert elapsed < 10
    assert peak < 256 * 1024 * 1024
    if code == 1:
        assert PLACE.search(output), output


def _yaml_string(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text) + '"'
