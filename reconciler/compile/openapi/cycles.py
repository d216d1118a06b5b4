"""The graph of referenced schemas, and which of them take part in a cycle of references.

`ReferenceGraph` resolves each referenced schema once and lists the references it holds (`references`: in
schema positions only, not in examples or enums).

A schema that can reach itself through `$ref`s (or `$recursiveRef`) must stay a named definition that refers
to itself; any other referenced schema may be inlined or merged. Deciding this from the reference graph,
rather than from what the compiler happens to be converting when it meets a reference, makes every tool's
schema a function of the description alone, whatever else is compiled with it: a tool's digest must not change
because another operation was included. Strongly connected components are found by Tarjan's algorithm,
iteratively (no recursion, whatever the depth) and lazily, from the references that are actually met.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from reconciler.compile.openapi.refs import Files, NodeKey, RefError, Resolved, SourceFile

SUBSCHEMA = frozenset(
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
        "additionalItems",
        "contentSchema",
    )
)
SUBSCHEMA_LISTS = frozenset(("allOf", "anyOf", "oneOf", "prefixItems", "items"))
SUBSCHEMA_MAPS = frozenset(("properties", "patternProperties", "dependentSchemas"))

RECURSIVE = "#recursive"
"""Stands for a `$recursiveRef` among the references of a schema."""


def references(schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every `$ref` written in the schema positions of `schema` (not in examples, enums or extensions), with
    the mapping that holds it; `$recursiveRef`s as (RECURSIVE, mapping)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref, node
        if isinstance(node.get("$recursiveRef"), str):
            yield RECURSIVE, node
        for key, value in node.items():
            if key in SUBSCHEMA_MAPS:
                if isinstance(value, dict):
                    stack.extend(value.values())
            elif key in SUBSCHEMA_LISTS and isinstance(value, list):
                stack.extend(value)
            elif key in SUBSCHEMA:
                stack.append(value)


class Cycles:
    """Answers "is this node on a cycle of references?" for nodes met one by one."""

    def __init__(self, successors: Callable[[NodeKey], list[NodeKey]]) -> None:
        self._successors = successors
        self._cyclic: dict[NodeKey, bool] = {}
        self._index: dict[NodeKey, int] = {}
        self._low: dict[NodeKey, int] = {}

    def is_cyclic(self, key: NodeKey) -> bool:
        if key not in self._cyclic:
            self._search(key)
        return self._cyclic[key]

    def _search(self, root: NodeKey) -> None:
        stack: list[NodeKey] = []
        on_stack: set[NodeKey] = set()
        self_loops: set[NodeKey] = set()
        work: list[tuple[NodeKey, Iterator[NodeKey]]] = []

        def visit(node: NodeKey) -> None:
            self._index[node] = self._low[node] = len(self._index)
            stack.append(node)
            on_stack.add(node)
            work.append((node, iter(self._successors(node))))

        visit(root)
        while work:
            node, successors = work[-1]
            descended = False
            for successor in successors:
                if successor == node:
                    self_loops.add(node)
                if successor in self._cyclic:
                    continue
                if successor not in self._index:
                    visit(successor)
                    descended = True
                    break
                if successor in on_stack:
                    self._low[node] = min(self._low[node], self._index[successor])
            if descended:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                self._low[parent] = min(self._low[parent], self._low[node])
            if self._low[node] == self._index[node]:
                component: list[NodeKey] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                cyclic = len(component) > 1 or node in self_loops
                for member in component:
                    self._cyclic[member] = cyclic


class ReferenceGraph:
    """The referenced schemas of one compile: each resolved once, with the references it holds."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.cycles = Cycles(self._successors)
        self._nodes: dict[NodeKey, Resolved] = {}
        self._successor_cache: dict[NodeKey, list[NodeKey]] = {}

    def resolve(self, schema: dict[str, Any], source: SourceFile) -> Resolved:
        """The node the `$ref` of `schema` (written in `source`) names."""
        resolved = self.files.resolve(schema["$ref"], schema, source)
        self._nodes.setdefault(resolved.key, resolved)
        return resolved

    def read_only(self, schema: Any, source: SourceFile) -> bool:
        """True for a schema marked `readOnly` (itself, or the schema its `$ref` names)."""
        if not isinstance(schema, dict):
            return False
        if schema.get("readOnly") is True:
            return True
        if isinstance(schema.get("$ref"), str) and "readOnly" not in schema:
            try:
                target = self.resolve(schema, source).node
            except RefError:
                return False
            return isinstance(target, dict) and target.get("readOnly") is True
        return False

    def node(self, key: NodeKey) -> Resolved:
        return self._nodes[key]

    def is_cyclic(self, key: NodeKey) -> bool:
        return self.cycles.is_cyclic(key)

    def _successors(self, key: NodeKey) -> list[NodeKey]:
        found = self._successor_cache.get(key)
        if found is None:
            target = self._nodes[key]
            found = []
            for ref, holder in references(target.node):
                if ref == RECURSIVE:
                    if anchor(target) is not None:
                        found.append(key)
                    continue
                try:
                    found.append(self.resolve(holder, target.source).key)
                except RefError:
                    continue  # reported where the reference is converted
            self._successor_cache[key] = found
        return found


def anchor(target: Resolved) -> NodeKey | None:
    """The node itself when it carries `$recursiveAnchor: true` (a `$recursiveRef` inside it means it)."""
    node = target.node
    return target.key if isinstance(node, dict) and node.get("$recursiveAnchor") is True else None


__all__ = [
    "RECURSIVE",
    "SUBSCHEMA",
    "SUBSCHEMA_LISTS",
    "SUBSCHEMA_MAPS",
    "Cycles",
    "ReferenceGraph",
    "anchor",
    "references",
]
