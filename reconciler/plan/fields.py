"""Field-level differences between two ToolInput payloads, Terraform-style: dotted paths, whole lists.

A small differ over plain JSON data (kopf's `diff` is the model): maps are walked key by key, and anything
else, lists included, is compared whole, so a change inside a list reads as a change of the list rather than
of an index path. Order is ignored where JSON Schema gives it no meaning (a schema's `required`) and kept
where it has one (`enum`, `items`). Values compare by type too: `true` is not `1`, and `1` is not `1.0`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.compile import SCHEMA_FIELDS, canonical_json, sort_required
from reconciler.plan.model import MISSING, FieldChange

Path = tuple[str, ...]
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
"""Maps of names to schemas: there a key named `required` is a property, not the keyword."""


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[tuple[FieldChange, ...], int]:
    """The attributes that differ, sorted by path, and how many leaf attributes of `after` are unchanged."""
    changed = sorted(_changed_paths(before, after, (), schema=False, in_map=False))
    changes = tuple(FieldChange(".".join(path), _get(before, path), _get(after, path)) for path in changed)
    return changes, _count_leaves(after) - _covered_leaves(after, changed)


def _changed_paths(left: Any, right: Any, path: Path, *, schema: bool, in_map: bool) -> Iterator[Path]:
    """`schema`: inside the payload's `schema` or `outputSchema`; `in_map`: `left`/`right` map names to schemas."""
    if _is_map(left) and _is_map(right):
        if left == right and _same(left, right):  # most of a payload is unchanged: not walked key by key
            return
        for key in left.keys() | right.keys():
            inner = (*path, str(key))
            if key not in left or key not in right:
                yield inner
            elif schema and key == "required" and not in_map and _names(left[key]) and _names(right[key]):
                if sorted(left[key]) != sorted(right[key]):  # the order of `required` means nothing
                    yield inner
            else:
                inside = schema or (not path and key in SCHEMA_FIELDS)
                yield from _changed_paths(
                    left[key], right[key], inner, schema=inside, in_map=inside and key in SCHEMA_MAPS and not in_map
                )
    elif not _same(left, right) and not (schema and _same(sort_required(left), sort_required(right))):
        yield path  # (a list of schemas, `anyOf` say, may differ only in the order of their `required`)


_LEAVES = (str, int, float, type(None), list)


def _is_map(value: Any) -> bool:
    """`isinstance(value, Mapping)`, answered without the (slower) abstract check for plain JSON data: the
    differ asks it of every value of both payloads."""
    return isinstance(value, dict) or (not isinstance(value, _LEAVES) and isinstance(value, Mapping))


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _same(left: Any, right: Any) -> bool:
    if type(left) is not type(right):
        return False
    if isinstance(left, (list, dict)):
        # the C encoder compares nested data fast and, unlike `==`, keeps `true` apart from `1` inside it
        return left == right and canonical_json(left) == canonical_json(right)
    return bool(left == right)


def _get(value: Any, path: Path) -> Any:
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return MISSING
    return value


def _covered_leaves(after: Mapping[str, Any], changed: list[Path]) -> int:
    """How many leaves of `after` a change covers: those at or inside a changed path, and a leaf (a value, or
    an empty map) that holds one. Changed paths never nest, so the counts add up."""
    inside, holders = 0, set()
    for path in changed:
        value: Any = after
        depth = 0
        for part in path:
            if not (isinstance(value, dict) and part in value):
                break
            value, depth = value[part], depth + 1
        if depth == len(path):
            inside += _count_leaves(value)
        elif depth and not (isinstance(value, dict) and value):
            holders.add(path[:depth])
    return inside + len(holders)


def _count_leaves(value: Any) -> int:
    if isinstance(value, dict) and value:
        return sum(_count_leaves(inner) for inner in value.values())
    return 1


__all__ = ["field_changes"]
