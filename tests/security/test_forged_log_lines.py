"""A pull request's tools.d can name things (parameters, labels, files) with line breaks and escape sequences.
Whatever quotes those names as text must keep them on one line, escaped: a line break would start a line of its
own in the CI log, and a line starting with `::` is a GitHub workflow command (a forged `::error` annotation, or
`::add-mask::`, `::stop-commands::`); an escape sequence would rewrite the reviewer's terminal."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FORGED = "q\\n::error file=README.md,line=1::forged\\u001b]0;title\\u0007\\u202e"
TOOL = f"""name: t1
description: d
endpoint: https://tools.example.com/x
schema:
  type: object
  properties:
    "{FORGED}": {{type: string}}
"""


def _assert_no_forged_line(text: str) -> None:
    for line in text.splitlines():
        assert not line.lstrip().startswith("::error file=README"), line
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


@pytest.mark.parametrize("argv", [("validate",), ("plan",), ("render",), ("validate", "--format", "github")])
def test_a_name_with_a_line_break_stays_on_its_line(repo: Path, run: Callable[..., Any], argv: tuple[str]) -> None:
    (repo / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")
    result = run(*argv)
    assert result.code == 1
    assert "forged" in result.output  # the finding is still shown, escaped
    _assert_no_forged_line(result.output)


def test_findings_past_the_annotation_limit_stay_on_their_lines(repo: Path, run: Callable[..., Any]) -> None:
    """`--format github` prints findings past GitHub's ten annotations as plain log lines."""
    tools = "---\n".join(TOOL.replace("t1", f"t{i}") for i in range(12))
    (repo / "tools.d" / "a.yaml").write_text(tools, encoding="utf-8")
    result = run("validate", "--format", "github")
    assert result.code == 1
    assert "more findings not annotated" in result.output
    _assert_no_forged_line(result.output)


def test_a_file_name_with_a_line_break_stays_on_its_line(repo: Path, run: Callable[..., Any]) -> None:
    """git stores any file name but NUL and `/`: one with a line break is one `git add` away."""
    folder = repo / "tools.d" / "x\n::error file=README.md,line=1::forged"
    folder.mkdir()
    (folder / "b.yaml").write_text("name: t2\n", encoding="utf-8")
    for argv in (("validate",), ("plan",)):
        result = run(*argv)
        assert result.code == 1
        assert "missing required key 'description'" in result.output
        _assert_no_forged_line(result.output)


@pytest.mark.parametrize("output", ["text", "github"])
def test_a_conversation_file_name_with_a_line_break_stays_on_its_line(
    repo: Path, run: Callable[..., Any], output: str
) -> None:
    """`reconciler test` runs in the pull-request workflow too: it names each conversation file it ran."""
    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "tools.d", repo / "tools.d", dirs_exist_ok=True)
    conversation = (root / "conversations.d" / "order_status.yaml").read_text(encoding="utf-8")
    folder = repo / "conversations.d"
    folder.mkdir()
    (folder / "pass\n::warning file=README.md::forged.yaml").write_text(conversation, encoding="utf-8")
    wrong = conversation.replace("reply_contains: shipped", "reply_contains: delivered", 1)
    (folder / "wrong\n::warning file=README.md::forged.yaml").write_text(wrong, encoding="utf-8")
    result = run("test", "--format", output)
    assert result.code == 1, result.output
    assert "delivered" in result.output
    for line in result.output.splitlines():
        assert not line.lstrip().startswith("::warning file=README"), line
