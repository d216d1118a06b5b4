"""Live Data Actions → tool definitions, for adopting an integration's actions (`export` on that target).

A tool definition can say what the compiler makes of it, no more: a POST of the inputs as JSON to an endpoint,
with context inputs the calling flow fills. An action is exported only when compiling the definition written
for it gives back exactly that action (so `plan` on the export is empty); the others are named, not guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.compile import PROTECTED_LABEL
from reconciler.compile.data_actions import action_input
from reconciler.errors import InputError
from reconciler.export import ExportedTool, export_tools
from reconciler.model import SourceLocation, Tool
from reconciler.state import Record
from reconciler.state.data_actions import MARKER_PREFIX, normalized_action

_FILLED = re.compile(r"^Filled by the calling flow or guide from (.+)\.$")
_ESCAPES = {"${esc.d}": "$", "${esc.h}": "#", "${esc.b}": "\\"}
_SCHEMA_OWN = frozenset({"$schema", "title", "description", "id", "type", "properties", "required"})


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
    required = [name for name in schema.get("required") or [] if name in properties]
    model_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        model_schema["required"] = required
    if schema.get("additionalProperties") is True:
        model_schema["additionalProperties"] = True
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
    if record.protected:
        tool_input["labels"] = {PROTECTED_LABEL: "true"}
    return ActionAsTool(tool_input, extra)


def _without_marker(content: Mapping[str, Any]) -> dict[str, Any]:
    normal = normalized_action(content)
    schema = normal.get("contract", {}).get("input", {}).get("inputSchema", {})
    if str(schema.get("id", "")).startswith(MARKER_PREFIX):
        schema.pop("id")
    return normal


def export_actions(
    live: Iterable[Record], *, managed_by: str, include_unmanaged: bool, sensitive: Mapping[str, str] = {}
) -> tuple[list[ExportedTool], list[str]]:
    """The actions as tool definitions (as `export_tools` writes tools), and the names of those no tool
    definition can express."""
    converted: list[Record] = []
    extras: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for record in live:
        if record.owner != managed_by and not include_unmanaged:
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


__all__ = ["ActionAsTool", "action_as_tool", "export_actions"]
