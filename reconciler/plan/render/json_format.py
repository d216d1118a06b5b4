"""The plan for machines: a versioned document with sorted keys, the same bytes for the same plan.

`format_version` changes only when a key is removed or changes meaning; new keys may appear without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.compile import indented_json
from reconciler.plan.model import Plan
from reconciler.plan.render._redact import redact_plan
from reconciler.plan.render._shared import printable_json


def render_json(plan: Plan, *, redact: Sequence[str] = ()) -> str:
    """The JSON document: sorted keys, indent 2, a trailing newline."""
    document = plan_to_json(redact_plan(plan, redact))
    return printable_json(indented_json(document, allow_nan=False)) + "\n"


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The JSON form as plain data (fresh dicts and lists, nothing shared with the plan)."""
    return {
        "format_version": plan.format_version,
        "target": plan.target,
        "summary": dict(plan.summary),
        "changes": [change.to_json() for change in plan.changes],
        "warnings": list(plan.warnings),
    }
