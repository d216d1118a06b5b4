"""Draft 2020-12 schemas (what the compiler makes) → the Data Actions contract dialect (draft-04 style).

Data Actions read a contract as JSON Schema draft-04 (`"$schema": "http://json-schema.org/draft-04/schema#"`),
and the API models a contract's top as a `JsonSchemaDocument`, which has room for `$schema`, `title`,
`description`, `type`, `required`, `properties` and `additionalProperties` only (nested schemas are free-form).
So:

- `$ref`s to the tool's `$defs` are inlined (the top has no `definitions` to point into); a definition that
  refers to itself cannot be inlined, and is an error.
- Keywords with a draft-04 spelling are rewritten: `const` → a one-value `enum`; numeric `exclusiveMinimum` /
  `exclusiveMaximum` → `minimum`/`maximum` with the boolean flag; `prefixItems` → `items` as a list (the
  2020-12 `items` then becomes `additionalItems`); `dependentRequired`/`dependentSchemas` → `dependencies`;
  boolean schemas → `{}` and `{"not": {}}`.
- OpenAPI's `int32`/`int64` formats become the `minimum`/`maximum` they mean, where none is written.
- Annotations that change nothing a validator accepts and that draft-04 lacks (`examples`, `deprecated`,
  `readOnly`, `writeOnly`, `$comment`, `content…`, `discriminator`, `xml`, `externalDocs`, `x-…`) are left out.
- Keywords that constrain values and have no draft-04 form (`if`/`then`/`else`, `contains`, `propertyNames`,
  `unevaluated…`, `$dynamicRef`, `$recursiveRef`, a `$ref` outside `$defs`) are errors: a contract that
  accepted more than the tool does would be a silent change.

Errors are `Unexpressible`, carrying the JSON path inside the schema, so the caller can name the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DRAFT_04 = "http://json-schema.org/draft-04/schema#"

_DROPPED = frozenset(
    {
        "examples",
        "example",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
        "discriminator",
        "xml",
        "externalDocs",
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$recursiveAnchor",
        "$schema",
        "$vocabulary",
    }
)
_REFUSED = {
    "if": "if/then/else",
    "then": "if/then/else",
    "else": "if/then/else",
    "contains": "contains",
    "minContains": "minContains",
    "maxContains": "maxContains",
    "propertyNames": "propertyNames",
    "unevaluatedProperties": "unevaluatedProperties",
    "unevaluatedItems": "unevaluatedItems",
    "$dynamicRef": "$dynamicRef",
    "$recursiveRef": "$recursiveRef (a recursive schema)",
}
_SCHEMA_MAPS = frozenset({"properties", "patternProperties"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SCHEMA_ONE = frozenset({"not", "additionalProperties", "additionalItems"})
_DEFS_PREFIX = "#/$defs/"
_FORMAT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
"""OpenAPI's integer formats are ranges: the contract states them (a draft-04 validator ignores `format`)."""
_EXCLUSIVE = {"minimum": "exclusiveMinimum", "maximum": "exclusiveMaximum"}


class Unexpressible(Exception):
    """A schema (or request) that a Data Action cannot express; `path` is where, inside the schema."""

    def __init__(self, path: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def to_draft04(schema: Any, defs: Mapping[str, Any], path: tuple[str, ...] = ()) -> Any:
    """`schema` (2020-12, its `$ref`s into `defs`) in the draft-04 dialect; raises Unexpressible."""
    return _convert(schema, defs, path, ())


def _convert(schema: Any, defs: Mapping[str, Any], path: tuple[str, ...], stack: tuple[str, ...]) -> Any:
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    if not isinstance(schema, Mapping):
        raise Unexpressible(path, f"a schema must be an object, not {schema!r}")
    if "$ref" in schema:
        return _inline(schema, defs, path, stack)
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED or key.startswith("x-") or key in ("$defs", "definitions"):
            continue
        if key in _REFUSED:
            raise Unexpressible((*path, key), f"{_REFUSED[key]} has no form in a Data Action contract (draft-04)")
        here = (*path, key)
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            result[key] = {name: _convert(sub, defs, (*here, name), stack) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            result[key] = [_convert(sub, defs, (*here, str(i)), stack) for i, sub in enumerate(value)]
        elif key in _SCHEMA_ONE:
            result[key] = value if isinstance(value, bool) and key != "not" else _convert(value, defs, here, stack)
        elif key == "items":
            if "prefixItems" in schema:
                result["additionalItems"] = value if isinstance(value, bool) else _convert(value, defs, here, stack)
            elif isinstance(value, list):  # already draft-04's tuple form
                result[key] = [_convert(sub, defs, (*here, str(i)), stack) for i, sub in enumerate(value)]
            else:
                result[key] = _convert(value, defs, here, stack)
        elif key == "prefixItems" and isinstance(value, list):
            result["items"] = [_convert(sub, defs, (*here, str(i)), stack) for i, sub in enumerate(value)]
        elif key == "const":
            result["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and _numeric(value):
            _exclusive(result, schema, key, value)
        elif key == "dependentRequired" and isinstance(value, Mapping):
            result.setdefault("dependencies", {}).update({name: list(names) for name, names in value.items()})
        elif key == "dependentSchemas" and isinstance(value, Mapping):
            converted = {name: _convert(sub, defs, (*here, name), stack) for name, sub in value.items()}
            result.setdefault("dependencies", {}).update(converted)
        elif key == "dependencies" and isinstance(value, Mapping):
            result.setdefault("dependencies", {}).update(
                {
                    name: list(sub) if isinstance(sub, list) else _convert(sub, defs, (*here, name), stack)
                    for name, sub in value.items()
                }
            )
        elif key in ("minimum", "maximum") and _numeric(schema.get(_EXCLUSIVE[key])):
            continue  # decided with its exclusive bound, whichever comes first
        else:
            result[key] = value
    bounds = _FORMAT_BOUNDS.get(result.get("format"))  # type: ignore[arg-type]
    if bounds is not None:
        result.setdefault("minimum", bounds[0])
        result.setdefault("maximum", bounds[1])
    return result


def _inline(schema: Mapping[str, Any], defs: Mapping[str, Any], path: tuple[str, ...], stack: tuple[str, ...]) -> Any:
    reference = schema["$ref"]
    if not isinstance(reference, str) or not reference.startswith(_DEFS_PREFIX):
        raise Unexpressible(path, f"$ref {reference!r} points outside the tool's schema")
    name = reference[len(_DEFS_PREFIX) :].replace("~1", "/").replace("~0", "~")
    if reference in stack:
        raise Unexpressible(path, f"schema {name!r} refers to itself: a Data Action contract cannot be recursive")
    if name not in defs:
        raise Unexpressible(path, f"$ref {reference!r} names no definition")
    siblings = {key: value for key, value in schema.items() if key != "$ref"}
    target = _convert(defs[name], defs, path, (*stack, reference))
    if not siblings:
        return target
    # `$ref` beside other keywords (2020-12) means both apply: draft-04 would ignore the siblings.
    return {"allOf": [target, _convert(siblings, defs, path, stack)]}


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _exclusive(result: dict[str, Any], schema: Mapping[str, Any], key: str, bound: Any) -> None:
    inclusive = "minimum" if key == "exclusiveMinimum" else "maximum"
    other = schema.get(inclusive)
    lower = key == "exclusiveMinimum"
    if _numeric(other) and (other > bound if lower else other < bound):
        result[inclusive] = other  # the inclusive bound is the stricter one
        return
    result[inclusive] = bound
    result[key] = True


__all__ = ["DRAFT_04", "Unexpressible", "to_draft04"]
