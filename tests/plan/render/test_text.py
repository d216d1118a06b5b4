from __future__ import annotations

import re

import click
import pytest

from reconciler.plan.model import MISSING, Change, FieldChange, Plan
from reconciler.plan.render import render_text

TARGET = "test"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plan_of(*changes: Change, unmanaged: int = 0) -> Plan:
    return Plan(changes=changes, target=TARGET, unmanaged=unmanaged)


def change(action: str, name: str = "t", **kwargs: object) -> Change:
    return Change(action=action, name=name, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actions", "summary"),
    [
        (("create",), "Plan: 1 to add, 0 to change, 0 to destroy."),
        (("update", "update", "delete"), "Plan: 0 to add, 2 to change, 1 to destroy."),
        (("adopt", "update"), "Plan: 1 to adopt, 0 to add, 2 to change, 0 to destroy."),
        (("keep",), "No changes. The registry matches tools.d."),
        ((), "No changes. The registry matches tools.d."),
    ],
)
def test_summary_line(actions: tuple[str, ...], summary: str) -> None:
    text = render_text(plan_of(*(change(a, f"t{i}") for i, a in enumerate(actions))))
    assert summary in text.splitlines()


@pytest.mark.parametrize(
    ("actions", "legend"),
    [
        (("create",), ["  + create"]),
        (("delete", "update"), ["  ~ update in-place", "  - destroy"]),
        (("adopt", "create"), ["  + create", "  <= adopt"]),
    ],
)
def test_legend_lists_only_the_symbols_used(actions: tuple[str, ...], legend: list[str]) -> None:
    lines = render_text(plan_of(*(change(a, f"t{i}") for i, a in enumerate(actions)))).splitlines()
    start = lines.index("Resource actions are indicated with the following symbols:")
    end = lines.index("Reconciler will perform the following actions:")
    assert lines[start + 1 : end - 1] == legend


def test_an_empty_plan_has_no_legend() -> None:
    assert render_text(plan_of()) == "No changes. The registry matches tools.d.\n"


def test_counts_of_tools_left_alone_are_printed_only_when_nonzero() -> None:
    text = render_text(plan_of(change("keep", reason="protected"), change("keep", "u"), unmanaged=1))
    assert "1 unmanaged tool in the registry left alone." in text
    assert "2 managed tools kept instead of destroyed." in text
    assert "left alone" not in render_text(plan_of(change("create")))


def test_drift_section_comes_before_the_actions() -> None:
    text = render_text(plan_of(change("update", "a", id="1"), change("update", "b", id="2", drift=True)))
    assert text.index("Changed outside of reconciler") < text.index("Reconciler will perform the following actions:")
    assert "  # b has changed outside of reconciler" in text
    assert "  # a has changed" not in text


def test_field_lines_show_old_and_new_values() -> None:
    fields = (
        FieldChange("a.added", MISSING, {"x": [1, 2]}),
        FieldChange("b.removed", "gone", MISSING),
        FieldChange("c.changed", 1, None),
    )
    text = render_text(plan_of(change("update", id="i", fields=fields, unchanged_fields=1)))
    assert '      + a.added   = {"x": [1, 2]}' in text
    assert '      - b.removed = "gone" -> null' in text
    assert "      ~ c.changed = 1 -> null" in text
    assert "        # (1 unchanged attribute hidden)" in text


def test_changes_keep_plan_order() -> None:
    text = render_text(plan_of(change("update", "zeta", id="1"), change("update", "alpha", id="2")))
    assert text.index("# zeta") < text.index("# alpha")


def test_color_only_when_asked() -> None:
    plan = plan_of(change("create", after={"name": "t"}), change("delete", "d", id="1"), change("update", "u", id="2"))
    plain, colored = render_text(plan), render_text(plan, color=True)
    assert "\x1b[" not in plain
    assert ANSI.sub("", colored) == plain
    assert click.style("+", fg="green") in colored
    assert click.style("-", fg="red") in colored
    assert click.style("~", fg="yellow") in colored
    assert click.style("  # d will be destroyed", bold=True) in colored


def test_terminal_control_characters_in_plan_data_are_escaped() -> None:
    hostile = "evil\x1b[2J\x9b31m\u202etxt"
    plan = plan_of(change("update", hostile, id="1", reason=hostile, fields=(FieldChange("d", "a", hostile),)))
    text = render_text(plan)
    for char in "\x1b\x9b\u202e":
        assert char not in text
    assert "evil\\u001b[2J\\u009b31m\\u202etxt" in text
