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

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.compile.openapi import keywords as kw
from reconciler.compile.openapi.cycles import RECURSIVE, SUBSCHEMA, Cycles, references
from reconciler.compile.openapi.refs import Files, NodeKey, RefError, Resolved, SourceFile

MAX_DEPTH = 48
MAX_NESTING = 120
INLINE_LIMIT = 24
_TRUNCATED = {"description": f"(nested more than {MAX_DEPTH} levels deep; not described further)"}
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_BLOCKS_MERGE = ("additionalProperties", "patternProperties", "unevaluatedProperties", "unevaluatedItems")


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


_PLAIN, _TYPE, _PROPERTIES, _MAP, _LIST, _ONE, _SPECIAL = range(7)
_KINDS: dict[str, int] = {
    **dict.fromkeys(kw.SIMPLE, _PLAIN),
    "type": _TYPE,
    "properties": _PROPERTIES,
    **dict.fromkeys(("patternProperties", "dependentSchemas"), _MAP),
    **dict.fromkeys(("allOf", "anyOf", "oneOf", "prefixItems"), _LIST),
    **dict.fromkeys(SUBSCHEMA - {"additionalItems"}, _ONE),
    **dict.fromkeys(
        (
            "required",
            "enum",
            "examples",
            "example",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "dependentRequired",
            "$ref",
            "$recursiveRef",
            "nullable",
            "x-nullable",
        ),
        _SPECIAL,
    ),
}
"""What the converter does with each keyword it keeps; any other keyword is dropped."""


class SchemaConverter:
    """Converts the schemas of one description, remembering every referenced node it converted."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.cycles = Cycles(self._successors)
        self._nodes: dict[NodeKey, Resolved] = {}
        self._successor_cache: dict[NodeKey, list[NodeKey]] = {}
        self._converted: dict[NodeKey, Converted] = {}
        self._in_progress: set[NodeKey] = set()
        self._memo: dict[tuple[Any, ...], tuple[Any, Any, set[NodeKey], int]] = {}
        self._names: dict[NodeKey, str] = {}
        self._taken: dict[str, NodeKey] = {}
        self.truncated = False
        self._nesting = 0
        self._claim_components()

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
            converted = self._definition(key)
            found[self._name(key)] = converted.body
            pending.extend(converted.deps)
        return dict(sorted(found.items()))

    def resolve(self, schema: dict[str, Any], source: SourceFile) -> Resolved:
        resolved = self.files.resolve(schema["$ref"], schema, source)
        self._nodes.setdefault(resolved.key, resolved)
        return resolved

    # -- one schema ---------------------------------------------------------------------------------------

    def _schema(self, node: Any, source: SourceFile, parent: _Context) -> Any:
        if node.__class__ is bool:
            return node
        if not isinstance(node, dict):
            return {}
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
        for key, value in node.items():
            kind = _KINDS.get(key)
            if kind is None:
                continue
            if kind == _PLAIN:
                if kw.SIMPLE[key](value):
                    result[key] = value
            elif kind == _TYPE:
                cleaned = kw.clean_type(value)
                if cleaned is not None:
                    result["type"] = cleaned
                    if value == "file" and "format" not in node:
                        result["format"] = "binary"
            elif kind == _PROPERTIES:
                if isinstance(value, dict):
                    result[key] = self._properties(value, source, context)
            elif kind == _MAP:
                if isinstance(value, dict):
                    result[key] = {
                        name: self._schema(item, source, context)
                        for name, item in value.items()
                        if key != "patternProperties" or kw.valid_pattern(name)
                    }
            elif kind == _LIST:
                if isinstance(value, list) and value:
                    result[key] = [self._schema(item, source, context) for item in value]
                    special = special or key == "allOf"
            elif kind == _ONE:
                if isinstance(value, (dict, bool)):
                    result[key] = self._schema(value, source, context)
                elif key == "items" and isinstance(value, list) and value:
                    result["prefixItems"] = [self._schema(item, source, context) for item in value]
            else:
                special = True
                self._special(key, value, node, result)
        if special:
            result = self._finish(node, source, context, result)
        return result

    def _finish(self, node: dict[str, Any], source: SourceFile, context: _Context, result: dict[str, Any]) -> Any:
        """What needs the whole node: references, `allOf` merging, 3.0 booleans and `nullable`."""
        # 3.0 and Swagger write `exclusiveMinimum: true` beside `minimum`; the number moved into the keyword
        if node.get("exclusiveMinimum") is True:
            result.pop("minimum", None)
        if node.get("exclusiveMaximum") is True:
            result.pop("maximum", None)
        ref = node.get("$ref")
        if isinstance(ref, str):
            result = _with_siblings(self._reference(self.resolve(node, source), context), result)
        elif isinstance(node.get("$recursiveRef"), str):
            result = _with_siblings(self._recursive(context), result)
        elif "allOf" in result:
            result = self._merge_all_of(result, node["allOf"], source, context)
        if node.get("nullable") is True or node.get("x-nullable") is True:
            result = _nullable(result)
        return result

    def _special(self, key: str, value: Any, node: dict[str, Any], result: dict[str, Any]) -> None:
        if key == "required":
            names = kw.clean_required(value)
            if names is not None:
                result[key] = names
        elif key == "enum":
            values = kw.clean_enum(value)
            if values is not None:
                result[key] = values
        elif key == "examples":
            if isinstance(value, list):
                result[key] = value
        elif key == "example":
            if not isinstance(node.get("examples"), list):
                result["examples"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            bound = kw.exclusive_bound(value, node.get("minimum" if key == "exclusiveMinimum" else "maximum"))
            if bound is not None:
                result[key] = bound
        elif key == "dependentRequired":
            cleaned = kw.clean_dependent_required(value)
            if cleaned is not None:
                result[key] = cleaned

    def _properties(self, properties: dict[str, Any], source: SourceFile, context: _Context) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, item in properties.items():
            if self.read_only(item, source):
                continue
            result[name] = self._schema(item, source, context)
        return result

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

    # -- references ---------------------------------------------------------------------------------------

    def _reference(self, target: Resolved, context: _Context) -> Any:
        key = target.key
        if key in self._in_progress or self._nesting > MAX_NESTING or self.cycles.is_cyclic(key):
            context.deps.add(key)
            return {"$ref": f"#/$defs/{self._name(key)}"}
        converted = self._acyclic(target)
        if not converted.deps and converted.size <= INLINE_LIMIT:
            context.size += converted.size
            return converted.body
        context.deps.add(key)
        return {"$ref": f"#/$defs/{self._name(key)}"}

    def _recursive(self, context: _Context) -> Any:
        if context.anchor is None:
            return {}
        context.deps.add(context.anchor)
        return {"$ref": f"#/$defs/{self._name(context.anchor)}"}

    def _acyclic(self, target: Resolved) -> Converted:
        key = target.key
        converted = self._converted.get(key)
        if converted is None:
            self._in_progress.add(key)
            try:
                context = _Context(anchor=_anchor(target))
                body = self._schema(target.node, target.source, context)
            finally:
                self._in_progress.discard(key)
            self.truncated = self.truncated or context.truncated
            converted = Converted(body, frozenset(context.deps), context.size)
            self._converted[key] = converted
        return converted

    def _definition(self, key: NodeKey) -> Converted:
        converted = self._converted.get(key)
        if converted is None:
            target = self._nodes[key]
            self._in_progress.add(key)
            try:
                context = _Context(anchor=_anchor(target))
                body = self._schema(target.node, target.source, context)
            finally:
                self._in_progress.discard(key)
            self.truncated = self.truncated or context.truncated
            converted = Converted(body, frozenset(context.deps), context.size)
            self._converted[key] = converted
        return converted

    def _successors(self, key: NodeKey) -> list[NodeKey]:
        found = self._successor_cache.get(key)
        if found is None:
            target = self._nodes[key]
            found = []
            for ref, holder in references(target.node):
                if ref == RECURSIVE:
                    if _anchor(target) is not None:
                        found.append(key)
                    continue
                try:
                    found.append(self.resolve(holder, target.source).key)
                except RefError:
                    continue  # reported where the reference is converted
            self._successor_cache[key] = found
        return found

    # -- allOf --------------------------------------------------------------------------------------------

    def _merge_all_of(self, result: dict[str, Any], raw_parts: Any, source: SourceFile, context: _Context) -> Any:
        parts: list[Any] = []
        part_deps: set[NodeKey] = set()
        for raw, converted in zip(raw_parts, result["allOf"], strict=False):
            if isinstance(converted, dict) and set(converted) == {"$ref"} and isinstance(raw, dict):
                target = self.resolve(raw, source) if isinstance(raw.get("$ref"), str) else None
                if target is None or target.key in self._in_progress or self.cycles.is_cyclic(target.key):
                    return _single_reference(result)
                body = self._acyclic(target)
                parts.append(body.body)
                part_deps |= body.deps
            else:
                parts.append(converted)
        outer = {key: value for key, value in result.items() if key != "allOf"}
        merged = merge([outer, *parts])
        if merged is None:
            return _single_reference(result)
        context.deps |= part_deps
        return merged

    # -- names of definitions -----------------------------------------------------------------------------

    def _claim_components(self) -> None:
        content = self.files.main.content
        if not isinstance(content, dict):
            return
        for pointer in (("components", "schemas"), ("definitions",)):
            holder: Any = content
            for part in pointer:
                holder = holder.get(part) if isinstance(holder, dict) else None
            if isinstance(holder, dict):
                for name in holder:
                    self._name((self.files.main.key, (*pointer, name)))

    def _name(self, key: NodeKey) -> str:
        name = self._names.get(key)
        if name is None:
            file, pointer = key
            base = pointer[-1] if pointer else os.path.splitext(os.path.basename(file))[0]
            name = _NOT_NAME.sub("_", base) or "schema"
            if name in self._taken:
                where = os.path.relpath(file, self.files.root) + "#/" + "/".join(pointer)
                name = f"{name}_{hashlib.sha256(where.encode()).hexdigest()[:8]}"
            self._taken[name] = key
            self._names[key] = name
        return name


def _anchor(target: Resolved) -> NodeKey | None:
    node = target.node
    return target.key if isinstance(node, dict) and node.get("$recursiveAnchor") is True else None


def _with_siblings(reference: Any, siblings: dict[str, Any]) -> Any:
    """A `$ref` and the keywords written beside it (3.1 allows both)."""
    if not siblings:
        return reference
    if isinstance(reference, dict) and "$ref" in reference:
        return {**reference, **siblings}
    if isinstance(reference, dict):
        merged = merge([siblings, reference])
        if merged is not None:
            return merged
    return {**siblings, "allOf": [*siblings.get("allOf", ()), reference]}


def _single_reference(schema: dict[str, Any]) -> dict[str, Any]:
    """`{allOf: [{$ref: X}], …}` as `{$ref: X, …}`: the same in 2020-12, and easier to read."""
    parts = schema["allOf"]
    if len(parts) == 1 and isinstance(parts[0], dict) and set(parts[0]) == {"$ref"}:
        return {**{key: value for key, value in schema.items() if key != "allOf"}, **parts[0]}
    return schema


def merge(parts: list[Any]) -> dict[str, Any] | None:
    """One schema equal to the `allOf` of `parts`, or None when merging would change what they accept."""
    if not all(isinstance(part, dict) and "$ref" not in part for part in parts):
        return None
    holders = [p for p in parts if "properties" in p or any(key in p for key in _BLOCKS_MERGE)]
    if len(holders) > 1 and any(
        p.get("additionalProperties", True) is not True or any(k in p for k in _BLOCKS_MERGE[1:]) for p in holders
    ):
        return None
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in merged:
                merged[key] = value
            elif key == "properties":
                combined = dict(merged[key])
                for name, schema in value.items():
                    if name in combined and combined[name] is not schema and combined[name] != schema:
                        return None
                    combined[name] = schema
                merged[key] = combined
            elif key == "required":
                merged[key] = [*merged[key], *(name for name in value if name not in merged[key])]
            elif key in kw.ANNOTATIONS:
                continue
            elif merged[key] != value:
                return None
    return merged


_LIFTED = ("title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly")


def _nullable(schema: Any) -> Any:
    if not isinstance(schema, dict) or not schema:
        return schema
    kind = schema.get("type")
    if kind is None:
        outer = {key: schema[key] for key in _LIFTED if key in schema}
        inner = {key: value for key, value in schema.items() if key not in outer}
        return {**outer, "anyOf": [inner, {"type": "null"}]} if inner else schema
    result = dict(schema)
    if isinstance(kind, str) and kind != "null":
        result["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        result["type"] = [*kind, "null"]
    if isinstance(result.get("enum"), list) and None not in result["enum"]:
        result["enum"] = [*result["enum"], None]
    return result


__all__ = ["Converted", "SchemaConverter", "merge"]
