from __future__ import annotations

import re

import pytest

from reconciler.plan.model import MISSING, Change, FieldChange, Plan
from reconciler.plan.render import COMMENT_LIMIT, MARKER, render_markdown

TABLE = ["| Create |", "| Update |", "| Adopt |", "| Delete |", "| Unchanged |", "| Unmanaged |"]
TRUNCATED = "> Plan truncated:"


def big_plan(count: int = 500) -> Plan:
    """`count` updated tools, each with several field changes and long-ish values."""
    changes = tuple(
        Change(
            action="update",
            name=f"tool_{index:04d}",
            id=f"00000000-0000-4000-8000-{index:012d}",
            reason="changed in tools.d",
            fields=(
                FieldChange("description", f"Old description of tool {index}. " * 3, f"New description {index}. " * 3),
                FieldChange("schema.properties.sku.type", "string", "integer"),
                FieldChange("schema.required", ["sku"], ["sku", "warehouse"]),
                FieldChange("labels.team", MISSING, "commerce"),
                FieldChange("context.user_id", "conversation.user_id", MISSING),
            ),
            unchanged_fields=6,
        )
        for index in range(count)
    )
    return Plan(changes=changes, target="org example (mypurecloud.com)", unchanged=40, unmanaged=3, managed=540)


def test_a_large_plan_is_truncated_under_the_limit_with_the_complete_table() -> None:
    plan = big_plan()
    markdown = render_markdown(plan)
    assert len(markdown) <= COMMENT_LIMIT
    assert markdown.startswith(MARKER + "\n")
    assert "| Update | 500 |" in markdown
    assert "| Unchanged | 40 |" in markdown
    assert "| Unmanaged | 3 |" in markdown
    assert all(row in markdown for row in TABLE)
    shown = markdown.count("<details>")
    assert shown == markdown.count("</details>") > 0
    note = re.search(r"> Plan truncated: (\d+) more changes not shown\. Run `reconciler plan` locally", markdown)
    assert note is not None
    assert shown + int(note.group(1)) == 500
    assert markdown.rstrip().endswith("JSON plan artifact.")
    # the blocks kept are the first ones, in plan order
    assert "tool_0000" in markdown
    assert f"tool_{shown - 1:04d}" in markdown
    assert f"<code>tool_{shown:04d}</code>" not in markdown


@pytest.mark.parametrize("limit", [3_000, 3_500, 4_000, 6_000, 9_999, 20_000])
def test_truncation_respects_any_limit_and_keeps_whole_blocks(limit: int) -> None:
    markdown = render_markdown(big_plan(40), limit=limit)
    assert len(markdown) <= limit
    assert markdown.count("<details>") == markdown.count("</details>")
    assert markdown.count("```") % 2 == 0
    assert TRUNCATED in markdown


def test_a_plan_that_fits_exactly_is_not_truncated() -> None:
    full = render_markdown(big_plan(5))
    assert render_markdown(big_plan(5), limit=len(full)) == full
    assert TRUNCATED in render_markdown(big_plan(5), limit=len(full) - 1)


def test_a_small_plan_is_complete(plans: dict[str, Plan]) -> None:
    markdown = render_markdown(plans["full"])
    assert TRUNCATED not in markdown
    assert markdown.count("<details>") == len(plans["full"].changes)


def test_the_summary_is_never_cut_even_when_it_alone_is_too_long() -> None:
    markdown = render_markdown(big_plan(3), limit=10)
    assert all(row in markdown for row in TABLE)
    assert "> Plan truncated: 3 more changes not shown." in markdown
    assert "<details>" not in markdown


def test_destroy_warning_names_how_many() -> None:
    deletes = tuple(Change(action="delete", name=f"old_{i:02d}", id=str(i)) for i in range(12))
    markdown = render_markdown(Plan(changes=deletes, target="t"))
    assert "> [!WARNING]\n> This plan destroys 12 tools: `old_00`, `old_01`" in markdown
    assert "`old_09` and 2 more." in markdown


def test_no_warning_or_drift_note_when_not_needed() -> None:
    markdown = render_markdown(Plan(changes=(Change(action="update", name="u", id="1"),), target="t"))
    assert "[!WARNING]" not in markdown
    assert "[!NOTE]" not in markdown


def test_diff_lines_start_with_a_sign_github_colours(plans: dict[str, Plan]) -> None:
    markdown = render_markdown(plans["full"])
    bodies = re.findall(r"```diff\n(.*?)\n```", markdown, flags=re.S)
    assert len(bodies) == len(plans["full"].changes)
    signs = {line[:2] for body in bodies for line in body.splitlines()}
    assert signs <= {"+ ", "- ", "! ", "  "}


def test_hostile_names_cannot_break_out_of_html_or_fences() -> None:
    name = "x</code></summary><script>alert(1)</script>"
    description = "```\n</details>\n# heading"
    change = Change(action="create", name=name, after={"name": name, "description": description})
    markdown = render_markdown(Plan(changes=(change,), target="a `tick` target"))
    summary = next(line for line in markdown.splitlines() if line.startswith("<details>"))
    assert summary == (
        "<details><summary><code>x&lt;/code&gt;&lt;/summary&gt;&lt;script&gt;alert(1)&lt;/script&gt;</code>"
        " will be created</summary>"
    )
    # inside the fence the text is literal; the fence is longer than any backtick run in it
    assert "````diff\n" in markdown
    assert markdown.splitlines().count("</details>") == 1
    assert "### reconciler plan for ``a `tick` target``" in markdown
