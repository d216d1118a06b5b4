"""Containers that remember where they were written.

Loaded YAML becomes plain `dict`/`list` subclasses, so every later stage can treat it as JSON, while errors can
still ask where a key or an item came from. Marks are kept as the parser made them (0-based line and column)
and only turned into `SourceLocation`s when an error needs one: most nodes never do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from reconciler.model import SourceLocation


class Mark(Protocol):
    line: int
    column: int


class LocatedDict(dict[str, Any]):
    """A mapping with the place of the mapping itself and of each of its keys."""

    __slots__ = ("key_marks", "mark")

    def __init__(self, mark: Mark | None = None) -> None:
        super().__init__()
        self.mark = mark
        self.key_marks: dict[str, Mark] = {}


class LocatedList(list[Any]):
    """A sequence with the place of the sequence itself and of each item."""

    __slots__ = ("item_marks", "mark")

    def __init__(self, mark: Mark | None = None) -> None:
        super().__init__()
        self.mark = mark
        self.item_marks: list[Mark] = []


def location(file: str, mark: Mark | None) -> SourceLocation:
    if mark is None:
        return SourceLocation(file)
    return SourceLocation(file, mark.line + 1, mark.column + 1)


def locate(file: str, root: Any, path: Sequence[str | int]) -> SourceLocation:
    """The place of `path` inside `root`, or of its deepest ancestor that has one."""
    best: Mark | None = getattr(root, "mark", None)
    node = root
    for part in path:
        if isinstance(node, LocatedDict) and isinstance(part, str) and part in node:
            best = node.key_marks.get(part, best)
            node = node[part]
        elif isinstance(node, LocatedList) and isinstance(part, int) and 0 <= part < len(node):
            best = node.item_marks[part] if part < len(node.item_marks) else best
            node = node[part]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
        inner = getattr(node, "mark", None)
        if inner is not None and not isinstance(node, (LocatedDict, LocatedList)):
            best = inner
    return location(file, best)


def key_location(file: str, mapping: Any, key: str) -> SourceLocation:
    if isinstance(mapping, LocatedDict):
        return location(file, mapping.key_marks.get(key, mapping.mark))
    return SourceLocation(file)


def item_location(file: str, sequence: Any, index: int) -> SourceLocation:
    if isinstance(sequence, LocatedList) and 0 <= index < len(sequence.item_marks):
        return location(file, sequence.item_marks[index])
    return location(file, getattr(sequence, "mark", None))


def node_location(file: str, node: Any) -> SourceLocation:
    return location(file, getattr(node, "mark", None))
