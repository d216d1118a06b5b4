"""What the text and markdown renderers share: attribute rows, headers, the summary line, safe strings.

A change becomes rows (sign, path, old, new) once, here; each format only decides how a row looks, so the
terminal and the PR comment can never disagree about what a plan does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from reconciler.plan.model import Change, FieldChange, Plan, step
from reconciler.words import plural

HEADERS: dict[str, str] = {
    "create": "will be created",
    "update": "will be updated in-place",
    "adopt": "will be adopted",
    "delete": "will be destroyed",
    "keep": "will be kept",
}
DRIFT_NOTE = "changed outside of reconciler"

# Control characters and bidi overrides in a tool name or description could rewrite a reviewer's terminal or
# reorder what they read (Trojan Source); they are shown as \u escapes instead.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable(text: str) -> str:
    """A string from the plan, safe to print on one line."""
    return _UNSAFE.sub(_escape, text)


def printable_json(text: str) -> str:
    """Serialized JSON made safe to `cat`: json.dumps already escapes C0 controls; these escapes decode to the
    same value, and the structure itself (newlines, indentation) is left alone."""
    return _UNSAFE_IN_JSON.sub(_escape, text)


def encode(value: Any) -> str:
    """A value as a JSON one-liner: strings quoted, objects and lists inline with sorted keys."""
    if type(value) is str:  # most values: orjson quotes a string as the standard library does, in a tenth of the time
        try:
            return printable(orjson.dumps(value).decode())
        except TypeError:  # orjson.JSONEncodeError: a lone surrogate, which the standard library writes as it is
            pass
    elif type(value) is int:
        return repr(value)  # the digits json.dumps writes
    return printable(json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str))


def flatten(value: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Leaf attributes by path (their `address`), sorted. Lists stay whole: their order means something (`enum`)."""
    leaves: list[tuple[str, Any]] = []
    for key in sorted(value, key=str):
        path = prefix + step(str(key), first=not prefix)
        inner = value[key]
        if isinstance(inner, Mapping) and inner:
            leaves.extend(flatten(inner, path))
        else:
            leaves.append((path, inner))
    return leaves


@dataclass(frozen=True)
class Row:
    """One attribute line. `sign` is `+`, `-`, `~`, or ` ` for a line shown for context (the id)."""

    sign: str
    path: str
    before: str | None = None
    after: str | None = None


def field_row(change: FieldChange) -> Row:
    path = printable(change.path)
    if change.kind == "add":
        return Row("+", path, after=encode(change.after))
    if change.kind == "remove":
        return Row("-", path, before=encode(change.before))
    return Row("~", path, before=encode(change.before), after=encode(change.after))


def attribute_rows(change: Change) -> tuple[list[Row], str | None]:
    """The rows of a change and the comment for what is hidden (`4 unchanged attributes hidden`), if anything.

    A create shows everything it will send; an update only what differs; a delete or keep only its id, since
    the whole live tool would bury the one fact that matters: it goes (or stays)."""
    if change.action == "create":
        if change.after is not None:
            return [Row("+", printable(path), after=encode(value)) for path, value in flatten(change.after)], None
        return [field_row(field) for field in change.fields], None
    rows = [Row(" ", "id", after=encode(change.id))] if change.id is not None else []
    if change.action in ("delete", "keep"):
        hidden = len(flatten(change.before)) if change.before else 0
        return rows, _hidden(hidden, "")
    rows.extend(field_row(field) for field in change.fields)
    return rows, _hidden(change.unchanged_fields, "unchanged ")


def _hidden(count: int, adjective: str) -> str | None:
    if count <= 0:
        return None
    return f"({count} {adjective}{plural(count, 'attribute')} hidden)"


def header(change: Change) -> str:
    """`check_inventory will be updated in-place`; a keep says why it stays."""
    text = f"{printable(change.name)} {HEADERS[change.action]}"
    if change.action == "keep" and change.reason:
        text += f": {printable(change.reason)}"
    return text


def comments(change: Change) -> list[str]:
    """Why a change happens, where it is not obvious from its header: a delete or adoption gives its reason
    (the planner's; `no longer in tools.d` if it gave none), so does an update that changes no field (a draft it
    replaces), and a drifted tool says it was edited outside git."""
    notes: list[str] = []
    if change.action in ("delete", "adopt"):
        notes.append(printable(change.reason or "no longer in tools.d"))
    elif change.action == "update" and not change.fields and change.reason:  # no field to show why
        notes.append(printable(change.reason))
    if change.drift:
        notes.append(DRIFT_NOTE)
    return notes


def summary_line(plan: Plan) -> str:
    if plan.is_empty:
        return "No changes. The registry matches tools.d."
    counts = plan.summary
    # Terraform counts an imported-and-updated resource as a change and names the imports first; so do we.
    core = f"{counts['create']} to add, {counts['update'] + counts['adopt']} to change, {counts['delete']} to destroy."
    return f"Plan: {counts['adopt']} to adopt, {core}" if counts["adopt"] else f"Plan: {core}"


def footnotes(plan: Plan) -> list[str]:
    """The tools the plan leaves alone, one line per kind, only when there are any."""
    notes: list[str] = []
    if plan.unmanaged:
        notes.append(f"{plan.unmanaged} unmanaged {plural(plan.unmanaged, plan.noun)} in the registry left alone.")
    kept = len(plan.kept)
    if kept:
        notes.append(f"{kept} managed {plural(kept, plan.noun)} kept instead of destroyed.")
    return notes
