"""The plan for machines: a versioned document with sorted keys, the same bytes for the same plan.

`format_version` changes only when a key is removed or changes meaning; new keys may appear without it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.plan.model import MISSING, Change, FieldChange, Plan
from reconciler.plan.render._redact import redact_plan
from reconciler.plan.render._shared import printable_json


def render_json(plan: Plan, *, redact: Sequence[str] = ()) -> str:
    """The JSON document: sorted keys, indent 2, a trailing newline."""
    document = plan_to_json(redact_plan(plan, redact))
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return printable_json(text) + "\n"


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The JSON form as plain data (fresh dicts and lists, nothing shared with the plan)."""
    return {
        "format_version": plan.format_version,
        "target": plan.target,
        "summary": dict(plan.summary),
        "changes": [_change(change) for change in plan.changes],
        "warnings": list(plan.warnings),
    }


def _change(change: Change) -> dict[str, Any]:
    return {
        "action": change.action,
        "name": change.name,
        "id": change.id,
        "drift": change.drift,
        "reason": change.reason,
        "before": _data(change.before),
        "after": _data(change.after),
        "fields": [_field(field) for field in change.fields],
    }


def _field(field: FieldChange) -> dict[str, Any]:
    # An absent side is null; `kind` tells it apart from a field whose value is null.
    return {"path": field.path, "kind": field.kind, "before": _data(field.before), "after": _data(field.after)}


def _data(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, Mapping):
        return {str(key): _data(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [_data(item) for item in value]
    return value
