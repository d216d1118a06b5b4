"""Finding the files of the desired state, and reading one file into documents."""

from __future__ import annotations

import itertools
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reconciler.errors import Diagnostic, InputError
from reconciler.load.json_positions import JsonPositions
from reconciler.load.located import LocatedDict, locate
from reconciler.load.yaml_loader import decode, parse_json, parse_yaml
from reconciler.model import SourceLocation

DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_DOCUMENTS = 1000
"""Documents in one file; parsing stops at the first one past it (a file of a million `---` costs no more)."""
_CHUNK = 1024 * 1024

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
    without_dollar: bool = field(default=False, compare=False, repr=False)
    """No string of it can hold `$`: its file has neither `$` nor a backslash (an escape could write one), so
    there is nothing to interpolate."""

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
                self._relocated["positions"] = JsonPositions(read_regular_file(self.path, self.file))
            except InputError:
                self._relocated["positions"] = None
        positions: JsonPositions | None = self._relocated["positions"]
        return positions

    def _located_json(self) -> Any:
        # JSON is parsed without positions; reparse through the YAML composer on first need.
        if "root" not in self._relocated:
            try:
                documents = parse_yaml(decode(read_regular_file(self.path, self.file), self.file), self.file)
                self._relocated["root"] = next(documents, (self.content,))[0]
            except InputError:
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


def discover(directory: Path, *, root: Path | None = None, problems: list[Diagnostic] | None = None) -> list[Path]:
    """Every document file below `directory`, recursively, in sorted order (hidden entries skipped).

    Symbolic links are followed when they stay inside `root` (the repository; by default `directory`). A link
    that leads outside it, to nothing, or back into a folder being read is an error at the link's place,
    appended to `problems` (raised when none is given): a folder skipped in silence would have its tools
    pruned by the next apply.
    """
    boundary = (root or directory).resolve()
    found: list[Path] = []
    errors: list[Diagnostic] = []

    def refuse(path: Path, message: str) -> None:
        # a link or a folder: no line to point at, named by its path alone (as a missing tools.d is)
        errors.append(Diagnostic("error", SourceLocation.path(display_path(path)), message, "link"))

    def walk(folder: Path, chain: frozenset[Path]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            refuse(folder, f"cannot read the folder: {exc.strerror}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            is_document = entry.name.endswith(DOCUMENT_SUFFIXES)
            if entry.is_symlink():
                target = Path(os.path.realpath(path))
                if not target.exists():
                    refuse(path, f"a link to {os.readlink(path)}, which does not exist; fix or remove the link")
                    continue
                if not target.is_dir() and not is_document:
                    continue
                if not target.is_dir() and not target.is_file():
                    found.append(path)  # a device or FIFO: reading refuses it as not a regular file
                    continue
                if not target.is_relative_to(boundary):
                    refuse(
                        path,
                        f"a link to {target}, outside the repository ({boundary}); the reconciler reads only the "
                        "repository: move the files into it, or link to a place inside it",
                    )
                    continue
                if target.is_dir():
                    if target in chain:
                        refuse(path, f"a link back to {display_path(target)}, which is being read: a loop")
                    else:
                        walk(path, chain | {target})
                    continue
                found.append(path)
            elif entry.is_dir():
                walk(path, chain | {Path(os.path.realpath(path))})
            elif is_document:
                found.append(path)
            elif entry.name.lower().endswith(DOCUMENT_SUFFIXES) and entry.is_file():
                # `orders.YAML` is not read: say so, or its tools would be pruned without a word
                suffix = entry.name[entry.name.rindex(".") :]
                errors.append(
                    Diagnostic(
                        "warning",
                        SourceLocation(display_path(path)),
                        f"not read: only {', '.join(DOCUMENT_SUFFIXES)} files count (not {suffix}); rename it to "
                        f"{entry.name[: -len(suffix)]}{suffix.lower()}",
                        "suffix",
                    )
                )

    walk(directory, frozenset({Path(os.path.realpath(directory))}))
    if problems is not None:
        problems.extend(errors)
    elif any(error.severity == "error" for error in errors):
        raise InputError(errors)
    depth = len(directory.parts)  # every path found is `directory` joined with the names below it
    return sorted(found, key=lambda p: p.parts[depth:])


def read_documents(path: Path, file: str | None = None) -> list[Document]:
    """Parse one file into its documents. Raises InputError for unreadable or malformed files."""
    file = file or display_path(path)
    data = read_regular_file(path, file)
    is_json = path.suffix == ".json"
    if is_json:
        data = data.removeprefix(b"\xef\xbb\xbf")
        if not data or data.isspace():  # (`not data.strip()` without a copy of the whole file)
            decode(data, file)  # whitespace that is not UTF-8 is still reported as such
            return []
        contents = [(parse_json(data, file, classify), SourceLocation(file))]
    else:
        contents = list(itertools.islice(parse_yaml(decode(data, file), file), MAX_DOCUMENTS + 1))
        if len(contents) > MAX_DOCUMENTS:
            raise InputError.at(
                contents[MAX_DOCUMENTS][1],
                f"more than {MAX_DOCUMENTS} documents in one file; split it into several files",
                "limit",
            )
    plain = b"$" not in data and b"\\" not in data
    documents = [
        Document(file, path, index, content, where, classify(content), without_dollar=plain)
        for index, (content, where) in enumerate(contents)
    ]
    if is_json and documents and documents[0].kind == "openapi":
        # the compiler places every operation by its line: keep the bytes just read rather than read them again
        documents[0]._relocated["positions"] = JsonPositions(data)
    return documents


def read_regular_file(path: Path, file: str) -> bytes:
    """The bytes of a regular file, at most MAX_FILE_BYTES of them, or an InputError that says why not.

    A device (`/dev/zero`, `/dev/urandom`) or a FIFO named like a document never ends or never answers: the
    file is opened without blocking, checked to be a regular file through its descriptor (so a path swapped
    after the check cannot slip through), and read in chunks that stop at the limit, whatever its size said."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise InputError.at(SourceLocation(file), f"cannot read the file: {exc.strerror}", "io") from None
    # the descriptor is read as it is: a file object around it would cost a second fstat and more than the
    # read itself for the small files tools.d holds (a plan reads every one)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise InputError.at(
                SourceLocation(file),
                "not a regular file (a device, FIFO or socket); tools.d holds only files with text",
                "io",
            )
        chunks: list[bytes] = []
        size = 0
        # first the size the file says, in one read: a file read whole is kept as read (joining one chunk
        # copies nothing) and a small one does not get a buffer of _CHUNK; then chunks, in case it grew
        wanted = min(status.st_size, MAX_FILE_BYTES) or _CHUNK
        while chunk := os.read(descriptor, wanted):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise InputError.at(
                    SourceLocation(file), f"file is larger than the limit of {MAX_FILE_BYTES} bytes", "limit"
                )
            chunks.append(chunk)
            wanted = _CHUNK
    except OSError as exc:
        raise InputError.at(SourceLocation(file), f"cannot read the file: {exc.strerror}", "io") from None
    finally:
        os.close(descriptor)
    return b"".join(chunks)


def classify(content: Any) -> DocumentKind:
    if isinstance(content, dict):
        if "openapi" in content or "swagger" in content:
            return "openapi"
        if "source" in content:
            return "source"
    return "tool"
