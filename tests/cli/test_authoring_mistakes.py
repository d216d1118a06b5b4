"""Authoring mistakes a user meets through `validate`: each is refused with its place and what to do, or (when
it is no mistake) accepted, exactly as the docs say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GOOD = "name: ok_tool\ndescription: Does a thing.\nendpoint: https://tools.example.com/ok\n"


@pytest.mark.parametrize(
    "text",
    [
        "---\n" + GOOD + "---\n",  # a trailing separator, as many editors and generators write
        GOOD + "---\n# nothing here yet\n",
        "---\n---\n" + GOOD,
        GOOD + "...\n---\n",
    ],
    ids=["trailing-separator", "comment-only-document", "leading-empty-document", "end-marker-then-separator"],
)
def test_an_empty_document_is_skipped_as_an_empty_file_is(repo: Path, run: Callable[..., Any], text: str) -> None:
    (repo / "tools.d" / "a.yaml").write_text(text, encoding="utf-8")
    result = run("validate", "--strict")
    assert result.code == 0, result.output
    assert result.err.strip() == "valid: 1 tools, 0 errors, 0 warnings"


def test_an_explicit_null_document_is_refused_in_plain_words(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "tools.d" / "a.yaml").write_text(GOOD + "---\nnull\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert "tools.d/a.yaml:5:1: error: a document must be a mapping" in result.out
    assert "not null" in result.out
    assert "NoneType" not in result.output
