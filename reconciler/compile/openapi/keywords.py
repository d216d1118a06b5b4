"""The keywords an emitted schema may carry, and what their values must look like.

An OpenAPI schema is JSON Schema with additions (`nullable`, `discriminator`, `xml`, `example`, `x-…`) and,
in published descriptions, mistakes (`required: true` on a property, a `pattern` that Python cannot compile,
`type: file`). What the compiler emits must be valid under draft 2020-12, so it keeps only the 2020-12
keywords below, each with a value of the right shape, and drops everything else: dropping an annotation or an
unknown keyword never rejects an input the description accepted.

Keywords whose values are subschemas are converted by `schemas.py`; this module checks the rest, and `KINDS`
says which is which.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final

SUBSCHEMA: Final = frozenset(
    (
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    )
)
"""Keywords whose value is one subschema (`items` may also be a list: Swagger's and draft 4's tuple form)."""

TYPES: Final = frozenset(("array", "boolean", "integer", "null", "number", "object", "string"))

ANNOTATIONS: Final = frozenset(
    ("title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$comment")
)
"""Keywords that describe and never constrain: on a merge the first one written wins."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_anything(value: Any) -> bool:
    return True


def _is_positive(value: Any) -> bool:
    return _is_number(value) and value > 0


@functools.lru_cache(maxsize=4096)
def valid_pattern(pattern: str) -> bool:
    """True when Python can compile `pattern` (the `regex` format that draft 2020-12 validators check)."""
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return True


def _is_pattern(value: Any) -> bool:
    return isinstance(value, str) and valid_pattern(value)


SIMPLE: Final[dict[str, Any]] = {
    "title": _is_string,
    "description": _is_string,
    "format": _is_string,
    "pattern": _is_pattern,
    "$comment": _is_string,
    "contentEncoding": _is_string,
    "contentMediaType": _is_string,
    "default": _is_anything,
    "const": _is_anything,
    "minimum": _is_number,
    "maximum": _is_number,
    "multipleOf": _is_positive,
    "minLength": _is_count,
    "maxLength": _is_count,
    "minItems": _is_count,
    "maxItems": _is_count,
    "minProperties": _is_count,
    "maxProperties": _is_count,
    "minContains": _is_count,
    "maxContains": _is_count,
    "uniqueItems": _is_bool,
    "readOnly": _is_bool,
    "writeOnly": _is_bool,
    "deprecated": _is_bool,
}
"""Keywords kept as written when their value passes the check."""


def clean_type(value: Any) -> str | list[str] | None:
    """The `type` to emit (None: leave it out); Swagger's `file` is a string (the caller adds the format)."""
    if type(value) is str:
        return value if value in TYPES else ("string" if value == "file" else None)
    if type(value) is list and len(value) == 2:
        # 3.1's nullable types (`["string", "null"]`), the commonest list: two distinct JSON types, kept as they are
        first, second = value
        if type(first) is str and type(second) is str and first != second and first in TYPES and second in TYPES:
            return [first, second]
    if isinstance(value, list):
        kept: list[str] = []
        for item in value:
            if isinstance(item, str) and item in TYPES and item not in kept:
                kept.append(item)
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else kept
    return None


def clean_required(value: Any) -> list[str] | None:
    """The names of a `required` list, each once, in order (None when there are none)."""
    if not isinstance(value, list):
        return None
    names = [item for item in value if isinstance(item, str)]
    if len(set(names)) < len(names):
        names = list(dict.fromkeys(names))
    return names or None


def clean_enum(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) and value else None


def clean_dependent_required(value: Any) -> dict[str, list[str]] | None:
    if not isinstance(value, dict):
        return None
    result = {}
    for key, names in value.items():
        cleaned = clean_required(names)
        if cleaned is not None:
            result[key] = cleaned
    return result or None


def exclusive_bound(value: Any, bound: Any) -> Any:
    """OpenAPI 3.0 / Swagger write `exclusiveMinimum: true` next to `minimum`; 2020-12 wants the number."""
    if _is_number(value):
        return value
    if value is True and _is_number(bound):
        return bound
    return None


PLAIN: Final = 0
TYPE: Final = 1
PROPERTIES: Final = 2
MAP: Final = 3
LIST: Final = 4
ONE: Final = 5
CLEANED: Final = 6
SPECIAL: Final = 7
NULLABLE: Final = 8
TEXT: Final = 9
COUNT: Final = 10
EXAMPLE: Final = 11
KINDS: Final[dict[str, int]] = {
    **dict.fromkeys(SIMPLE, PLAIN),
    **{key: TEXT for key, check in SIMPLE.items() if check is _is_string},
    **{key: COUNT for key, check in SIMPLE.items() if check is _is_count},
    "type": TYPE,
    "properties": PROPERTIES,
    **dict.fromkeys(("patternProperties", "dependentSchemas"), MAP),
    **dict.fromkeys(("allOf", "anyOf", "oneOf", "prefixItems"), LIST),
    **dict.fromkeys(SUBSCHEMA, ONE),
    **dict.fromkeys(("required", "enum", "examples", "dependentRequired"), CLEANED),
    "example": EXAMPLE,
    **dict.fromkeys(("exclusiveMinimum", "exclusiveMaximum", "$ref", "$recursiveRef", "$dynamicRef"), SPECIAL),
    **dict.fromkeys(("nullable", "x-nullable"), NULLABLE),
}
"""What the converter does with each keyword it keeps; any other keyword is dropped. `special` handles both
CLEANED and SPECIAL keywords; a SPECIAL one also changes the rest of its schema (the converter finishes it).
NULLABLE is a SPECIAL keyword that a leaf schema can finish on its own (3.0's `nullable: true` is on most
properties of some descriptions). TEXT and COUNT are PLAIN keywords whose value must be a string (`description`,
`format`, `title`…) or a count (`minLength`, `maxItems`…), the commonest after `type`: the converter checks
them in line, as `_is_string` and `_is_count` do, without a call per keyword; so is EXAMPLE, the CLEANED keyword
`example` (3.0's single example, on most properties of some descriptions), as `special` does."""


def special(key: str, value: Any, node: dict[str, Any], result: dict[str, Any]) -> None:
    """Keywords whose value needs more than a check: cleaned, renamed, or read with their siblings."""
    if key == "required":
        names = clean_required(value)
        if names is not None:
            result[key] = names
    elif key == "enum":
        values = clean_enum(value)
        if values is not None:
            result[key] = values
    elif key == "examples":
        if isinstance(value, list):
            result[key] = value
    elif key == "example":
        if not isinstance(node.get("examples"), list):
            result["examples"] = [value]
    elif key in ("exclusiveMinimum", "exclusiveMaximum"):
        bound = exclusive_bound(value, node.get("minimum" if key == "exclusiveMinimum" else "maximum"))
        if bound is not None:
            result[key] = bound
    elif key == "dependentRequired":
        cleaned = clean_dependent_required(value)
        if cleaned is not None:
            result[key] = cleaned


__all__ = [
    "ANNOTATIONS",
    "CLEANED",
    "COUNT",
    "EXAMPLE",
    "KINDS",
    "NULLABLE",
    "SIMPLE",
    "SUBSCHEMA",
    "TEXT",
    "TYPES",
    "clean_dependent_required",
    "clean_enum",
    "clean_required",
    "clean_type",
    "exclusive_bound",
    "special",
    "valid_pattern",
]
