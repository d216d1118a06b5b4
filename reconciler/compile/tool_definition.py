"""A hand-written tool definition (DESIGN §3) → one Tool.

The document has passed the file-format check, so its shape is known; what is left to decide here is how the
shorthand `parameters` become a JSON Schema, and where each field was written.
"""

from __future__ import annotations

from typing import Any

from reconciler.load import Document
from reconciler.model import RateLimit, SourceLocation, Tool

_PARAMETER_ONLY_KEYS = frozenset({"required"})


def compile_tool_definition(document: Document) -> Tool:
    content = document.content
    if "schema" in content:
        schema = {key: value for key, value in content["schema"].items() if key != "$schema"}
        user_written = True
    else:
        schema = parameters_schema(content.get("parameters") or {})
        user_written = False
    return Tool(
        name=content["name"],
        description=content["description"],
        endpoint=content["endpoint"],
        schema=schema,
        location=document.location,
        context=dict(content.get("context") or {}),
        rate_limit=rate_limit(content.get("rate_limit")),
        labels=dict(content.get("labels") or {}),
        protected=bool(content.get("protected", False)),
        ignore_changes=tuple(content.get("ignore_changes") or ()),
        request=content.get("request"),
        origin="definition",
        schema_is_user_written=user_written,
        field_locations=_field_locations(document),
    )


def parameters_schema(parameters: dict[str, Any]) -> dict[str, Any]:
    """Shorthand parameters → an object schema; `required: true` moves into the schema's `required` list."""
    properties = {
        name: {key: value for key, value in spec.items() if key not in _PARAMETER_ONLY_KEYS}
        for name, spec in parameters.items()
    }
    required = [name for name, spec in parameters.items() if spec.get("required") is True]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def rate_limit(value: dict[str, Any] | None) -> RateLimit | None:
    if not value:
        return None
    return RateLimit(value.get("requests_per_minute"), value.get("burst_size"))


def _field_locations(document: Document) -> dict[str, SourceLocation]:
    content = document.content
    places: dict[str, SourceLocation] = {}
    for key, value in content.items():
        places[key] = document.locate(key)
        if key in ("parameters", "context", "labels", "rate_limit") and isinstance(value, dict):
            for inner in value:
                places[f"{key}.{inner}"] = document.locate(key, inner)
        elif key == "schema" and isinstance(value, dict) and isinstance(value.get("properties"), dict):
            for inner in value["properties"]:
                places[f"parameters.{inner}"] = document.locate(key, "properties", inner)
    return places
