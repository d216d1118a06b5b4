"""Live Data Actions → tool definitions, for adopting an integration's actions (`export` on that target).

A tool definition can say what the compiler makes of it, no more: a POST of the inputs as JSON to an endpoint,
with context inputs the calling flow fills. An action is exported only when compiling the definition written for
it gives back exactly that action (so `plan` on the export is empty); the others are named, not guessed at. A
tool file's schemas are draft 2020-12, a contract's draft-04: the keywords the compiler rewrites are written back
in their 2020-12 form (`to_2020`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.compile import IGNORED_LABEL, PROTECTED_LABEL
from reconciler.compile.data_actions import action_input
from reconciler.errors import InputError
from reconciler.export import ExportedTool, export_tools
from reconciler.model import NAME_PATTERN, SourceLocation, Tool
from reconciler.state import Record
from reconciler.state.data_actions import MARKER_PREFIX, normalized_action

_NAME = re.compile(NAME_PATTERN)
_NOT_A_NAME = "(its name is not a tool name: letters, digits, '_' and '-', up to 64)"
_FILLED = re.compile(r"^Filled by the calling flow or guide from (.+)\.$")
_ESCAPES = {"${esc.d}": "$", "${esc.h}": "#", "${esc.b}": "\\"}
_SCHEMA_OWN = frozenset({"$schema", "title", "description", "id", "type", "properties", "required"})
_EXCLUSIVE = {"minimum": "exclusiveMinimum", "maximum": "exclusiveMaximum"}


@dataclass(frozen=True)
class ActionAsTool:
    """The ToolInput-shaped content a tool definition is written from, and the fields only actions have."""

    tool_input: dict[str, Any]
    extra: dict[str, Any]


def _unescaped(template: str) -> str | None:
    text = template
    for escape, character in _ESCAPES.items():
        text = text.replace(escape, "\x00" + character)
    if "$" in text.replace("\x00$", "") or "#" in text.replace("\x00#", ""):
        return None  # a template that references inputs: no endpoint of a tool definition says that
    return text.replace("\x00", "")


def to_2020(schema: Any) -> Any:
    """A contract's draft-04 schema in the tool file's dialect (draft 2020-12): the inverse of the compiler's
    `to_draft04` for the keywords it rewrites (boolean exclusive bounds, tuple `items` and `additionalItems`,
    `dependencies`); the round trip in `action_as_tool` checks that the file compiles back into the action."""
    if not isinstance(schema, Mapping):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, Mapping):
            result[key] = {name: to_2020(sub) for name, sub in value.items()}
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            result[key] = [to_2020(sub) for sub in value]
        elif key in ("not", "additionalProperties"):
            result[key] = to_2020(value)
        elif key == "items" and isinstance(value, list):
            result["prefixItems"] = [to_2020(sub) for sub in value]
            if "additionalItems" in schema:
                result["items"] = to_2020(schema["additionalItems"])
        elif key == "items":
            result[key] = to_2020(value)
        elif key == "additionalItems":
            continue  # with tuple `items` it became `items` above; beside one schema it says nothing
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            bound = schema.get("minimum" if key == "exclusiveMinimum" else "maximum")
            if value and bound is not None:
                result[key] = bound
        elif key in ("minimum", "maximum") and schema.get(_EXCLUSIVE[key]) is True:
            continue  # it is the exclusive bound, written above
        elif key == "dependencies" and isinstance(value, Mapping):
            for name, sub in value.items():
                if isinstance(sub, list):
                    result.setdefault("dependentRequired", {})[name] = sub
                else:
                    result.setdefault("dependentSchemas", {})[name] = to_2020(sub)
        else:
            result[key] = value
    return result


def action_as_tool(record: Record) -> ActionAsTool | None:
    """The tool definition that compiles into exactly this action, or None when there is none."""
    content = record.content
    request = (content.get("config") or {}).get("request") or {}
    schema = ((content.get("contract") or {}).get("input") or {}).get("inputSchema") or {}
    endpoint = _unescaped(str(request.get("requestUrlTemplate", "")))
    if endpoint is None or not isinstance(schema, Mapping):
        return None
    properties = dict(schema.get("properties") or {})
    context = {}
    for name, spec in list(properties.items()):
        found = _FILLED.match(str((spec or {}).get("description", ""))) if isinstance(spec, Mapping) else None
        if found and spec.get("type") == "string" and len(spec) == 2:
            context[name] = found.group(1)
            del properties[name]
        else:  # a tool file's schemas are draft 2020-12, the contract's draft-04
            properties[name] = to_2020(spec)
    required = [name for name in schema.get("required") or [] if name in properties]
    model_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        model_schema["required"] = required
    others = schema.get("additionalProperties")
    if others is True or isinstance(others, Mapping):
        model_schema["additionalProperties"] = to_2020(others)
    if set(schema) - _SCHEMA_OWN - {"additionalProperties"}:
        return None
    timeout = (content.get("config") or {}).get("timeoutSeconds")
    tool = Tool(
        name=record.name,
        description=str(schema.get("description", "")),
        endpoint=endpoint,
        schema=model_schema,
        location=SourceLocation("(export)"),
        context=context,
        timeout=float(timeout) if isinstance(timeout, int) else None,
        secure=bool(content.get("secure")),
    )
    try:
        rebuilt = action_input(
            tool, category=str(content.get("category")), integration_id=str(content.get("integrationId"))
        )
    except InputError:
        return None
    if normalized_action(rebuilt) != _without_marker(content):
        return None
    extra: dict[str, Any] = {}
    if tool.timeout is not None:
        extra["timeout"] = int(tool.timeout)
    if tool.secure:
        extra["secure"] = True
    tool_input: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "executionEndpoint": endpoint,
        "schema": model_schema,
    }
    if context:
        tool_input["context"] = context
    labels = {PROTECTED_LABEL: "true"} if record.protected else {}
    if record.ignored:  # the parts the org's team owns stay theirs after the export (as the Tools API's label)
        labels[IGNORED_LABEL] = ",".join(sorted({_IGNORED_AS_FIELD[path] for path in record.ignored}))
    if labels:
        tool_input["labels"] = labels
    return ActionAsTool(tool_input, extra)


_IGNORED_AS_FIELD = {
    "contract": "description",
    "config": "executionEndpoint",
    "contract.output": "outputSchema",
    "config.response": "outputSchema",
}
"""A path an action's marker names as ignored → a ToolInput field whose `ignore_changes` name ignores that path
(`description` keeps the whole contract, `endpoint` the whole config)."""


def _without_marker(content: Mapping[str, Any]) -> dict[str, Any]:
    normal = normalized_action(content)
    schema = normal.get("contract", {}).get("input", {}).get("inputSchema", {})
    if str(schema.get("id", "")).startswith(MARKER_PREFIX):
        schema.pop("id")
    return normal


def export_actions(
    live: Iterable[Record],
    *,
    managed_by: str,
    include_unmanaged: bool,
    sensitive: Mapping[str, str] = {},
    category: str | None = None,
) -> tuple[list[ExportedTool], list[str]]:
    """The actions as tool definitions (as `export_tools` writes tools), and the names of those no tool
    definition can express.

    `category` is the repository's (reconciler.yaml `category:`, else the integration's name). A tool file has
    no category, so the file of an unmanaged action of another category would adopt it into this one: such an
    action is named with the reason, not written. A managed one is written all the same: its category is
    reconciler.yaml's to decide (an action moved in the UI is drift, shown by plan), and leaving its file out
    would make the next plan delete it."""
    converted: list[Record] = []
    extras: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for record in live:
        if record.owner != managed_by and not include_unmanaged:
            continue
        if not _NAME.fullmatch(record.name):  # made in the UI ("Get Weather"): a file of it would not validate
            skipped.append(f"{record.name} {_NOT_A_NAME}")
            continue
        there = record.content.get("category")
        if category is not None and record.owner != managed_by and there != category:
            skipped.append(
                f"{record.name} (its category {there!r} is not this repository's {category!r}, and a tool file "
                f"cannot keep another: adopting it would move it; adopt it where reconciler.yaml says "
                f"`category: {there}`)"
            )
            continue
        found = action_as_tool(record)
        if found is None:
            skipped.append(record.name)
            continue
        converted.append(replace(record, content=found.tool_input))
        extras[record.name] = found.extra
    exported = export_tools(converted, managed_by=managed_by, include_unmanaged=include_unmanaged, sensitive=sensitive)
    documents = [replace(item, document={**item.document, **extras[item.document["name"]]}) for item in exported]
    return documents, sorted(skipped)


__all__ = ["ActionAsTool", "action_as_tool", "export_actions", "to_2020"]
