"""`$ref` resolution: within a file and across the files of the repository, never over the network.

A reference is `[relative path][#json-pointer]`. The path is taken relative to the file the reference is
written in and must stay inside the repository root; a remote reference (`https://…`, or any other URI scheme)
is refused. Each file is read once per compile (`Files`, keyed by resolved path) and nothing is copied: a
resolved reference is the node itself, with the file it lives in and its pointer, so that later stages can
say where it was written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from reconciler.errors import Diagnostic, InputError
from reconciler.load import Document, LocatedDict, display_path, key_location, read_documents
from reconciler.load.json_positions import JsonPositions
from reconciler.model import SourceLocation

Pointer = tuple[str, ...]
NodeKey = tuple[str, Pointer]
"""A node's identity: the resolved path of its file and its JSON pointer there."""

_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_MAX_CHAIN = 64


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
            if not (isinstance(target.node, dict) and isinstance(target.node.get("$ref"), str)):
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

    def _resolve_one(self, ref: Any, node: Any, source: SourceFile) -> Resolved:
        if ref.__class__ is str and ref[:2] == "#/" and "~" not in ref and "%" not in ref:
            # the commonest reference: a plain pointer into the same file, through mappings only (the general
            # path below reads it the same way; it also escapes, decodes, indexes lists and says what is missing)
            pointer = tuple(ref[2:].split("/"))
            found = source.content
            for part in pointer:
                if found.__class__ is not dict or part not in found:
                    break
                found = found[part]
            else:
                return Resolved(found, source, pointer)

        def fail(message: str) -> RefError:
            return RefError(Diagnostic("error", source.ref_location(node, str(ref)), message, "ref"))

        if not isinstance(ref, str):
            raise fail("$ref must be a string")
        location, _, fragment = ref.partition("#")
        if _URI_SCHEME.match(location) or location.startswith("//"):
            raise fail(
                f"remote $ref {ref!r} is refused: references must stay inside the repository; "
                "save the file next to the description and refer to it by a relative path"
            )
        target = source if not location else self._file(unquote(location), source, fail)
        pointer = _pointer(fragment, fail, ref)
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
            raise fail(f"$ref {location!r}: no such file ({display_path(path)})")
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


def _pointer(fragment: str, fail: Any, ref: str) -> Pointer:
    if not fragment:
        return ()
    if "%" in fragment:
        fragment = unquote(fragment)
    if not fragment.startswith("/"):
        raise fail(f"$ref {ref!r}: only JSON pointers (#/…) are supported after '#', not anchors")
    parts = fragment[1:].split("/")
    if "~" in fragment:
        return tuple(part.replace("~1", "/").replace("~0", "~") for part in parts)
    return tuple(parts)


__all__ = ["Files", "NodeKey", "Pointer", "RefError", "Resolved", "SourceFile"]
