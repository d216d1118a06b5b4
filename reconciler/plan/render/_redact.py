"""Secrets out of a plan before it is shown: values of sensitive variables become `(sensitive)`.

Redaction works on the data, before any value is encoded, so a secret is caught whatever the output format
escapes it into (JSON `\\"`, HTML `&quot;`); `scrub` is a last pass over finished text for the rare secret that
only appears once pieces are put together.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.compile import canonical_bytes
from reconciler.plan.model import MISSING, Change, FieldChange, Plan
from reconciler.redaction import REDACTED, value_pattern


def secret_pattern(secrets: Sequence[str]) -> re.Pattern[str] | None:
    """One alternation, longest first, so a secret containing another is replaced whole, in a single pass that
    never rewrites its own `(sensitive)` marker (a short value only where it stands alone: see
    `reconciler.redaction.SHORT`)."""
    return value_pattern(secrets)


def scrub(text: str, pattern: re.Pattern[str] | None) -> str:
    return text if pattern is None else pattern.sub(REDACTED, text)


def redact_value(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """Strings (keys too) have every secret replaced; a number whose text holds a secret is replaced whole,
    since half a number would not be a value. A map or list that holds no secret is returned as it is."""
    if pattern is None or value is MISSING:
        return value
    if isinstance(value, (dict, list)) and not _may_hold(value, pattern):
        return value
    return _redacted(value, pattern)


def _may_hold(value: dict[str, Any] | list[Any], pattern: re.Pattern[str]) -> bool:
    """False only when no string, key or number of `value` holds a secret, told by one search of its JSON text
    (a plan shows every changed tool whole, before and after; walking each string was most of its rendering).
    Text without a backslash has no escape, so each string, key and number stands in it as it is, between
    quotes or punctuation: what the search does not find, no search of a single piece would."""
    try:
        data = canonical_bytes(value)  # numbers as json.dumps writes them, which is what `_redacted` searches
    except (TypeError, ValueError):  # not JSON data (a key that is no string, NaN): piece by piece
        return True
    return b"\\" in data or pattern.search(data.decode()) is not None


def _redacted(value: Any, pattern: re.Pattern[str]) -> Any:
    if value is MISSING:
        return value
    if isinstance(value, str):
        return scrub(value, pattern)
    if isinstance(value, Mapping):
        return {scrub(str(key), pattern): _redacted(inner, pattern) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item, pattern) for item in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and pattern.search(json.dumps(value)):
        return REDACTED
    return value


def redact(value: Any, secrets: Sequence[str]) -> Any:
    """`value` (any JSON data) with every secret replaced by (sensitive)."""
    return redact_value(value, secret_pattern(secrets))


def redact_plan(plan: Plan, secrets: Sequence[str]) -> Plan:
    """The same plan with every secret replaced in every string it holds."""
    pattern = secret_pattern(secrets)
    if pattern is None:
        return plan
    return dataclasses.replace(
        plan,
        target=scrub(plan.target, pattern),
        changes=tuple(_redact_change(change, pattern) for change in plan.changes),
        warnings=tuple(scrub(warning, pattern) for warning in plan.warnings),
    )


def _redact_change(change: Change, pattern: re.Pattern[str]) -> Change:
    def optional(text: str | None) -> str | None:
        return None if text is None else scrub(text, pattern)

    return dataclasses.replace(
        change,
        name=scrub(change.name, pattern),
        id=optional(change.id),
        reason=scrub(change.reason, pattern),
        before=redact_value(change.before, pattern),
        after=redact_value(change.after, pattern),
        fields=tuple(
            FieldChange(scrub(f.path, pattern), redact_value(f.before, pattern), redact_value(f.after, pattern))
            for f in change.fields
        ),
        digest=optional(change.digest),
        source=optional(change.source),
    )
