"""The plan for machines: a versioned document with sorted keys, the same bytes for the same plan.

`format_version` changes only when a key is removed or changes meaning; new keys may appear without it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson

from reconciler.compile import orjson_floats_differ
from reconciler.plan.model import Plan
from reconciler.plan.render._redact import redact_plan
from reconciler.plan.render._shared import printable_json


def render_json(plan: Plan, *, redact: Sequence[str] = ()) -> str:
    """The JSON document: sorted keys, indent 2, a trailing newline."""
    document = plan_to_json(redact_plan(plan, redact))
    return printable_json(_indented(document)) + "\n"


def _indented(document: dict[str, Any]) -> str:
    """orjson (C: the standard library's indenting encoder is pure Python, a tenth of the speed on a plan of
    thousands of changes), unless it may write a float otherwise (`orjson_floats_differ`), wrote null for a NaN
    or an infinity (the standard library refuses them: read back, such a document differs from the plan's), or
    refuses the data (an integer past 64 bits, a lone surrogate): then the standard library, as always."""
    try:
        data = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        data = None
    if data is None or orjson_floats_differ(data) or (b"null" in data and orjson.loads(data) != document):
        return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return data.decode()


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The JSON form as plain data (fresh dicts and lists, nothing shared with the plan)."""
    return {
        "format_version": plan.format_version,
        "target": plan.target,
        "summary": dict(plan.summary),
        "changes": [change.to_json() for change in plan.changes],
        "warnings": list(plan.warnings),
    }
