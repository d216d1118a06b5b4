"""Field-level differences between two ToolInput payloads, Terraform-style: dotted paths, whole lists.

A small differ over plain JSON data (kopf's `diff` is the model): maps are walked key by key, and anything
else, lists included, is compared whole, so a change inside a list reads as a change of the list rather than
of an index path. Order is ignored where JSON Schema gives it no meaning (a schema's `required`) and kept
where it has one (`enum`, `items`). Values compare by type too: `true` is not `1`, and `1` is not `1.0`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from reconciler.compile import SCHEMA_FIELDS, SCHEMA_MAPS, canonical_json, sort_required
from reconciler.plan.model import MISSING, FieldChange, address

Path = tuple[str, ...]


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[tuple[FieldChange, ...], int]:
    """The attributes that differ, sorted by path, and how many leaf attributes of `after` are unchanged."""
    changed = changed_paths(before, after)
    return changes_at(before, after, changed), unchanged_leaves(after, changed)


def changed_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Path]:
    """The paths of the attributes that differ, sorted: what `field_changes` reports, without building it (a
    plan asks first whether anything but bookkeeping changed, and most tools of a large plan are unchanged)."""
    found: list[Path] = []
    _collect(before, after, (), found, schema=False, in_map=False)
    return sorted(found)


def changes_at(before: Mapping[str, Any], after: Mapping[str, Any], paths: list[Path]) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(address(path), _get(before, path), _get(after, path)) for path in paths)


def unchanged_leaves(after: Mapping[str, Any], paths: list[Path]) -> int:
    """How many leaf attributes of `after` no changed path covers."""
    return _count_leaves(after) - _covered_leaves(after, paths) if paths else _count_leaves(after)


def _collect(left: Any, right: Any, path: Path, found: list[Path], *, schema: bool, in_map: bool) -> None:
    """`schema`: inside the payload's `schema` or `outputSchema`; `in_map`: `left`/`right` map names to schemas."""
    if _is_map(left) and _is_map(right):
        if left == right and _same(left, right):  # most of a payload is unchanged: not walked key by key
            return
        keys = left.keys()
        if keys != right.keys():  # (nearly always the same keys: then no union is built)
            for key in keys ^ right.keys():
                found.append((*path, str(key)))
            keys = keys & right.keys()
        for key in keys:
            before, after = left[key], right[key]
            kind = type(before)
            if kind is type(after):
                if before == after:
                    if kind in _SCALARS:
                        continue  # an equal string or number (most values): the same, without a call
                    if kind is dict and _encoded(before) == _encoded(after):
                        continue  # an equal map (most of them): the same, without a call
                elif kind in _SCALARS:
                    found.append((*path, str(key)))  # a changed string or number: a change, without a call
                    continue
            if schema and key == "required" and not in_map and _names(before) and _names(after):
                if sorted(before) != sorted(after):  # the order of `required` means nothing
                    found.append((*path, str(key)))
            else:
                inside = schema or (not path and key in SCHEMA_FIELDS)
                _collect(
                    before,
                    after,
                    (*path, str(key)),
                    found,
                    schema=inside,
                    in_map=inside and key in SCHEMA_MAPS and not in_map,
                )
    elif not _same(left, right) and not (schema and _same(sort_required(left), sort_required(right))):
        found.append(path)  # (a list of schemas, `anyOf` say, may differ only in the order of their `required`)


_LEAVES = (str, int, float, type(None), list)
_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Types whose equal values are the same JSON (`==` tells `1` from `1.0` and `true` from `1` once types match)."""


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
        # `==` first (C, and most values differ or match there); then an encoding, which unlike `==` keeps
        # `true` apart from `1`, and `1` from `1.0`, inside nested data
        return left == right and _encoded(left) == _encoded(right)
    return bool(left == right)


def _encoded(value: Any) -> bytes:
    """Equal for equal JSON values only: orjson (fast; `==` has already matched NaN, which it writes as null,
    with nothing), and the standard library for what orjson refuses (an integer past 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        return canonical_json(value).encode()


def _get(value: Any, path: Path) -> Any:
    for part in path:
        if _is_map(value) and part in value:
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
    """Leaves of `value`: values that are not maps, and empty maps (with a stack: it runs over every change)."""
    if not (isinstance(value, dict) and value):
        return 1
    count, stack = 0, [value]
    while stack:
        for inner in stack.pop().values():
            if isinstance(inner, dict) and inner:
                stack.append(inner)
            else:
                count += 1
    return count


__all__ = ["changed_paths", "changes_at", "field_changes", "unchanged_leaves"]
