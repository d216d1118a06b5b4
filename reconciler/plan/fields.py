"""Field-level differences between two ToolInput payloads, Terraform-style: dotted paths, whole lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deepdiff import DeepDiff

from reconciler.compile import canonical_json, sort_required
from reconciler.plan.model import MISSING, FieldChange


def comparable(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as the diff sees it: `required` lists sorted (their order means nothing), the rest as is
    (`enum` and `items` lists keep their order: it means something)."""
    result = dict(payload)
    if isinstance(result.get("schema"), Mapping):
        result["schema"] = sort_required(result["schema"])
    return result


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[tuple[FieldChange, ...], int]:
    """The attributes that differ, sorted by path, and how many leaf attributes of `after` are unchanged.

    A change inside a list is reported as a change of the whole list, which reads better than index paths."""
    left, right = comparable(before), comparable(after)
    if canonical_json(left) == canonical_json(right):
        # Most tools are unchanged; the C encoder tells in microseconds what DeepDiff takes a millisecond for,
        # and unlike `==` it keeps `true` apart from `1` and `1` from `1.0`.
        return (), len(_leaf_paths(right))
    diff = DeepDiff(left, right, view="tree", verbose_level=2)
    paths: set[tuple[str | int, ...]] = set()
    for levels in diff.values():
        for level in levels:
            path: list[str | int] = level.path(output_format="list")
            for index, part in enumerate(path):
                if isinstance(part, int):
                    path = path[:index]
                    break
            paths.add(tuple(path))
    changes = []
    for key in sorted(paths, key=lambda p: [str(part) for part in p]):
        old, new = _get(left, key), _get(right, key)
        if old != new:
            changes.append(FieldChange(_dotted(key), old, new))
    changed = {change.path for change in changes}
    unchanged = sum(1 for path in _leaf_paths(right) if not any(_covers(c, path) for c in changed))
    return tuple(changes), unchanged


def _get(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return MISSING
    return value


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def _covers(changed: str, path: str) -> bool:
    return path == changed or path.startswith(changed + ".") or changed.startswith(path + ".")


def _leaf_paths(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, Mapping) and value:
        paths: list[str] = []
        for key, inner in value.items():
            paths.extend(_leaf_paths(inner, f"{prefix}.{key}" if prefix else str(key)))
        return paths
    return [prefix]
