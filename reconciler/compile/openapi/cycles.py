"""The referenced schemas of one compile, and which of them take part in a cycle of references.

`ReferenceGraph` resolves each referenced schema once (and answers `marked` for a property, `readOnly` or
`writeOnly`, through its `allOf` and `$ref`s). `CycleFinder` tells which referenced schemas are on a cycle.

A schema that can reach itself through `$ref`s (or `$recursiveRef`) must stay a named definition that refers
to itself; any other referenced schema may be inlined or merged. Deciding this from the graph of references,
rather than from what the compiler happens to be converting when it meets a reference, makes every tool's
schema a function of the description alone, whatever else is compiled with it: a tool's digest must not change
because another operation was included.

The converter walks that graph depth first anyway (it converts each referenced schema once, the ones it
refers to first), so the strongly connected components are found during that walk, by Tarjan's algorithm,
instead of by a walk of their own: the converter says when it starts a referenced schema (`enter`), meets a
reference to one it already started (`reach`), and finishes one (`leave`). When the converter needs to know
whether a schema it has started is on a cycle, the answer is already exact: either its component is complete,
or it is still open below a schema being converted, which it can reach and which reaches it. The graph is the
one the output has: references in schema positions that are converted (not in examples, enums, extensions,
or the properties a direction leaves out: read-only ones from what is sent, write-only ones from answers).
"""

from __future__ import annotations

from typing import Any, Final

from reconciler.compile.openapi.refs import Files, NodeKey, RefError, Resolved, SourceFile

_MARK_DEPTH: Final = 48
"""How deep `marked` looks through `allOf` parts and `$ref`s (the converter's own MAX_DEPTH)."""


class CycleFinder:
    """Tarjan's algorithm, driven by the depth-first walk of a converter (see the module docstring)."""

    def __init__(self) -> None:
        self._index: dict[NodeKey, int] = {}
        self._low: dict[NodeKey, int] = {}
        self._stack: list[NodeKey] = []
        self._open: set[NodeKey] = set()
        self.open = self._open
        """The schemas started whose component is not complete yet (changed in place, never replaced): `reach`
        does nothing for any other, so a caller that meets a reference often may ask this first."""
        self._path: dict[NodeKey, None] = {}
        """The schemas being converted, outermost first (a dict: in order, and asked for membership)."""
        self._self_loops: set[NodeKey] = set()
        self._cyclic: dict[NodeKey, bool] = {}

    def started(self, key: NodeKey) -> bool:
        return key in self._index

    def walking(self, key: NodeKey) -> bool:
        """`key` is being converted: a reference to it now is a reference back up the walk."""
        return key in self._path

    def enter(self, key: NodeKey) -> None:
        """The walk starts `key` (from the schema it is converting, or as a new root)."""
        self._index[key] = self._low[key] = len(self._index)
        self._stack.append(key)
        self._open.add(key)
        self._path[key] = None

    def reach(self, key: NodeKey) -> None:
        """The schema being converted refers to `key`, which the walk has started."""
        if key in self._open and self._path:
            current = next(reversed(self._path))
            if key == current:
                self._self_loops.add(key)
            self._low[current] = min(self._low[current], self._index[key])

    def leave(self, key: NodeKey) -> None:
        """The walk has finished `key` and everything it refers to."""
        self._path.popitem()
        low = self._low[key]
        if low == self._index[key] and self._stack[-1] == key and key not in self._self_loops:
            # the commonest component: `key` alone, on no cycle
            self._stack.pop()
            self._open.discard(key)
            self._cyclic[key] = False
        elif low == self._index[key]:
            component: list[NodeKey] = []
            while True:
                member = self._stack.pop()
                self._open.discard(member)
                component.append(member)
                if member == key:
                    break
            cyclic = len(component) > 1 or key in self._self_loops
            for member in component:
                self._cyclic[member] = cyclic
        if self._path:
            parent = next(reversed(self._path))
            self._low[parent] = min(self._low[parent], low)

    def abandon(self, key: NodeKey) -> None:
        """The walk gave up on `key` (a reference that cannot be followed, a schema nested too deeply): it is
        forgotten, and once the walk is back at its root, whatever is still open is taken to be on a cycle, which
        only keeps it a named definition. Such a description is reported as an error anyway."""
        while self._path and self._path.popitem()[0] != key:
            pass  # a deeper schema that could not even be abandoned (RecursionError) is dropped with it
        self._index.pop(key, None)
        self._low.pop(key, None)
        if key in self._open:
            self._open.discard(key)
            self._stack.remove(key)
        if not self._path:
            for member in self._stack:
                self._cyclic[member] = True
            self._stack.clear()
            self._open.clear()

    def is_cyclic(self, key: NodeKey) -> bool:
        """For a started schema: whether it is on a cycle (still open means on a cycle with one being converted)."""
        return self._cyclic.get(key, True)


class ReferenceGraph:
    """The referenced schemas of one compile, each resolved once."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self._nodes: dict[NodeKey, Resolved] = {}
        self._resolved: dict[tuple[str, str], Resolved] = {}
        self._schemas: dict[tuple[str, str], Resolved] = {}
        self._marked: dict[tuple[str, str, str], bool] = {}

    def resolve(self, schema: dict[str, Any], source: SourceFile) -> Resolved:
        """The node the `$ref` of `schema` (written in `source`) names."""
        ref = schema["$ref"]
        if type(ref) is str:  # the same reference written in the same file lands on the same node
            resolved = self._resolved.get((source.key, ref))
            if resolved is not None:
                return resolved
        resolved = self.files.resolve(ref, schema, source)
        self._nodes.setdefault(resolved.key, resolved)
        if type(ref) is str:
            self._resolved[source.key, ref] = resolved
        return resolved

    def schema(self, schema: dict[str, Any], source: SourceFile) -> Resolved:
        """The schema the `$ref` of `schema` names: as `resolve`, but a schema on the way that has keywords beside
        its own `$ref` is where it stops (`Files.resolve`'s `schema`): the converter applies them."""
        ref = schema["$ref"]
        if type(ref) is str:
            resolved = self._schemas.get((source.key, ref))
            if resolved is not None:
                return resolved
        resolved = self.files.resolve(ref, schema, source, schema=True)
        self._nodes.setdefault(resolved.key, resolved)
        if type(ref) is str:
            self._schemas[source.key, ref] = resolved
        return resolved

    def dynamic(self, schema: dict[str, Any], source: SourceFile) -> Resolved:
        """The schema the `$dynamicRef` of `schema` names, found as a `$ref` is: the converter follows one only
        where that is what 2020-12 makes of it (see `SchemaConverter._finish`)."""
        resolved = self.files.resolve(schema["$dynamicRef"], schema, source, schema=True)
        self._nodes.setdefault(resolved.key, resolved)
        return resolved

    def read_only(self, schema: Any, source: SourceFile) -> bool:
        return self.marked(schema, source, "readOnly")

    def marked(self, schema: Any, source: SourceFile, keyword: str) -> bool:
        """True for a property schema marked `keyword` (`readOnly` or `writeOnly`): itself, a part of its `allOf`
        (`allOf: [{$ref: X}, {readOnly: true}]`, a common way to mark a shared schema read-only where it is used),
        or the schema its `$ref` (or `$dynamicRef`) names, through chains of references (and the keywords beside
        each `$ref` on the way). `readOnly: false` written on the schema itself wins over what it refers to.
        `oneOf`/`anyOf` are not followed: one branch without the mark is enough to keep the property."""
        if type(schema) is dict and len(schema) == 1 and type(schema.get("$ref")) is str:
            # a property that is just a reference, the commonest kind: the answer is the same wherever it is met
            key = (source.key, schema["$ref"], keyword)
            known = self._marked.get(key)
            if known is None:
                known = self._marked[key] = self._walk(schema, source, keyword, set(), 0)
            return known
        return self._walk(schema, source, keyword, set(), 0)

    def _walk(self, schema: Any, source: SourceFile, keyword: str, seen: set[NodeKey], depth: int) -> bool:
        if not isinstance(schema, dict) or depth > _MARK_DEPTH:  # hostile nesting: not marked
            return False
        mark = schema.get(keyword)
        if mark is not None:
            return mark is True
        parts = schema.get("allOf")
        if isinstance(parts, list) and any(self._walk(part, source, keyword, seen, depth + 1) for part in parts):
            return True
        ref = schema.get("$ref")
        if isinstance(ref, str) or (ref is None and isinstance(schema.get("$dynamicRef"), str)):
            try:  # (a `$dynamicRef` names the one schema of its file with that anchor: see `dynamic`)
                target = self.schema(schema, source) if ref is not None else self.dynamic(schema, source)
            except RefError:
                return False
            if target.key in seen:  # a cycle of references: nothing on it carried the mark
                return False
            seen.add(target.key)
            return self._walk(target.node, target.source, keyword, seen, depth + 1)
        return False

    def node(self, key: NodeKey) -> Resolved:
        return self._nodes[key]


def anchor(target: Resolved) -> NodeKey | None:
    """The node itself when it carries `$recursiveAnchor: true` (a `$recursiveRef` inside it means it)."""
    node = target.node
    return target.key if isinstance(node, dict) and node.get("$recursiveAnchor") is True else None


__all__ = ["CycleFinder", "ReferenceGraph", "anchor"]
