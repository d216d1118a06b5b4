"""Live tools → tools.d documents, for adopting an existing org. `plan` on the result is empty.

A schema simple enough for the shorthand is written as `parameters`; anything richer is kept whole under
`schema`. Strings are escaped so that loading them back does not interpolate `${…}` that was never a variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.compile import OWNERSHIP_LABELS, PROTECTED_LABEL
from reconciler.plan import live_input
from reconciler.plan.render import secret_pattern
from reconciler.state import Record

PARAMETER_KEYS = frozenset(
    {
        "type", "description", "enum", "const", "default", "examples", "format", "pattern", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "minItems", "maxItems",
        "uniqueItems", "items", "properties", "additionalProperties",
    }
)  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class ExportedTool:
    filename: str
    document: dict[str, Any]
    managed: bool


def export_tools(
    live: Iterable[Record],
    *,
    managed_by: str,
    include_unmanaged: bool,
    sensitive: Mapping[str, str] = {},
) -> list[ExportedTool]:
    """`sensitive` maps variable names to secret values: where a value occurs in a live tool, the file gets
    `${NAME}` instead, so the secret stays out of git and loading the file puts it back."""
    exported: list[ExportedTool] = []
    used: set[str] = set()
    for record in sorted(live, key=lambda r: r.name):
        managed = record.owner == managed_by
        if not managed and not include_unmanaged:
            continue
        document = tool_document(record.content, sensitive)
        exported.append(ExportedTool(_filename(record.name, used), document, managed))
    return exported


def tool_document(live: Mapping[str, Any], sensitive: Mapping[str, str] = {}) -> dict[str, Any]:
    """One live tool as a tool definition (DESIGN §3), keys in the order people write them, with its strings
    written so that loading them back gives the same values (see `_for_file`)."""
    payload = live_input(live)
    labels = dict(payload.get("labels") or {})
    document: dict[str, Any] = {
        "name": payload.get("name", ""),
        "description": payload.get("description", ""),
        "endpoint": payload.get("executionEndpoint", ""),
    }
    schema = {k: v for k, v in (payload.get("schema") or {"type": "object"}).items() if k != "$schema"}
    parameters = shorthand_parameters(schema)
    if parameters is not None:
        if parameters:
            document["parameters"] = parameters
    else:
        document["schema"] = schema
    if payload.get("context"):
        document["context"] = dict(payload["context"])
    rate = payload.get("rateLimit") or {}
    if rate:
        document["rate_limit"] = {
            key: rate[source]
            for key, source in (("requests_per_minute", "requestsPerMinute"), ("burst_size", "burstSize"))
            if source in rate
        }
    own = {k: v for k, v in labels.items() if k not in OWNERSHIP_LABELS}
    if own:
        document["labels"] = own
    if labels.get(PROTECTED_LABEL) == "true":
        document["protected"] = True
    if payload.get("request"):
        document["request"] = payload["request"]
    secrets = {value: name for name, value in sensitive.items() if len(value) >= MIN_SECRET_LENGTH}
    pattern = secret_pattern([*secrets, "${"])
    assert pattern is not None  # "${" is always in it
    written: dict[str, Any] = _map_strings(document, lambda text: _for_file(text, pattern, secrets))
    return written


def shorthand_parameters(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The shorthand form of an object schema, or None when only the full schema says it all."""
    if set(schema) - {"type", "properties", "required"} or schema.get("type") != "object":
        return None
    properties = schema.get("properties") or {}
    required = schema.get("required") or []
    if not isinstance(properties, dict) or not isinstance(required, list) or set(required) - set(properties):
        return None
    if list(required) != [name for name in properties if name in required]:
        return None  # the shorthand would reorder `required`; harmless, but the round trip should be exact
    parameters: dict[str, Any] = {}
    for name, spec in properties.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str) or set(spec) - PARAMETER_KEYS:
            return None
        parameters[name] = {**spec, **({"required": True} if name in required else {})}
    return parameters


def _filename(name: str, used: set[str]) -> str:
    stem = _UNSAFE.sub("_", name)[:64] or "tool"
    candidate, counter = stem, 2
    while candidate.lower() in used:  # case-insensitive file systems
        candidate, counter = f"{stem}_{counter}", counter + 1
    used.add(candidate.lower())
    return f"{candidate}.yaml"


MIN_SECRET_LENGTH = 6
"""Shorter values would be replaced wherever those few characters happen to occur."""


def _for_file(text: str, pattern: re.Pattern[str], secrets: Mapping[str, str]) -> str:
    """Each secret value replaced by its variable (the secret stays out of git, and loading the file puts it
    back), and every other `${` escaped (the loader would read it as a variable). One pass, longest match
    first: a secret that holds `${` is still found, and no replacement is searched again for a secret."""
    return pattern.sub(lambda found: "$${" if found[0] == "${" else "${" + secrets[found[0]] + "}", text)


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: _map_strings(inner, change) for key, inner in value.items()}
    if isinstance(value, list):
        return [_map_strings(inner, change) for inner in value]
    return value
