"""The plan for terminals and logs, laid out like `terraform plan` so reviewers read it without a guide."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from reconciler.plan.model import Change, Plan
from reconciler.plan.render._redact import redact_plan, scrub, secret_pattern
from reconciler.plan.render._shared import (
    Row,
    attribute_rows,
    comments,
    encode,
    footnotes,
    header,
    printable,
    summary_line,
)

SYMBOLS: dict[str, str] = {"create": "+", "update": "~", "delete": "-", "adopt": "<="}
LEGEND: dict[str, str] = {"create": "create", "update": "update in-place", "delete": "destroy", "adopt": "adopt"}
COLORS: dict[str, str] = {"+": "green", "~": "yellow", "-": "red", "<=": "cyan"}

Paint = Callable[..., str]


def render_text(plan: Plan, *, color: bool = False, redact: Sequence[str] = ()) -> str:
    """The whole plan as text ending in a newline; ANSI colour only when `color` is true."""
    plan = redact_plan(plan, redact)
    paint: Paint = click.style if color else _plain
    sections: list[str] = []
    if plan.drifted:
        sections.append(_drift_section(plan, paint))
    if plan.is_empty:
        # Nothing to do, but a held delete is still worth a line: someone may expect it gone.
        sections.extend(_block(change, paint, plan.noun) for change in plan.kept)
    else:
        sections.append(_legend(plan, paint))
        sections.append("Reconciler will perform the following actions:")
        sections.extend(_block(change, paint, plan.noun) for change in plan.changes)
    sections.append("\n".join([paint(summary_line(plan), bold=True), *footnotes(plan)]))
    if plan.warnings:
        sections.append("\n".join(f"{paint('Warning:', fg='yellow', bold=True)} {printable(w)}" for w in plan.warnings))
    # A last pass for a secret that only appears once the pieces are joined; the values were redacted above.
    return scrub("\n\n".join(sections) + "\n", secret_pattern(redact))


def _plain(text: str, **_: object) -> str:
    return text


def _sign(symbol: str, paint: Paint) -> str:
    return paint(symbol, fg=COLORS.get(symbol))


def _legend(plan: Plan, paint: Paint) -> str:
    """Only the symbols this plan uses, in Terraform's order."""
    counts = plan.summary
    used = [action for action in SYMBOLS if counts[action]]
    lines = ["Resource actions are indicated with the following symbols:"]
    lines.extend(f"  {_sign(SYMBOLS[action], paint)} {LEGEND[action]}" for action in used)
    return "\n".join(lines)


def _drift_section(plan: Plan, paint: Paint) -> str:
    """Like Terraform's "Objects have changed outside of Terraform": said first and apart from the actions,
    because an edit made in the console is about to be overwritten and someone may want to keep it."""
    names = "\n".join(
        paint(f"  # {printable(c.name)} has changed outside of reconciler", bold=True) for c in plan.drifted
    )
    return "\n\n".join(
        [
            paint("Changed outside of reconciler", bold=True),
            f"These managed {plan.noun}s were edited outside of git since the reconciler last wrote them:",
            names,
            "Unless the same edits are made in tools.d, the plan below may undo them.",
        ]
    )


def _block(change: Change, paint: Paint, noun: str = "tool") -> str:
    lines = [paint(f"  # {header(change)}", bold=True)]
    lines.extend(f"  # ({note})" for note in comments(change))
    if change.action == "keep":
        return "\n".join(lines)
    lines.append(f"  {_sign(SYMBOLS[change.action], paint)} {noun} {encode(change.name)} {{")
    rows, hidden = attribute_rows(change)
    width = max((len(row.path) for row in rows), default=0)
    lines.extend(_row(row, width, paint) for row in rows)
    if hidden:
        lines.append(f"        # {hidden}")
    lines.append("    }")
    return "\n".join(lines)


def _row(row: Row, width: int, paint: Paint) -> str:
    path = row.path.ljust(width)
    if row.sign == " ":
        return f"        {path} = {row.after}"
    if row.sign == "+":
        value = row.after
    elif row.sign == "-":
        value = f"{row.before} -> null"
    else:
        value = f"{row.before} -> {row.after}"
    return f"      {_sign(row.sign, paint)} {path} = {value}"
