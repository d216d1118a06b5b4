"""Converted schemas put together: `allOf` merged, siblings of a `$ref`, `nullable`.

Pure functions on schemas that are already draft 2020-12; they build new mappings and never change their
arguments (converted schemas are shared between tools).
"""

from __future__ import annotations

from typing import Any, Final

from reconciler.compile.openapi import keywords as kw

_BLOCKS_MERGE: Final = frozenset(
    ("additionalProperties", "patternProperties", "unevaluatedProperties", "unevaluatedItems")
)
_BLOCKS_MERGE_ALWAYS: Final = _BLOCKS_MERGE - {"additionalProperties"}
"""Keywords that see the properties of every part: with them in more than one part, parts cannot merge
(`additionalProperties: true`, the default written out, is the one harmless case)."""
_LIFTED: Final = ("title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly")


def with_siblings(reference: Any, siblings: dict[str, Any]) -> Any:
    """A `$ref` and the keywords written beside it (3.1 allows both)."""
    if not siblings:
        return reference
    if isinstance(reference, dict) and "$ref" in reference:
        return {**reference, **siblings}
    if isinstance(reference, dict):
        merged = merge([siblings, reference])
        if merged is not None:
            return merged
    return {**siblings, "allOf": [*siblings.get("allOf", ()), reference]}


def single_reference(schema: dict[str, Any]) -> dict[str, Any]:
    """`{allOf: [{$ref: X}], …}` as `{$ref: X, …}`: the same in 2020-12, and easier to read."""
    parts = schema["allOf"]
    if len(parts) == 1 and isinstance(parts[0], dict) and set(parts[0]) == {"$ref"}:
        return {**{key: value for key, value in schema.items() if key != "allOf"}, **parts[0]}
    return schema


def merge(parts: list[Any]) -> dict[str, Any] | None:
    """One schema equal to the `allOf` of `parts`, or None when merging would change what they accept."""
    if not all(isinstance(part, dict) and "$ref" not in part for part in parts):
        return None
    holders = [p for p in parts if "properties" in p or not _BLOCKS_MERGE.isdisjoint(p)]
    if len(holders) > 1 and any(
        p.get("additionalProperties", True) is not True or not _BLOCKS_MERGE_ALWAYS.isdisjoint(p) for p in holders
    ):
        return None
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in merged:
                merged[key] = value
            elif key == "properties":
                if merged[key].keys().isdisjoint(value):  # the common case: each part adds its own properties
                    merged[key] = {**merged[key], **value}
                    continue
                combined = dict(merged[key])
                for name, schema in value.items():
                    if name in combined and combined[name] is not schema and combined[name] != schema:
                        return None
                    combined[name] = schema
                merged[key] = combined
            elif key == "required":
                merged[key] = [*merged[key], *(name for name in value if name not in merged[key])]
            elif key in kw.ANNOTATIONS:
                continue
            elif merged[key] != value:
                return None
    return merged


def nullable(schema: Any, *, fresh: bool = False) -> Any:
    """`schema` that also accepts null. `fresh`: the caller has just built `schema` and shares it with no one, so
    it is changed in place instead of copied (the one exception to this module's rule)."""
    if not isinstance(schema, dict) or not schema:
        return schema
    kind = schema.get("type")
    if kind is None:
        outer = {key: schema[key] for key in _LIFTED if key in schema}
        inner = {key: value for key, value in schema.items() if key not in outer}
        return {**outer, "anyOf": [inner, {"type": "null"}]} if inner else schema
    result = schema if fresh else dict(schema)
    if isinstance(kind, str) and kind != "null":
        result["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        result["type"] = [*kind, "null"]
    if isinstance(result.get("enum"), list) and None not in result["enum"]:
        result["enum"] = [*result["enum"], None]
    return result


__all__ = ["merge", "nullable", "single_reference", "with_siblings"]
