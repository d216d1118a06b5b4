"""`$ref` resolution: within a file and across the files of the repository, never over the network.

A reference is `[relative path][#json-pointer]`. The path is taken relative to the file the reference is
written in and must stay inside the repository root; a remote reference (`https://…`, or any other URI scheme)
is refused, unless it is the `$id` of a schema of the file it is written in (JSON Schema 2020-12, which OpenAPI
3.1 schemas are: `https://example.com/schemas/tag`, with a pointer or an anchor after `#`, is found there, never
fetched). After `#`, a plain name (`#pet`) is an anchor: the one schema of that file with `$anchor: pet` (or
`$dynamicAnchor`); a name that several schemas of the file declare (in different `$id` resources) must be
written with its resource's `$id` in front. A JSON pointer is read from the file's root, even inside a schema
with an `$id`, as bundled descriptions expect; a relative path is a file even there. Each file is read once
per compile (`Files`, keyed by resolved path) and nothing is copied: a resolved reference is the node itself,
with the file it lives in and its pointer, so that later stages can say where it was written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urljoin

from reconciler.errors import Diagnostic, InputError
from reconciler.load import Document, LocatedDict, display_path, key_location, read_documents
from reconciler.load.json_positions import JsonPositions
from reconciler.model import SourceLocation

Pointer = tuple[str, ...]
NodeKey = tuple[str, Pointer]
"""A node's identity: the resolved path of its file and its JSON pointer there."""

_URI_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_MAX_CHAIN: Final = 64
_VALUES: Final = frozenset(("enum", "const", "default", "example", "examples"))
"""Keys whose values are data, not schemas: an `$id` or `$anchor` inside one identifies nothing."""


class RefError(Exception):
    """A reference that cannot be followed; `diagnostic` says where it is written and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass(eq=False)
class SourceFile:
    """One file of a description: its document, and where its nodes were written."""

    document: Document
    key: str
    identifiers: Identifiers | None = None
    """The file's `$id`s and anchors, found when a reference first needs them."""

    @property
    def file(self) -> str:
        return self.document.file

    @property
    def content(self) -> Any:
        return self.document.content

    def locate(self, pointer: Pointer | tuple[str | int, ...]) -> SourceLocation:
        """Where the node at `pointer` was written (its key, or item), as exactly as the file allows."""
        return self.document.locate(*_typed(self.document.content, pointer))

    def ref_location(self, node: Any, ref: str) -> SourceLocation:
        """Where the `$ref` of `node` (a mapping of this file) was written."""
        if isinstance(node, LocatedDict):
            return key_location(self.file, node, "$ref")
        positions = self._positions()
        found = positions.find_ref(ref) if positions is not None else None
        return SourceLocation(self.file, *found) if found else SourceLocation(self.file)

    def operation_locations(self, methods: list[str]) -> list[SourceLocation] | None:
        """Where each method key of the inline path items of a JSON file's `paths` is (`methods` lists them in
        the order written), found in one scan; None for YAML, or when the scan does not find exactly them."""
        if isinstance(self.document.content, LocatedDict) or self.document.path.suffix != ".json":
            return None
        positions = self._positions()
        keys = list(self.document.content)
        after = keys.index("paths") + 1 if "paths" in keys else len(keys)
        next_key = keys[after] if after < len(keys) else None
        found = positions.operations(methods, next_key) if positions is not None else None
        return None if found is None else [SourceLocation(self.file, line, column) for line, column in found]

    def _positions(self) -> JsonPositions | None:
        positions = self.document.json_positions()
        return positions if positions is not None and positions.usable else None


def _typed(content: Any, pointer: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Pointer parts as keys and list indexes, the way `locate` walks them."""
    parts: list[str | int] = []
    node = content
    for part in pointer:
        if isinstance(node, list) and isinstance(part, str) and part.isdigit():
            parts.append(int(part))
            node = node[int(part)] if int(part) < len(node) else None
        else:
            parts.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return tuple(parts)


class Identifiers:
    """The schema resources (`$id`, resolved against the enclosing one) and the anchors of one file."""

    def __init__(self, content: Any) -> None:
        self.ids: dict[str, Pointer] = {}
        """Each absolute `$id` (without fragment) → where its schema is."""
        self.anchors: dict[str, list[tuple[str | None, Pointer]]] = {}
        """Each anchor name → the `$id` of the resource it is declared in (None: the file's own) and where."""
        pending: list[tuple[Any, Pointer, str | None]] = [(content, (), None)]
        while pending:
            node, pointer, scope = pending.pop()
            if isinstance(node, list):
                pending.extend((item, (*pointer, str(index)), scope) for index, item in enumerate(node))
                continue
            if not isinstance(node, dict):
                continue
            own = node.get("$id")
            if isinstance(own, str) and own.partition("#")[0]:
                scope = urljoin(scope, own).partition("#")[0] if scope else own.partition("#")[0]
                if _URI_SCHEME.match(scope):
                    self.ids.setdefault(scope, pointer)
            for keyword in ("$anchor", "$dynamicAnchor"):
                name = node.get(keyword)
                if isinstance(name, str) and (scope, pointer) not in self.anchors.get(name, ()):
                    self.anchors.setdefault(name, []).append((scope, pointer))
            for key, value in node.items():
                if isinstance(value, (dict, list)) and key not in _VALUES and not str(key).startswith("x-"):
                    pending.append((value, (*pointer, str(key)), scope))


class Resolved:
    """A node a reference landed on, the file it lives in, and its pointer there (`key`: its identity)."""

    __slots__ = ("key", "node", "pointer", "source")

    def __init__(self, node: Any, source: SourceFile, pointer: Pointer) -> None:
        self.node = node
        self.source = source
        self.pointer = pointer
        self.key: NodeKey = (source.key, pointer)


class Files:
    """The files one compile reads, each once, all inside `root`."""

    def __init__(self, main: Document, root: Path) -> None:
        # os.path.realpath is what Path.resolve does, without a Path made and a stat of the result
        self.root = Path(os.path.realpath(root))
        self.main = SourceFile(main, os.path.realpath(main.path))
        self._files: dict[str, SourceFile] = {self.main.key: self.main}
        self._resolved: dict[tuple[str, str, bool], Resolved] = {}
        self.diagnostics: list[Diagnostic] = []

    def resolve(self, ref: Any, node: Any, source: SourceFile, *, schema: bool = False) -> Resolved:
        """Follow `ref` (the `$ref` value of `node`, written in `source`), and any `$ref` it lands on. `schema`:
        stop at a schema that is a `$ref` with other keywords beside it (3.1's `{$ref: Id, readOnly: true}`):
        they hold together with its target, so the converter must see them (the chain is still checked for a
        loop)."""
        cache_key = (source.key, ref, schema) if isinstance(ref, str) else None
        found = self._resolved.get(cache_key) if cache_key is not None else None
        if found is None:
            found = self._follow(ref, node, source, schema)
            if cache_key is not None:
                self._resolved[cache_key] = found
        return found

    def _follow(self, ref: Any, node: Any, source: SourceFile, schema: bool = False) -> Resolved:
        seen: set[NodeKey] = set()
        first: Resolved | None = None  # (schema) the first schema on the chain with keywords beside its $ref
        for _ in range(_MAX_CHAIN):
            target = self._resolve_one(ref, node, source)
            if not isinstance(target.node, dict):
                if schema and type(target.node) is not bool:  # (checked only off the path of a mapping)
                    raise self._not_a_schema(ref, node, source, target)
                return target if first is None else first
            if not isinstance(target.node.get("$ref"), str):
                return target if first is None else first
            if target.key in seen:
                break
            seen.add(target.key)
            if schema and first is None and len(target.node) > 1:
                first = target
            ref, node, source = target.node["$ref"], target.node, target.source
        raise RefError(
            Diagnostic("error", source.ref_location(node, ref), f"$ref {ref!r} is part of a loop of references", "ref")
        )

    def _not_a_schema(self, ref: Any, node: Any, source: SourceFile, target: Resolved) -> RefError:
        """A schema's `$ref` that lands on a string, a number, a list or an empty value: read as a schema that
        would be `{}`, which accepts anything, so it is refused where it is written."""
        swagger = isinstance(self.main.content, dict) and "swagger" in self.main.content
        example = "#/definitions/…" if swagger else "#/components/schemas/…"
        return self.not_a_mapping(
            ref, node, source, target, "a schema", f"(or true/false): point the $ref at one, such as {example}"
        )

    def not_a_mapping(
        self, ref: Any, node: Any, source: SourceFile, target: Resolved, what: str, hint: str
    ) -> RefError:
        """The error for a `$ref` that must land on `what` (a mapping) and lands on something else. The value is
        never quoted: the reference may point into a file of secrets."""
        found = target.node
        kind = "a string" if isinstance(found, str) else "a list" if isinstance(found, list) else "a number"
        kind = "an empty value" if found is None else kind
        at = "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in target.pointer)
        return RefError(
            Diagnostic(
                "error",
                source.ref_location(node, str(ref)),
                f"$ref {ref!r} points at {kind}, not {what} ({target.source.file} has {kind} at {at}); {what} "
                f"is a mapping {hint}",
                "ref",
            )
        )

    def _resolve_one(self, ref: Any, node: Any, source: SourceFile) -> Resolved:
        if type(ref) is str and ref[:2] == "#/" and "~" not in ref and "%" not in ref:
            # the commonest reference: a plain pointer into the same file, through mappings only (the general
            # path below reads it the same way; it also escapes, decodes, indexes lists and says what is missing)
            pointer = tuple(ref[2:].split("/"))
            found = source.content
            for part in pointer:
                if type(found) is not dict or part not in found:
                    break
                found = found[part]
            else:
                return Resolved(found, source, pointer)

        def fail(message: str) -> RefError:
            return RefError(Diagnostic("error", source.ref_location(node, str(ref)), message, "ref"))

        if not isinstance(ref, str):
            raise fail("$ref must be a string")
        location, _, fragment = ref.partition("#")
        if "%" in fragment:
            fragment = unquote(fragment)
        if _URI_SCHEME.match(location) or location.startswith("//"):
            identified = _identifiers(source).ids.get(location)
            if identified is None:
                raise fail(
                    f"remote $ref {ref!r} is refused: references must stay inside the repository (and no $id of "
                    f"{source.file} is {location!r}); save the file next to the description and refer to it by a "
                    "relative path"
                )
            if fragment and not fragment.startswith("/"):
                return _anchored(source, fragment, location, ref, fail)
            return _walk(source, (*identified, *_pointer(fragment, fail, ref)), ref, fail)
        target = source if not location else self._file(unquote(location), source, fail)
        if fragment and not fragment.startswith("/"):
            return _anchored(target, fragment, None, ref, fail)
        return _walk(target, _pointer(fragment, fail, ref), ref, fail)

    def _file(self, location: str, source: SourceFile, fail: Any) -> SourceFile:
        path = (source.document.path.parent / location).resolve()
        if not path.is_relative_to(self.root):
            raise fail(
                f"$ref {location!r} leaves the repository root ({display_path(self.root)}); "
                "references must stay inside the repository"
            )
        key = str(path)
        cached = self._files.get(key)
        if cached is not None:
            return cached
        if not path.is_file():
            hint = ""
            if _identifiers(source).ids:  # (only now: a file that refers to nothing missing never pays for it)
                # JSON Schema reads a relative reference inside a schema with an `$id` against that `$id`; here
                # it names a file, as everywhere else in OpenAPI: say so, and how to name the schema instead
                hint = (
                    f"; a relative $ref is read against the file it is in, even inside a schema with an $id: to "
                    f"name the schema whose $id ends in {location!r}, write its $id in full"
                )
            raise fail(f"$ref {location!r}: no such file ({display_path(path)}){hint}")
        try:
            documents = read_documents(path, display_path(path))
        except InputError as exc:
            self.diagnostics.extend(exc.diagnostics)
            raise fail(f"$ref {location!r}: the file cannot be read (see its own error)") from None
        if not documents:
            raise fail(f"$ref {location!r}: the file is empty")
        loaded = SourceFile(documents[0], key)
        self._files[key] = loaded
        return loaded


def _walk(target: SourceFile, pointer: Pointer, ref: str, fail: Any) -> Resolved:
    found = target.content
    for depth, part in enumerate(pointer):
        if isinstance(found, dict) and part in found:
            found = found[part]
        elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
            found = found[int(part)]
        else:
            where = "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in pointer[:depth])
            raise fail(f"$ref {ref!r} points at nothing: {target.file} has no {part!r} at {where}")
    return Resolved(found, target, pointer)


def _identifiers(source: SourceFile) -> Identifiers:
    if source.identifiers is None:  # (only a reference by anchor or by URI needs them: most files never do)
        source.identifiers = Identifiers(source.content)
    return source.identifiers


def _anchored(target: SourceFile, name: str, resource: str | None, ref: str, fail: Any) -> Resolved:
    """The schema of `target` that declares anchor `name` (within the resource whose `$id` is `resource`, when
    the reference names one)."""
    declared = _identifiers(target).anchors.get(name, [])
    places = [pointer for scope, pointer in declared if resource is None or scope == resource]
    within = f" within $id {resource!r}" if resource is not None else ""
    if not places:
        raise fail(
            f"$ref {ref!r}: no $anchor {name!r} is declared in {target.file}{within}; give the schema it means "
            f"`$anchor: {name}`, or refer to it by a JSON pointer (#/components/schemas/…)"
        )
    if len(places) > 1:
        where = ", ".join("#/" + "/".join(pointer) for pointer in sorted(places)[:3])
        raise fail(
            f"$ref {ref!r}: {name!r} is the $anchor of {len(places)} schemas of {target.file} ({where}); write "
            "the $id of the one it means in front (https://…#" + name + "), or refer to it by a JSON pointer"
        )
    return _walk(target, places[0], ref, fail)


def _pointer(fragment: str, fail: Any, ref: str) -> Pointer:
    if not fragment:  # (decoded already, and a JSON pointer: a plain name is an anchor)
        return ()
    parts = fragment[1:].split("/")
    if "~" in fragment:
        return tuple(part.replace("~1", "/").replace("~0", "~") for part in parts)
    return tuple(parts)


__all__ = ["Files", "NodeKey", "Pointer", "RefError", "Resolved", "SourceFile"]
