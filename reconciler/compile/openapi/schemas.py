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
  `enum`), or `anyOf [schema, {type: null}]` when there is no type; `readOnly` properties are left out of what
  is sent (a tool's input), `writeOnly` ones out of what is answered (its output schema: the converter's
  `hidden` keyword), marked on the property, on a part of its `allOf`, or on what its `$ref`s name
  (`ReferenceGraph.marked`), and so are their names from the `required` beside them;
  `example` becomes `examples`; `type: file` a binary string.
- Keywords are checked by `keywords.py`; a schema nested deeper than MAX_DEPTH is cut there with a note.

Conversions are memoized for the whole compile (per referenced node, per `$ref` written alone, and per schema
given to `convert`), and emitted schemas share those converted parts: treat them as immutable. The walk over
referenced nodes is depth first and also finds the cycles (`cycles.CycleFinder`), so nothing walks them twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any, Final

from reconciler.compile.openapi import keywords as kw
from reconciler.compile.openapi.combine import merge, nullable, single_reference, with_siblings
from reconciler.compile.openapi.cycles import CycleFinder, ReferenceGraph, anchor
from reconciler.compile.openapi.definitions import DefinitionNames
from reconciler.compile.openapi.refs import Files, NodeKey, RefError, Resolved, SourceFile
from reconciler.errors import Diagnostic
from reconciler.model import SourceLocation

MAX_DEPTH: Final = 48
MAX_NESTING: Final = 120
INLINE_LIMIT: Final = 24
# (Final: mypyc reads each as a constant, not from the module's dict on every use)
_KINDS: Final = kw.KINDS
_SIMPLE: Final = kw.SIMPLE
_TYPES: Final = kw.TYPES
_CLEAN_TYPE: Final = kw.clean_type
_PLAIN: Final = kw.PLAIN
_TYPE: Final = kw.TYPE
_PROPERTIES: Final = kw.PROPERTIES
_MAP: Final = kw.MAP
_LIST: Final = kw.LIST
_ONE: Final = kw.ONE
_CLEANED: Final = kw.CLEANED
_NULLABLE: Final = kw.NULLABLE
_TEXT: Final = kw.TEXT
_COUNT: Final = kw.COUNT
_EXAMPLE: Final = kw.EXAMPLE
_SPECIAL: Final = kw.special
_TRUNCATED = {"description": f"(nested more than {MAX_DEPTH} levels deep; not described further)"}


@dataclass(slots=True)
class Converted:
    body: Any
    deps: frozenset[NodeKey]
    size: int


class _Context:
    """What one conversion unit (a schema given to `convert`, a referenced node, an `allOf` part) gathers
    from every node inside it: the definitions it needs and its size. The nodes inside a unit share it, so
    a node costs no bookkeeping of its own. (A plain class: one is made per parameter, and a dataclass with a
    default factory costs twice as much to make.)"""

    __slots__ = ("anchor", "deps", "size", "truncated")

    def __init__(self, anchor: NodeKey | None = None) -> None:
        self.deps: set[NodeKey] = set()
        self.size = 0
        self.anchor = anchor
        self.truncated = False


class SchemaConverter:
    """Converts the schemas of one description in one direction, remembering every referenced node it
    converted: `hidden` is `readOnly` for what is sent, `writeOnly` for what is answered. The converters of
    both directions of one compile may share their `graph` (what references resolve to)."""

    def __init__(self, files: Files, *, hidden: str = "readOnly", graph: ReferenceGraph | None = None) -> None:
        self.files = files
        self.hidden = hidden
        self.graph = graph if graph is not None else ReferenceGraph(files)
        self.cycles = CycleFinder()
        self._open = self.cycles.open
        self._converted: dict[NodeKey, Converted] = {}
        self._given: dict[int, tuple[Any, Any, set[NodeKey]]] = {}
        self._by_ref: dict[tuple[str, str, NodeKey | None], tuple[Any, NodeKey | None, int]] = {}
        self._names = DefinitionNames(files.main.key, files.main.content, files.root)
        self._closures: dict[NodeKey, list[tuple[str, Any]]] = {}
        self.resolve = self.graph.resolve
        """Where a reference to a parameter, a request body or a response leads (to the end of its chain)."""
        self.schema = self.graph.schema
        """Where a reference to a schema leads (`ReferenceGraph.schema`)."""
        self.truncated = False
        self._nesting = 0

    # -- public -----------------------------------------------------------------------------------------

    def convert(self, schema: Any, source: SourceFile, deps: set[NodeKey]) -> Any:
        """`schema` (written in `source`) as 2020-12; the definitions it needs are added to `deps`. RefError for
        a `$ref` that cannot be followed, or a subschema that is no schema (a string, a number, a list, an
        empty value), at the place it is written."""
        if type(schema) is not dict and not isinstance(schema, (dict, bool)):
            return {}  # (unreached from a description: `own_schema` refuses a parameter, body or answer so)
        # operations share parameters and request bodies: the same node converts the same way every time
        given = self._given.get(id(schema))
        if given is not None and given[0] is schema:  # the entry keeps the node alive: its id is not reused
            deps.update(given[2])
            return given[1]
        context = _Context()
        result = self._schema(schema, source, context, 0)
        if context.truncated:
            self.truncated = True
        else:
            self._given[id(schema)] = (schema, result, context.deps)
        deps.update(context.deps)
        return result

    def properties_of(self, properties: dict[str, Any], source: SourceFile) -> tuple[dict[str, Any], SourceFile]:
        """A `properties` mapping that is itself a `$ref` (`properties: {$ref: 'attributes.yml#/ids'}`, as
        DigitalOcean writes some): the mapping it names, and the file it is in. No schema keyword is `$ref`'d
        there: read as a property named `$ref`, it became a parameter that accepts anything."""
        target = self.files.resolve(properties["$ref"], properties, source)
        if not isinstance(target.node, dict):
            raise self.files.not_a_mapping(
                properties["$ref"], properties, source, target, "a mapping of properties", "of schemas by name"
            )
        return target.node, target.source

    def definitions(self, deps: set[NodeKey]) -> dict[str, Any]:
        """`$defs` for a schema that needs `deps`: those definitions and every one they need, by name."""
        if len(deps) == 1:
            return dict(self._closure(next(iter(deps))))
        found: dict[str, Any] = {}
        for key in deps:
            found.update(self._closure(key))
        return dict(sorted(found.items()))

    def _closure(self, key: NodeKey) -> list[tuple[str, Any]]:
        """The definitions `key` needs, itself included, as (name, body) sorted by name; found once per compile
        (tools that answer with the same schema need the same ones). A definition's name was given when the
        reference to it was converted, and its body and needs do not change after: the list stays true."""
        known = self._closures.get(key)
        if known is None:
            found: dict[str, Any] = {}
            pending = [key]
            seen: set[NodeKey] = set()
            while pending:
                member = pending.pop()
                if member in seen:
                    continue
                seen.add(member)
                converted = self._node(self.graph.node(member))
                found[self._names.name(member)] = converted.body
                pending.extend(converted.deps)
            known = self._closures[key] = sorted(found.items())
        return known

    # -- one schema ---------------------------------------------------------------------------------------

    def _schema(self, node: Any, source: SourceFile, context: _Context, depth: int) -> Any:
        if not isinstance(node, dict):
            if type(node) is bool:
                return node
            raise _NotASchema  # (the `_schema` of the schema that holds it says where)
        if len(node) == 1 and depth < MAX_DEPTH:
            ref = node.get("$ref")
            if type(ref) is str:  # the commonest schema of all: just a $ref, the same wherever it is met
                return self._just_reference(node, ref, source, context)
        # most schemas are leaves: keywords with no subschema, kept when their values pass the checks (and
        # `required`, `enum`, `example`… cleaned, `nullable` finished, as `_keywords` and `_finish` do); at the
        # first keyword with a subschema, `_keywords` takes over where this loop stopped
        leaf: dict[str, Any] = {}
        finish = False  # a `nullable` was met: `_finish` applies it
        items = iter(node.items())
        for key, value in items:
            kind = _KINDS.get(key)
            if kind is None:
                continue
            # (the commonest kinds first; `type`, `description`, `format`, counts: checked in line)
            if kind == _TYPE and type(value) is str:
                if value not in _TYPES:
                    break  # Swagger's `file`, or no type at all: the full conversion says which
                leaf[key] = value
            elif kind == _TEXT:
                if isinstance(value, str):
                    leaf[key] = value
            elif kind == _COUNT:
                if isinstance(value, int) and value >= 0 and type(value) is not bool:
                    leaf[key] = value
            elif kind == _PLAIN:
                if _SIMPLE[key](value):
                    leaf[key] = value
            elif kind == _TYPE:  # a list of types (3.1)
                cleaned = _CLEAN_TYPE(value)
                if cleaned is not None:
                    leaf[key] = cleaned
            elif kind == _EXAMPLE and depth < MAX_DEPTH:  # (deeper, the schema is cut short below)
                if not isinstance(node.get("examples"), list):
                    leaf["examples"] = [value]
            elif kind == _CLEANED and depth < MAX_DEPTH:
                _SPECIAL(key, value, node, leaf)
            elif kind == _NULLABLE and depth < MAX_DEPTH:
                finish = True
            else:
                break
        else:
            context.size += 1
            if finish and (node.get("nullable") is True or node.get("x-nullable") is True):
                written = leaf.get("type")  # (not `kind`: mypyc types one name once per function)
                if type(written) is str and "enum" not in leaf:  # the commonest: what `nullable` does, in line
                    if written != "null":
                        leaf["type"] = [written, "null"]
                    return leaf
                return nullable(leaf, fresh=True)  # what `_finish` does for a node with nothing else to finish
            return leaf
        if depth >= MAX_DEPTH:
            context.truncated = True
            return dict(_TRUNCATED)
        self._nesting += 1
        try:
            result = self._keywords(node, chain(((key, value),), items), leaf, finish, source, context, depth + 1)
        except _NotASchema:  # a subschema of `node` (the innermost schema around it) is no schema
            raise _not_a_schema(node, source) from None
        finally:
            self._nesting -= 1
        context.size += 1
        return result

    def _just_reference(self, node: dict[str, Any], ref: str, source: SourceFile, context: _Context) -> Any:
        memo_key = (source.key, ref, context.anchor)
        known = self._by_ref.get(memo_key)
        if known is None:
            own = _Context(anchor=context.anchor)
            self._nesting += 1
            try:
                body = self._reference(self.schema(node, source), own)
            finally:
                self._nesting -= 1
            if own.truncated:
                context.truncated = True
                context.deps |= own.deps
                context.size += own.size + 1
                return body
            known = (body, next(iter(own.deps)) if own.deps else None, own.size + 1)
            self._by_ref[memo_key] = known
        body, dep, size = known
        if dep is not None:
            if dep in self._open:  # (else `reach` has nothing to do)
                self.cycles.reach(dep)  # the walk meets this reference again, from another schema
            context.deps.add(dep)
        context.size += size
        return body

    def _keywords(
        self,
        node: dict[str, Any],
        items: Iterable[tuple[str, Any]],
        result: dict[str, Any],
        special: bool,
        source: SourceFile,
        context: _Context,
        depth: int,
    ) -> Any:
        """`node` converted: `result` holds its keywords before `items`, the rest of them; `special`: a keyword
        among those before `items` needs `_finish`. (_NotASchema for a subschema that is no schema: `_schema`
        says where.)"""
        all_of: list[tuple[Any, _Context]] = []
        hidden: Any = ()
        for key, value in items:
            kind = _KINDS.get(key)
            if kind is None:
                continue
            if kind == _TEXT:
                if isinstance(value, str):
                    result[key] = value
            elif kind == _COUNT:
                if isinstance(value, int) and value >= 0 and type(value) is not bool:
                    result[key] = value
            elif kind == _PLAIN:
                if _SIMPLE[key](value):
                    result[key] = value
            elif kind == _TYPE:
                cleaned = kw.clean_type(value)
                if cleaned is not None:
                    result["type"] = cleaned
                    if value == "file" and "format" not in node:
                        result["format"] = "binary"
            elif kind == _PROPERTIES:
                if isinstance(value, dict):
                    written, where = value, source
                    if "$ref" in value and len(value) == 1:  # (DigitalOcean's `properties: {$ref: …}`)
                        written, where = self.properties_of(value, source)
                    kept = result[key] = self._properties(written, where, context, depth)
                    if len(kept) < len(written):
                        hidden = written.keys() - kept.keys()
            elif kind == _ONE:
                if isinstance(value, (dict, bool)):
                    result[key] = self._schema(value, source, context, depth)
                elif key == "items" and isinstance(value, list):
                    if value:
                        result["prefixItems"] = [self._schema(item, source, context, depth) for item in value]
                else:
                    raise _NotASchema
            elif kind == _LIST:
                if key == "allOf" and isinstance(value, list) and value:
                    # each part keeps its own definitions: a part merged inline no longer needs its $ref's
                    all_of = [self._part(item, source, context, depth) for item in value]
                    result[key] = [converted for converted, _ in all_of]
                    special = True
                elif isinstance(value, list) and value:
                    result[key] = [self._schema(item, source, context, depth) for item in value]
            elif kind == _MAP:
                if isinstance(value, dict):
                    result[key] = {
                        name: self._schema(item, source, context, depth)
                        for name, item in value.items()
                        if key != "patternProperties" or kw.valid_pattern(name)
                    }
            elif kind == _EXAMPLE:
                if not isinstance(node.get("examples"), list):
                    result["examples"] = [value]
            elif kind == _CLEANED:  # `required`, `enum`, …: cleaned on their own, nothing else to finish
                _SPECIAL(key, value, node, result)
            else:
                special = True
                _SPECIAL(key, value, node, result)
        if hidden and "required" in result:
            # required in a response only, or a request only (OpenAPI 3.0, Swagger 2.0): the other leaves it out
            required = [name for name in result["required"] if name not in hidden]
            if required:
                result["required"] = required
            else:
                del result["required"]
        if special:
            result = self._finish(node, source, context, result, all_of)
        return result

    def _part(self, item: Any, source: SourceFile, context: _Context, depth: int) -> tuple[Any, _Context]:
        part = _Context(anchor=context.anchor)
        converted = self._schema(item, source, part, depth)
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
        if ref is None and "$dynamicRef" in node and isinstance(node["$dynamicRef"], str):
            # 2020-12: a `$dynamicRef` lands where a `$ref` would, and then moves to the outermost schema of the
            # dynamic scope with that `$dynamicAnchor`; one file's anchor names one schema (several are an error
            # at the reference), so no other can be found: it is that schema
            ref = node["$dynamicRef"]
            target = self.graph.dynamic(node, source)
        elif isinstance(ref, str):
            target = self.schema(node, source)
        if all_of and (isinstance(ref, str) or "allOf" not in result):
            for _, part in all_of:
                context.deps |= part.deps
        if isinstance(ref, str):
            result = with_siblings(self._reference(target, context), result)
        elif isinstance(node.get("$recursiveRef"), str):
            result = with_siblings(self._recursive(context), result)
        elif all_of:
            result = self._merge_all_of(result, node["allOf"], all_of, source, context)
        if node.get("nullable") is True or node.get("x-nullable") is True:
            result = nullable(result)
        return result

    def _properties(
        self, properties: dict[str, Any], source: SourceFile, context: _Context, depth: int
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        hidden = self.hidden
        marked = self.graph.marked
        schema = self._schema
        for name, item in properties.items():
            if (
                type(item) is dict
                and hidden not in item
                and "$ref" not in item
                and "allOf" not in item
                and "$dynamicRef" not in item
            ):
                result[name] = schema(item, source, context, depth)  # the common case: no call to marked
            elif marked(item, source, hidden):
                continue
            elif depth < MAX_DEPTH and type(item) is dict and len(item) == 1 and type(ref := item.get("$ref")) is str:
                result[name] = self._just_reference(item, ref, source, context)  # what `_schema` would do
            else:
                result[name] = schema(item, source, context, depth)
        return result

    # -- references ---------------------------------------------------------------------------------------

    def _reference(self, target: Resolved, context: _Context) -> Any:
        key = target.key
        if self.cycles.walking(key):
            self.cycles.reach(key)
            context.deps.add(key)
            return {"$ref": f"#/$defs/{self._names.name(key)}"}
        if self._nesting > MAX_NESTING:
            context.deps.add(key)
            return {"$ref": f"#/$defs/{self._names.name(key)}"}
        converted = self._node(target)
        self.cycles.reach(key)
        if not converted.deps and converted.size <= INLINE_LIMIT and not self.cycles.is_cyclic(key):
            context.size += converted.size
            return converted.body
        context.deps.add(key)
        return {"$ref": f"#/$defs/{self._names.name(key)}"}

    def _recursive(self, context: _Context) -> Any:
        if context.anchor is None:
            return {}
        self.cycles.reach(context.anchor)
        context.deps.add(context.anchor)
        return {"$ref": f"#/$defs/{self._names.name(context.anchor)}"}

    def _node(self, target: Resolved) -> Converted:
        """A referenced node, converted once per compile (from its own root, so the same wherever it is met)."""
        key = target.key
        converted = self._converted.get(key)
        if converted is None:
            self.cycles.enter(key)
            try:
                context = _Context(anchor=anchor(target))
                body = self._schema(target.node, target.source, context, 0)
            except BaseException:
                self.cycles.abandon(key)
                raise
            self.cycles.leave(key)
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
                target = self.schema(raw, source) if isinstance(raw.get("$ref"), str) else None
                if target is None or self.cycles.walking(target.key) or self.cycles.is_cyclic(target.key):
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


class _NotASchema(Exception):
    """A subschema that is a string, a number, a list or an empty value: read as `{}` it would accept anything."""


def _not_a_schema(node: dict[str, Any], source: SourceFile) -> RefError:
    """The error for the first subschema of `node` (written in `source`) that is no schema, at its place; found
    only when one was met, so valid descriptions pay nothing for it. The value is never quoted."""
    path: tuple[str, ...] = ()
    found: Any = None
    for key, value in node.items():
        kind = _KINDS.get(key)
        members: list[tuple[str, Any]] = []
        if kind == _ONE:
            if key == "items" and isinstance(value, list):
                members = [(str(i), item) for i, item in enumerate(value)]
            elif not isinstance(value, (dict, bool)):
                path, found = (key,), value
                break
        elif kind in (_PROPERTIES, _MAP) and isinstance(value, dict):
            members = [(str(name), item) for name, item in value.items()]
        elif kind == _LIST and isinstance(value, list):
            members = [(str(i), item) for i, item in enumerate(value)]
        culprit = next(((name, item) for name, item in members if not isinstance(item, (dict, bool))), None)
        if culprit is not None:
            path, found = (key, culprit[0]), culprit[1]
            break
    return not_a_schema(node, path, found, source)


def not_a_schema(
    container: Any, path: tuple[str, ...], found: Any, source: SourceFile, said: str | None = None
) -> RefError:
    """The error for `found`, at `path` inside `container` (a mapping of `source`), which must be a schema and
    is not (a string, a number, a list, an empty value); `said`: what it is (by default, from `path`). The
    value is never quoted."""
    where = written_at(container, path, source)
    kind = "an empty value" if found is None else "a string" if isinstance(found, str) else "a list"
    if isinstance(found, (int, float)) and not isinstance(found, bool):
        kind = "a number"
    if said is None:
        said = f"property {path[-1]!r}" if path[-2:-1] == ("properties",) else "/".join(path) or "a subschema"
    return RefError(
        Diagnostic(
            "error",
            where,
            f"{said} is {kind}, not a schema; a schema is a mapping (such as {{type: string}}) or true/false",
            "schema",
        )
    )


def written_at(container: Any, path: tuple[str, ...], source: SourceFile) -> SourceLocation:
    """Where `path` inside `container` (a mapping of `source`) was written: found only for an error."""
    at = _pointer_of(source.content, container)
    return source.locate((*at, *path)) if at is not None else source.locate(())


def _pointer_of(content: Any, target: Any) -> tuple[str, ...] | None:
    """Where `target` (a mapping of the document) is, by identity: a search, made only for an error."""
    pending: list[tuple[Any, tuple[str, ...]]] = [(content, ())]
    while pending:
        node, pointer = pending.pop()
        if node is target:
            return pointer
        if isinstance(node, dict):
            pending.extend(
                (value, (*pointer, str(key))) for key, value in node.items() if isinstance(value, (dict, list))
            )
        elif isinstance(node, list):
            pending.extend(
                (value, (*pointer, str(i))) for i, value in enumerate(node) if isinstance(value, (dict, list))
            )
    return None


__all__ = ["Converted", "SchemaConverter", "not_a_schema", "written_at"]
