"""Finding the files of the desired state, and reading one file into documents."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reconciler.errors import InputError
from reconciler.load.json_positions import JsonPositions
from reconciler.load.located import LocatedDict, locate
from reconciler.load.yaml_loader import decode, parse_json, parse_yaml
from reconciler.model import SourceLocation

DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 32 * 1024 * 1024

DocumentKind = Literal["tool", "source", "openapi"]


@dataclass(frozen=True)
class Document:
    """One YAML/JSON document of a file: its content and where it came from."""

    file: str
    path: Path
    index: int
    content: Any
    location: SourceLocation
    kind: DocumentKind = "tool"
    _relocated: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def locate(self, *path: str | int) -> SourceLocation:
        """Where `path` (keys and indexes from the document's root) was written."""
        root = self.content
        if not isinstance(root, LocatedDict) and self.path.suffix == ".json":
            # the deepest prefix of `path` that exists, as the located containers would answer
            exists = _existing_prefix(root, path)
            found = self.locate_json(exists)
            if found is not None:
                return found
            root = self._located_json()
        return locate(self.file, root, path)

    def locate_json(self, path: tuple[str | int, ...]) -> SourceLocation | None:
        """Pretty-printed JSON (every published description) is located by indentation, without a parse."""
        positions = self.json_positions()
        found = positions.locate(path) if positions is not None else None
        return SourceLocation(self.file, *found) if found else None

    def json_positions(self) -> JsonPositions | None:
        """The positions of this JSON file's text, read once per document (None when it cannot be read)."""
        if "positions" not in self._relocated:
            try:
                self._relocated["positions"] = JsonPositions(self.path.read_bytes())
            except OSError:
                self._relocated["positions"] = None
        positions: JsonPositions | None = self._relocated["positions"]
        return positions

    def _located_json(self) -> Any:
        # JSON is parsed without positions; reparse through the YAML composer on first need.
        if "root" not in self._relocated:
            try:
                documents = list(parse_yaml(decode(self.path.read_bytes(), self.file), self.file))
                self._relocated["root"] = documents[0][0] if documents else self.content
            except (InputError, OSError):
                self._relocated["root"] = self.content
        return self._relocated["root"]


def _existing_prefix(root: Any, path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    node = root
    for index, part in enumerate(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return path[:index]
    return path


def display_path(path: Path) -> str:
    """The path as a user in the current directory would type it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def discover(directory: Path) -> list[Path]:
    """Every document file below `directory`, recursively, in sorted order (hidden entries skipped)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            Path(root, name) for name in files if name.endswith(DOCUMENT_SUFFIXES) and not name.startswith(".")
        )
    return sorted(found, key=lambda p: p.relative_to(directory).parts)


def read_documents(path: Path, file: str | None = None) -> list[Document]:
    """Parse one file into its documents. Raises InputError for unreadable or malformed files."""
    file = file or display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError.at(SourceLocation(file), f"file is {size} bytes; the limit is {MAX_FILE_BYTES}", "limit")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError.at(SourceLocation(file), f"cannot read the file: {exc.strerror}", "io") from None
    if path.suffix == ".json":
        data = data.removeprefix(b"\xef\xbb\xbf")
        if not data.strip():
            decode(data, file)  # whitespace that is not UTF-8 is still reported as such
            return []
        contents = [(parse_json(data, file, classify), SourceLocation(file))]
    else:
        contents = list(parse_yaml(decode(data, file), file))
    documents = [
        Document(file, path, index, content, where, classify(content))
        for index, (content, where) in enumerate(contents)
    ]
    if path.suffix == ".json" and documents and documents[0].kind == "openapi":
        # the compiler places every operation by its line: keep the bytes just read rather than read them again
        documents[0]._relocated["positions"] = JsonPositions(data)
    return documents


def classify(content: Any) -> DocumentKind:
    if isinstance(content, dict):
        if "openapi" in content or "swagger" in content:
            return "openapi"
        if "source" in content:
            return "source"
    return "tool"
