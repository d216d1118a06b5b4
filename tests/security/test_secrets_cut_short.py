"""A message that quotes a long value cuts it short (`'abcd…' (111 characters)`); when the value is a secret, its
head is as much a secret as the whole, and scrubbing only knew whole values. And a finding prints its text on
one line, with control characters as \\u escapes: a secret holding a line break is still found in that form."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.redaction import CUT_PREFIX, REDACTED, Redactor, one_line

SECRET = "Zq9-very-long-secret-value-" * 4 + "END"


@given(
    secret=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=CUT_PREFIX + 1, max_size=80),
    data=st.data(),
)
def test_a_secret_cut_short_in_a_message_is_hidden(secret: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(CUT_PREFIX, len(secret) - 1))
    redactor = Redactor([secret])
    for shown in (f"{secret[:cut]}…", f"{secret[:cut]!r}… ({len(secret)} characters)", f"'{secret[:cut]}…'"):
        scrubbed = redactor.scrub(f"error: invalid name {shown}, see above")
        assert secret[:CUT_PREFIX] not in scrubbed.replace(REDACTED, "\0")
        assert repr(secret[:cut])[1 : CUT_PREFIX + 1] not in scrubbed.replace(REDACTED, "\0")


def test_text_that_only_begins_like_a_secret_is_left_alone() -> None:
    redactor = Redactor([SECRET])
    text = "'Zq9-very-long-other-words…' (40 characters)"
    assert redactor.scrub(text) == text


@given(secret=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=6, max_size=30))
def test_a_secret_on_one_line_or_quoted_by_python_is_hidden(secret: str) -> None:
    redactor = Redactor([secret])
    for form in (one_line(secret), repr(secret)):
        assert redactor.scrub(f"x {form} y").count(REDACTED) >= 1


@pytest.mark.parametrize("target", ["tools", "data-actions"])
def test_a_sensitive_value_too_long_for_a_name_leaves_no_head_in_any_output(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    monkeypatch.setenv("API_SECRET", SECRET * (3 if target == "data-actions" else 1))
    if target == "data-actions":
        (repo / "reconciler.yaml").write_text("target: data-actions\nintegration: My Tools\n", encoding="utf-8")
    (repo / "tools.d" / "a.yaml").write_text(
        "name: ${API_SECRET}\ndescription: d\nendpoint: https://tools.example.com/x\n", encoding="utf-8"
    )
    for argv in (("validate",), ("validate", "--format", "github"), ("plan",), ("render",)):
        result = run(*argv)
        assert result.code == 1, result.output
        assert "characters" in result.output  # the finding is there, and says how long the value is
        assert SECRET[:CUT_PREFIX] not in result.output, argv
    report = run("validate", "--format", "json")
    assert SECRET[:CUT_PREFIX] not in json.dumps(json.loads(report.out))


def test_a_sensitive_value_with_a_line_break_is_hidden_in_a_finding(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finding escapes the line break (`\\u000a`), a form scrubbing did not know."""
    monkeypatch.setenv("PARTNER_TOKEN", "first-line-of-it\nsecond-line-of-it")
    (repo / "tools.d" / "a.yaml").write_text(
        "name: ${PARTNER_TOKEN}\ndescription: d\nendpoint: https://tools.example.com/x\n"
        "parameters: {p: {type: string}}\n",  # no description: a warning that quotes the tool's name as it is
        encoding="utf-8",
    )
    result = run("validate")
    assert result.code == 1
    assert "has no description" in result.output
    assert "first-line" not in result.output and "second-line" not in result.output


def _prefixed_source(repo: Path) -> None:
    (repo / "specs").mkdir()
    (repo / "specs" / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n"
        "      responses: {'200': {description: ok}}\n",
        encoding="utf-8",
    )
    (repo / "tools.d" / "src.yaml").write_text(
        "source:\n  openapi: ../specs/api.yaml\n  endpoint_base: https://api.example.com\n"
        "  name_prefix: ${PARTNER_SECRET}\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("secret", "code"),
    [
        ("Ab3.dEf9+gH1~kL7", 1),  # not a name: the error suggests the prefix with `_` for what a name cannot hold
        ("Kq7" + "x" * 30 + "Zp9" + "y" * 30, 0),  # too long: each name keeps 55 characters and a digest
    ],
    ids=["made-to-fit-the-name-rule", "shortened-with-a-digest"],
)
def test_a_secret_made_into_a_name_leaves_no_trace(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, secret: str, code: int
) -> None:
    """A pull request can write `name_prefix: ${SOME_SECRET}`: the names it makes are shown in the plan."""
    monkeypatch.setenv("PARTNER_SECRET", secret)
    _prefixed_source(repo)
    for argv in (("validate",), ("plan",), ("plan", "--format", "markdown"), ("render",)):
        result = run(*argv)
        assert result.code in (code, 2 if argv[0] == "plan" and code == 0 else code), result.output
        assert secret[:CUT_PREFIX] not in result.output, argv
        assert secret[:CUT_PREFIX].replace(".", "_") not in result.output, argv
