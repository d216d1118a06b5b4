"""A tool's schemas are sent as written, and `serve` compiles them to check the model's arguments: every `$ref`
and `$dynamicRef` in them must land inside the same schema. A remote one made the tool service fetch its URL
(jsonschema-rs resolves over HTTP; the service now builds its validators offline), one to a file of the
repository means nothing to the registry, and one that points at nothing fails every call. OpenAPI-derived
tools arrive with their references resolved by the compiler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import orjson

from reconciler.errors import Diagnostic
from reconciler.model import Tool

_REFERENCES = ("$ref", "$dynamicRef")
"""The keywords that refer to another schema: jsonschema-rs resolves both the same way."""
_ANCHORS = ("$anchor", "$dynamicAnchor")


def check_schema_refs(tool: Tool) -> Iterator[Diagnostic]:
    """An error for each `$ref` of the tool's input and output schemas that leaves its schema or lands on
    nothing, at the place it is written."""
    shorthand = not tool.schema_is_user_written
    yield from _check(tool, tool.schema, "schema", "parameters" if shorthand else "schema", shorthand)
    if tool.output_schema is not None:
        yield from _check(tool, tool.output_schema, "output_schema", "output_schema", False)


def _check(tool: Tool, schema: Any, shown: str, field: str, shorthand: bool) -> Iterator[Diagnostic]:
    if not _mentions_ref(schema):  # most schemas: one C-level look instead of three walks (plan of 10,000 tools)
        return
    ids = {node["$id"] for node, _ in _nodes(schema) if isinstance(node.get("$id"), str)}
    anchors = {node[key] for node, _ in _nodes(schema) for key in _ANCHORS if isinstance(node.get(key), str)}
    for node, path, keyword in ((n, p, k) for n, p in _nodes(schema) for k in _REFERENCES if k in n):
        ref = node[keyword]
        if not isinstance(ref, str):
            continue
        location, _, fragment = ref.partition("#")
        if location and location not in ids:
            problem = (
                "points outside the tool's schema; the registry and the tool service take the schema alone: put "
                "what it refers to under $defs and refer to '#/$defs/NAME'"
            )
        elif location or _lands(schema, unquote(fragment), anchors):
            continue  # a resource the schema itself names by $id: resolved within it
        else:
            problem = f"points at nothing in the tool's {shown}"
        place = _field(path, field, shorthand, keyword)
        yield Diagnostic(
            "error", tool.location_of(place), f"{keyword} {ref!r} of '{tool.name}' {problem}", "schema-ref"
        )


def _mentions_ref(schema: Any) -> bool:
    """Whether `$ref` or `$dynamicRef` is written anywhere in the schema (a key of that name, or text holding it:
    then walk)."""
    try:
        text = orjson.dumps(schema)
        return b'"$ref"' in text or b'"$dynamicRef"' in text
    except TypeError:  # (orjson.JSONEncodeError too) a value JSON cannot hold: the walk says what it finds
        return True


def _lands(schema: Any, fragment: str, anchors: set[str]) -> bool:
    if not fragment.startswith("/"):
        return not fragment or fragment in anchors
    node = schema
    for written in fragment[1:].split("/"):
        part = written.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _nodes(schema: Any) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    """Every mapping of the schema with its path of keys, without recursion (a schema may nest deeply)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(schema, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            yield node, path
            stack.extend((value, (*path, str(key))) for key, value in node.items() if isinstance(value, (dict, list)))
        elif isinstance(node, list):
            stack.extend((value, (*path, str(index))) for index, value in enumerate(node))


def _field(path: tuple[str, ...], field: str, shorthand: bool, keyword: str) -> str:
    """The written field a schema path comes from: shorthand parameters are `properties` of the schema."""
    if shorthand:
        path = path[1:] if path[:1] == ("properties",) else ()
    return ".".join((field, *path, keyword))
