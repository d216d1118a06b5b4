"""A hand-written tool definition (DESIGN §3) → one Tool.

The document has passed the file-format check, so its shape is known; what is left to decide here is how the
shorthand `parameters` become a JSON Schema, and where each field was written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
        field_locations=DocumentPlaces(document),
        timeout=float(content["timeout"]) if "timeout" in content else None,
        secure=content.get("secure") is True,
        output_schema=_output_schema(content.get("output_schema")),
    )


def _output_schema(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A written `output_schema` without its `$schema` (the payload states the dialect, as for `schema`)."""
    return None if value is None else {key: item for key, item in value.items() if key != "$schema"}


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


class DocumentPlaces(Mapping[str, SourceLocation]):
    """Where each field of a tool definition was written, looked up only when an error asks (most never do).

    Keys are dotted field names (`description`, `parameters.sku`, `rate_limit.burst_size`); parameters of a
    full `schema` answer as `parameters.<name>` too."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def _path(self, key: str) -> list[str] | None:
        parts = key.split(".")
        content = self.document.content
        if parts[0] == "parameters" and "schema" in content:
            parts = ["schema", "properties", *parts[1:]]
        node: Any = content
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return parts

    def __getitem__(self, key: str) -> SourceLocation:
        path = self._path(key)
        if path is None:
            raise KeyError(key)
        return self.document.locate(*path)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._path(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.document.content)

    def __len__(self) -> int:
        return len(self.document.content)
