"""OpenAPI schemas (Swagger 2.0, 3.0, 3.1) → draft 2020-12 JSON Schema for a tool's input.

- A `$ref` to a schema on a cycle of references becomes `{"$ref": "#/$defs/<name>"}`, and its definition goes
  into the tool's `$defs`; so do large referenced schemas, which keeps a tool's schema linear in the size of
  the description. A small schema that refers to nothing is inlined. `$recursiveRef` (3.1) refers to the
  definition that carries `$recursiveAnchor`.
- `allOf` is merged into one schema when nothing is lost: no keyword written twice with different values,
  except `properties` (disjoint or equal), `required` (united) and annotations (the first wins), and no
  `additionalProperties`/`patternProperties`/`unevaluated…` that would see other parts' properties.
  Otherwise it stays an `allOf`. `oneOf`/`anyOf` stay as they are; `discriminator` is dropped (the branches
  already say everything it says to a validator).
- 3.0 `nullable` (and Swagger's `x-nullable`) become type arrays (`["string", "null"]`, `null` added to an
  `enum`), or `anyOf [schema, {type: null}]` when there is no type; `readOnly` properties are left out, since a
  tool's schema describes what is sent; `example` becomes `examples`; `type: file` a binary string.
- Keywords are checked by `keywords.py`; a schema nested deeper than MAX_DEPTH is cut there with a note.

Conversions are memoized per referenced node for the whole compile, and emitted schemas share those
converted parts: treat them as immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.compile.openapi import keywords as kw
from reconciler.compile.openapi.combine import merge, nullable, single_reference, with_siblings
from reconciler.compile.openapi.cycles import ReferenceGraph, anchor
from reconciler.compile.openapi.definitions import DefinitionNames
from reconciler.compile.openapi.refs import Files, NodeKey, Resolved, SourceFile

MAX_DEPTH = 48
MAX_NESTING = 120
INLINE_LIMIT = 24
_TRUNCATED = {"description": f"(nested more than {MAX_DEPTH} levels deep; not described further)"}


@dataclass(frozen=True)
class Converted:
    body: Any
    deps: frozenset[NodeKey]
    size: int


@dataclass(slots=True)
class _Context:
    deps: set[NodeKey] = field(default_factory=set)
    depth: int = 0
    size: int = 0
    anchor: NodeKey | None = None
    truncated: bool = False


class SchemaConverter:
    """Converts the schemas of one description, remembering every referenced node it converted."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.graph = ReferenceGraph(files)
        self._converted: dict[NodeKey, Converted] = {}
        self._in_progress: set[NodeKey] = set()
        self._memo: dict[tuple[Any, ...], tuple[Any, Any, set[NodeKey], int]] = {}
        self._names = DefinitionNames(files.main.key, files.main.content, files.root)
        self.resolve = self.graph.resolve
        self.read_only = self.graph.read_only
        self.truncated = False
        self._nesting = 0

    # -- public -----------------------------------------------------------------------------------------

    def convert(self, schema: Any, source: SourceFile, deps: set[NodeKey]) -> Any:
        """`schema` (written in `source`) as 2020-12; the definitions it needs are added to `deps`."""
        context = _Context(deps=deps)
        result = self._schema(schema, source, context)
        self.truncated = self.truncated or context.truncated
        return result

    def definitions(self, deps: set[NodeKey]) -> dict[str, Any]:
        """`$defs` for a schema that needs `deps`: those definitions and every one they need, by name."""
        found: dict[str, Any] = {}
        pending = list(deps)
        seen: set[NodeKey] = set()
        while pending:
            key = pending.pop()
            if key in seen:
                continue
            seen.add(key)
            converted = self._node(self.graph.node(key))
            found[self._names.name(key)] = converted.body
            pending.extend(converted.deps)
        return dict(sorted(found.items()))

    # -- one schema ---------------------------------------------------------------------------------------

    def _schema(self, node: Any, source: SourceFile, parent: _Context) -> Any:
        if node.__class__ is bool:
            return node
        if not isinstance(node, dict):
            return {}
        leaf = kw.plain(node)
        if leaf is not None:
            parent.size += 1
            return leaf
        memo_key = (id(node), parent.anchor)
        memo = self._memo.get(memo_key)
        if memo is not None and memo[0] is node:  # the node is kept alive by the memo: its id is not reused
            if memo[2]:
                parent.deps.update(memo[2])
            parent.size += memo[3]
            return memo[1]
        if parent.depth >= MAX_DEPTH:
            parent.truncated = True
            return dict(_TRUNCATED)
        if len(node) == 1 and isinstance(node.get("$ref"), str):  # the commonest schema of all: just a $ref
            shared = self._memo.get((source.key, node["$ref"], parent.anchor))
            if shared is not None:
                if shared[2]:
                    parent.deps.update(shared[2])
                parent.size += shared[3]
                return shared[1]
        context = _Context(set(), parent.depth + 1, 1, parent.anchor)
        self._nesting += 1
        try:
            result = self._keywords(node, source, context)
        finally:
            self._nesting -= 1
        parent.deps.update(context.deps)
        parent.size += context.size
        if context.truncated:
            parent.truncated = True
        else:
            entry = (node, result, context.deps, context.size)
            self._memo[memo_key] = entry
            if len(node) == 1 and isinstance(node.get("$ref"), str):
                self._memo[(source.key, node["$ref"], parent.anchor)] = entry
        return result

    def _keywords(self, node: dict[str, Any], source: SourceFile, context: _Context) -> Any:
        result: dict[str, Any] = {}
        special = False
        all_of: list[tuple[Any, _Context]] = []
        for key, value in node.items():
            kind = kw.KINDS.get(key)
            if kind is None:
                continue
            if kind == kw.PLAIN:
                if kw.SIMPLE[key](value):
                    result[key] = value
            elif kind == kw.TYPE:
                cleaned = kw.clean_type(value)
                if cleaned is not None:
                    result["type"] = cleaned
                    if value == "file" and "format" not in node:
                        result["format"] = "binary"
            elif kind == kw.PROPERTIES:
                if isinstance(value, dict):
                    result[key] = self._properties(value, source, context)
            elif kind == kw.MAP:
                if isinstance(value, dict):
                    result[key] = {
                        name: self._schema(item, source, context)
                        for name, item in value.items()
                        if key != "patternProperties" or kw.valid_pattern(name)
                    }
            elif kind == kw.LIST:
                if key == "allOf" and isinstance(value, list) and value:
                    # each part keeps its own definitions: a part merged inline no longer needs its $ref's
                    all_of = [self._part(item, source, context) for item in value]
                    result[key] = [converted for converted, _ in all_of]
                    special = True
                elif isinstance(value, list) and value:
                    result[key] = [self._schema(item, source, context) for item in value]
            elif kind == kw.ONE:
                if isinstance(value, (dict, bool)):
                    result[key] = self._schema(value, source, context)
                elif key == "items" and isinstance(value, list) and value:
                    result["prefixItems"] = [self._schema(item, source, context) for item in value]
            else:
                special = True
                kw.special(key, value, node, result)
        if special:
            result = self._finish(node, source, context, result, all_of)
        return result

    def _part(self, item: Any, source: SourceFile, context: _Context) -> tuple[Any, _Context]:
        part = _Context(set(), context.depth, 0, context.anchor)
        converted = self._schema(item, source, part)
        context.size += part.size
        context.truncated = context.truncated or part.truncated
        return converted, part

    def _finish(
        self,
        node: dict[str, Any],
        source: SourceFile,
        context: _Context,
        result: dict[str, Any],
        all_of: list[tuple[Any, _Context]],
    ) -> Any:
        """What needs the whole node: references, `allOf` merging, 3.0 booleans and `nullable`."""
        # 3.0 and Swagger write `exclusiveMinimum: true` beside `minimum`; the number moved into the keyword
        if node.get("exclusiveMinimum") is True:
            result.pop("minimum", None)
        if node.get("exclusiveMaximum") is True:
            result.pop("maximum", None)
        ref = node.get("$ref")
        if all_of and (isinstance(ref, str) or "allOf" not in result):
            for _, part in all_of:
                context.deps |= part.deps
        if isinstance(ref, str):
            result = with_siblings(self._reference(self.resolve(node, source), context), result)
        elif isinstance(node.get("$recursiveRef"), str):
            result = with_siblings(self._recursive(context), result)
        elif all_of:
            result = self._merge_all_of(result, node["allOf"], all_of, source, context)
        if node.get("nullable") is True or node.get("x-nullable") is True:
            result = nullable(result)
        return result

    def _properties(self, properties: dict[str, Any], source: SourceFile, context: _Context) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, item in properties.items():
            if self.read_only(item, source):
                continue
            result[name] = self._schema(item, source, context)
        return result

    # -- references ---------------------------------------------------------------------------------------

    def _reference(self, target: Resolved, context: _Context) -> Any:
        key = target.key
        if key in self._in_progress or self._nesting > MAX_NESTING or self.graph.is_cyclic(key):
            context.deps.add(key)
            return {"$ref": f"#/$defs/{self._names.name(key)}"}
        converted = self._node(target)
        if not converted.deps and converted.size <= INLINE_LIMIT:
            context.size += converted.size
            return converted.body
        context.deps.add(key)
        return {"$ref": f"#/$defs/{self._names.name(key)}"}

    def _recursive(self, context: _Context) -> Any:
        if context.anchor is None:
            return {}
        context.deps.add(context.anchor)
        return {"$ref": f"#/$defs/{self._names.name(context.anchor)}"}

    def _node(self, target: Resolved) -> Converted:
        """A referenced node, converted once per compile (from its own root, so the same wherever it is met)."""
        key = target.key
        converted = self._converted.get(key)
        if converted is None:
            self._in_progress.add(key)
            try:
                context = _Context(anchor=anchor(target))
                body = self._schema(target.node, target.source, context)
            finally:
                self._in_progress.discard(key)
            self.truncated = self.truncated or context.truncated
            converted = Converted(body, frozenset(context.deps), context.size)
            self._converted[key] = converted
        return converted

    # -- allOf --------------------------------------------------------------------------------------------

    def _merge_all_of(
        self,
        result: dict[str, Any],
        raw_parts: list[Any],
        parts: list[tuple[Any, _Context]],
        source: SourceFile,
        context: _Context,
    ) -> Any:
        """`result` with its `allOf` merged into it when nothing is lost (see `combine.merge`), else as it is;
        the definitions the outcome needs are added to `context`."""
        bodies: list[Any] = []
        needed: set[NodeKey] = set()
        for raw, (converted, part) in zip(raw_parts, parts, strict=True):
            if isinstance(converted, dict) and set(converted) == {"$ref"} and isinstance(raw, dict):
                # a part that became a $ref to a definition may still merge, by its content, when acyclic
                target = self.resolve(raw, source) if isinstance(raw.get("$ref"), str) else None
                if target is None or target.key in self._in_progress or self.graph.is_cyclic(target.key):
                    bodies = []
                    break
                inline = self._node(target)
                bodies.append(inline.body)
                needed |= inline.deps
            else:
                bodies.append(converted)
                needed |= part.deps
        merged = merge([{k: v for k, v in result.items() if k != "allOf"}, *bodies]) if bodies else None
        if merged is None:
            for _, part in parts:
                context.deps |= part.deps
            return single_reference(result)
        context.deps |= needed
        return merged


__all__ = ["Converted", "SchemaConverter"]
