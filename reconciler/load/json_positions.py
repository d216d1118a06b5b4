"""Line numbers for JSON descriptions, without parsing them a second time.

The loader's JSON parsers keep no positions; `Document.locate` recovers them by parsing
the whole file again through the YAML composer, which costs many times the parse itself. Published JSON
descriptions are pretty-printed with a constant indent, though, so the depth of a key is its indentation:
`JsonPositions` finds a key path by searching, inside its parent's lines, for the child key at the child's
indentation (literal-prefixed regular expressions over the raw bytes, so the scanning runs in C), and indexes
each container it searches once. Every container is located from its own parent, so a key that also appears
elsewhere in the file cannot be mistaken for it. `operations` places every operation of `paths` with one scan.
Files that are not laid out this way answer `None`, and the caller falls back to the exact, slow path.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence

_FIRST_KEY = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*[\[{][ \t]*\r?\n([ \t]+)[\"\[{]")
_KEY = rb'"((?:[^"\\\n]|\\.)*)"[ \t]*:'
Path = tuple[str | int, ...]


class JsonPositions:
    """Where keys and items of a pretty-printed JSON text are, as 1-based (line, column)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        match = _FIRST_KEY.match(data)
        self.unit = match.group(1) if match else b""
        self._indexes: dict[Path, dict[str | int, int]] = {}
        self._spans: dict[Path, tuple[int, int]] = {}
        self._known_offsets = [0]
        self._known_lines = {0: 1}

    @property
    def usable(self) -> bool:
        return bool(self.unit)

    def locate(self, path: Sequence[str | int]) -> tuple[int, int] | None:
        """The position of the key (or item) at the end of `path`, or None when it cannot be found."""
        if not self.unit:
            return None
        if not path:
            return (1, 1)
        offset = self._offset(tuple(path))
        if offset is None:
            return None
        return self._line_of(offset), len(self.unit) * len(path) + 1

    def operations(self, methods: Sequence[str], next_key: str | None) -> list[tuple[int, int]] | None:
        """The positions of the method keys of the path items written in `paths`, given in the order written
        (`methods`), or None when they are not all found, in that order, at the depth of a path item's keys,
        before `next_key` (the top-level key written after `paths`, if any). Each is searched for from the one
        before (`bytes.find`, whose needles end in rare bytes), so all of them cost one pass over `paths`.
        That `next_key` comes after the last of them is checked from the last one on: a top-level key's line
        is written once, so when it is found after the last method, every method found lies before it, inside
        `paths`, without a second pass over `paths` to find where it ends (a fifth of a large compile's scan)."""
        if not self.unit or not methods:
            return None
        data = self.data
        start = data.find(b"\n" + self.unit + b'"paths"')
        if start < 0:
            return None
        prefix = b"\n" + self.unit * 3 + b'"'
        found: list[int] = []
        offset = start
        for method in methods:
            offset = data.find(prefix + method.encode() + b'"', offset + 1)
            if offset < 0:
                return None
            found.append(offset + 1)
        after = b"\n" + self.unit + json.dumps(next_key, ensure_ascii=False).encode() if next_key is not None else b""
        if after and data.find(after, offset + 1) < 0:
            return None  # the last one is past `paths` (or `paths` is not laid out as expected)
        column = len(self.unit) * 3 + 1
        positions: list[tuple[int, int]] = []
        line, counted = 1, 0
        for offset in found:  # in order: one count over the text in all
            line += data.count(b"\n", counted, offset)
            counted = offset
            positions.append((line, column))
        return positions

    def _offset(self, path: Path) -> int | None:
        parent = path[:-1]
        index = self._indexes.get(parent)
        if index is None:
            if parent and self._offset(parent) is None:
                return None
            index = self._index(parent)
        return index.get(path[-1])

    def _index(self, parent: Path) -> dict[str | int, int]:
        """Every child of the container at `parent`, by key (or item number), with where each one ends."""
        start, end = self._spans.get(parent, (0, len(self.data)))
        indent = re.escape(self.unit * (len(parent) + 1))
        index: dict[str | int, int] = {}
        for match in re.compile(rb"\n" + indent + _KEY).finditer(self.data, start, end):
            index.setdefault(_key(match.group(1)), match.start() + 1)
        if not index:
            # a list: its items start on lines at the child indentation that do not close a container
            items = re.compile(rb"\n" + indent + rb"[^\s\]}]").finditer(self.data, start, end)
            index = {number: match.start() + 1 for number, match in enumerate(items)}
        offsets = sorted(index.values())
        ends = dict(zip(offsets, [*offsets[1:], end][: len(offsets)], strict=True))
        for key, offset in index.items():
            child = (*parent, key)
            self._spans[child] = (offset, ends[offset])
        self._indexes[parent] = index
        return index

    def _line_of(self, offset: int) -> int:
        """Counted from the nearest offset already known before it: lookups in order cost one pass in all."""
        line = self._known_lines.get(offset)
        if line is None:
            index = bisect.bisect_right(self._known_offsets, offset)
            known = self._known_offsets[index - 1]
            line = self._known_lines[known] + self.data.count(b"\n", known, offset)
            self._known_offsets.insert(index, offset)
            self._known_lines[offset] = line
        return line

    def find_ref(self, ref: str) -> tuple[int, int] | None:
        """The first `"$ref": "<ref>"` in the text (used only to place an error)."""
        for encoded in {json.dumps(ref), json.dumps(ref, ensure_ascii=False), json.dumps(ref).replace("/", "\\/")}:
            match = re.search(rb'"\$ref"\s*:\s*' + re.escape(encoded.encode()), self.data)
            if match:
                line = self.data.count(b"\n", 0, match.start()) + 1
                return line, match.start() - (self.data.rfind(b"\n", 0, match.start()) + 1) + 1
        return None


def _key(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if "\\" not in text:
        return text
    try:
        value = json.loads(f'"{text}"')
    except ValueError:
        return text
    return value if isinstance(value, str) else text


__all__ = ["JsonPositions"]
