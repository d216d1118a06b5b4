"""The plan as a pull-request comment: one sticky comment CI can find by its marker, kept under GitHub's size
limit by dropping whole per-tool blocks (never the summary) and saying how many were left out."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from reconciler.plan.model import Change, Plan
from reconciler.plan.render._redact import redact_plan, scrub, secret_pattern
from reconciler.plan.render._shared import (
    HEADERS,
    Row,
    attribute_rows,
    comments,
    encode,
    printable,
    summary_line,
)
from reconciler.words import plural

MARKER = "<!-- reconciler-plan -->"
COMMENT_LIMIT = 65_536
"""GitHub rejects an issue or PR comment longer than this many characters."""
WRAPPER_ROOM = 1_024
"""Left free under COMMENT_LIMIT by default, for the lines a workflow puts around the plan (the drift issue's
marker and preface), so that no workflow ever has to cut the plan again."""

TABLE_ROWS = (
    ("Create", "create"),
    ("Update", "update"),
    ("Adopt", "adopt"),
    ("Delete", "delete"),
    ("Unchanged", "unchanged"),
    ("Unmanaged", "unmanaged"),
)
# GitHub's diff highlighting colours `+` green, `-` red and `!` orange; `~` and `<=` would stay grey.
DIFF_SIGNS: dict[str, str] = {"+": "+", "-": "-", "~": "!", " ": " "}
TOOL_SIGNS: dict[str, str] = {"create": "+", "update": "!", "adopt": "!", "delete": "-", "keep": " "}
NAMES_SHOWN = 10


def render_markdown(plan: Plan, *, redact: Sequence[str] = (), limit: int = COMMENT_LIMIT - WRAPPER_ROOM) -> str:
    """The comment body, at most `limit` characters unless the summary alone is longer (it is never cut).
    Truncation happens here only, by whole blocks, so the result is always well-formed markdown."""
    pattern = secret_pattern(redact)
    plan = redact_plan(plan, redact)
    # Scrubbed piece by piece so the sizes measured below are the sizes sent.
    head = scrub(_head(plan), pattern)
    blocks = [scrub(_details(change, plan.noun), pattern) for change in plan.changes]
    return fit(head, blocks, limit)


def fit(head: str, blocks: Sequence[str], limit: int) -> str:
    """`head` and as many leading blocks as fit in `limit`, then a note counting the rest. The blocks kept
    are a prefix, in plan order, so "N more" means exactly the last N changes of the plan."""
    full = _join(head, blocks)
    if len(full) <= limit:
        return full
    # The note for the most omitted blocks is the longest, so reserving its size is always enough.
    budget = limit - len(_join(head, [_truncation_note(len(blocks))]))
    shown: list[str] = []
    for block in blocks:
        budget -= len(block) + 2
        if budget < 0:
            break
        shown.append(block)
    return _join(head, [*shown, _truncation_note(len(blocks) - len(shown))])


def _join(head: str, blocks: Sequence[str]) -> str:
    return "\n\n".join([head, *blocks]) + "\n"


def _truncation_note(count: int) -> str:
    return (
        f"> Plan truncated: {count} more {plural(count, 'change')} not shown. "
        "Run `reconciler plan` locally or see the JSON plan artifact."
    )


def _head(plan: Plan) -> str:
    """Everything before the per-tool blocks: the marker, title, the complete table and the warnings."""
    counts = plan.summary
    table = ["| Action | Count |", "| :-- | --: |"]
    table.extend(f"| {label} | {counts[key]} |" for label, key in TABLE_ROWS)
    if plan.kept:
        table.append(f"| Kept | {len(plan.kept)} |")
    parts = [f"{MARKER}\n### reconciler plan for {code(plan.target)}", "\n".join(table), f"**{summary_line(plan)}**"]
    deletes = [change for change in plan.changes if change.action == "delete"]
    if deletes:
        count = f"{len(deletes)} {plural(len(deletes), plan.noun)}"
        parts.append(f"> [!WARNING]\n> This plan destroys {count}: {_names(deletes)}.")
    if plan.drifted:
        drifted = plan.drifted
        one = len(drifted) == 1
        parts.append(
            f"> [!NOTE]\n> {len(drifted)} managed {plural(len(drifted), plan.noun)} {'was' if one else 'were'} edited "
            f"outside of git since the reconciler last wrote {'it' if one else 'them'} (drift): {_names(drifted)}. "
            "Unless the same edits are made in tools.d, this plan may undo them."
        )
    if plan.warnings:
        parts.append("> [!WARNING]\n" + "\n".join(f"> - {_inline(warning)}" for warning in plan.warnings))
    return "\n\n".join(parts)


def _names(changes: Sequence[Change]) -> str:
    """The first few names; a 500-tool plan must not turn its warning into a wall."""
    names = ", ".join(code(change.name) for change in changes[:NAMES_SHOWN])
    rest = len(changes) - NAMES_SHOWN
    return f"{names} and {rest} more" if rest > 0 else names


def _details(change: Change, noun: str = "tool") -> str:
    title = f"<code>{_inline(change.name)}</code> {HEADERS[change.action]}"
    if change.action == "keep" and change.reason:
        title += f": {_inline(change.reason)}"
    notes = comments(change)
    if notes:
        title += f" ({html.escape('; '.join(notes))})"
    body = _diff(change, noun)
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    return f"<details><summary>{title}</summary>\n\n{fence}diff\n{body}\n{fence}\n\n</details>"


def _diff(change: Change, noun: str = "tool") -> str:
    """Terraform's block, with each sign moved to the first column where GitHub's highlighter looks for it."""
    lines = [f"{TOOL_SIGNS[change.action]} {noun} {encode(change.name)} {{"]
    rows, hidden = attribute_rows(change)
    width = max((len(row.path) for row in rows), default=0)
    lines.extend(_diff_row(row, width) for row in rows)
    if hidden:
        lines.append(f"    # {hidden}")
    lines.append("  }")
    return "\n".join(lines)


def _diff_row(row: Row, width: int) -> str:
    # Unlike the text form, a removal needs no `-> null`: the red line already says it goes.
    value = {"~": f"{row.before} -> {row.after}", "-": row.before}.get(row.sign, row.after)
    return f"{DIFF_SIGNS[row.sign]}   {row.path.ljust(width)} = {value}"


def code(text: str) -> str:
    """An inline code span that survives backticks inside `text` (CommonMark: a longer fence)."""
    text = printable(text)
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(text: str) -> str:
    """Plan text inside HTML or a quote: escaped, so a tool name cannot open a tag or end the block."""
    return html.escape(printable(text))


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall("`+", text)), default=0)
