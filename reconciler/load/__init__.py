"""Stage 1: files → documents that remember their place.

`load_directory` reads `tools.d/` recursively in sorted order, refuses hostile YAML cheaply, and replaces
`${VAR}` references in tool definitions and sources. It does no network I/O.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import Diagnostic, InputError
from reconciler.load.files import (
    DOCUMENT_SUFFIXES,
    Document,
    DocumentKind,
    discover,
    display_path,
    read_documents,
)
from reconciler.load.interpolate import interpolate
from reconciler.load.located import (
    LocatedDict,
    LocatedList,
    item_location,
    key_location,
    locate,
    location,
    node_location,
)
from reconciler.load.lookalikes import files_named, ignored_lookalikes
from reconciler.load.yaml_loader import nested_deeper_than
from reconciler.model import SourceLocation
from reconciler.redaction import OWN_CREDENTIAL_VARIABLES


@dataclass
class LoadedState:
    """Every document found, the errors met on the way, and the variables read from the environment."""

    documents: list[Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)


def load_directory(directory: Path, environ: Mapping[str, str], *, root: Path | None = None) -> LoadedState:
    """Every document below `directory`; links are followed while they stay inside `root` (the repository)."""
    state = LoadedState()
    if directory.is_dir():
        state.diagnostics.extend(ignored_lookalikes(directory))
    for path, file in _named_files(directory, root=root, problems=state.diagnostics):
        try:
            documents = read_documents(path, file)
        except InputError as exc:
            state.diagnostics.extend(exc.diagnostics)
            continue
        for document in documents:
            if not isinstance(document.content, dict):
                # by isinstance: the loader's list is a subclass (LocatedList), whose name means nothing to a user
                kind = next(
                    (words for cls, words in _KINDS.items() if isinstance(document.content, cls)),
                    type(document.content).__name__,
                )
                several = "; write one tool per document, separated by `---`" if kind == "a list" else ""
                state.diagnostics.append(
                    Diagnostic(
                        "error",
                        document.location,
                        f"a document must be a mapping (a tool definition, a source: or an OpenAPI "
                        f"description), not {kind}{several}",
                        "type",
                    )
                )
                continue
            if document.kind != "openapi" and not document.without_dollar:
                interpolate(
                    document.content,
                    document.file,
                    environ,
                    state.diagnostics,
                    state.variables,
                    refused=OWN_CREDENTIAL_VARIABLES,
                )
            state.documents.append(document)
    return state


_KINDS = {list: "a list", str: "text", bool: "true or false", int: "a number", float: "a number", type(None): "null"}
"""What a document that is not a mapping holds, in the words of its file (not Python's type names)."""


def _missing_folder(directory: Path) -> str:
    """What to do about a folder that is not there. Run from inside the repository (in tools.d itself, or a
    folder beside it), the folder is found above, as git finds its root, and the message says where to run."""
    if not directory.is_absolute():
        here = Path.cwd()
        for above in here.parents:
            if (above / directory).is_dir():
                up = os.path.relpath(above, here)
                return (
                    f"no such directory here; {os.path.join(up, directory)} is one: run reconciler from "
                    f"{up} (`cd {up}`), where the repository's tools.d and reconciler.yaml are"
                )
            if (above / ".git").exists():
                break
    # `test` takes its conversations as DIR: its tools come with --tools
    return (
        "no such directory; pass the folder that holds your tool definitions (default: tools.d; "
        "`reconciler test` takes it as --tools DIR)"
    )


def _named_files(directory: Path, *, root: Path | None, problems: list[Diagnostic]) -> Iterator[tuple[Path, str]]:
    """The files to read, each with the name diagnostics give it. `directory` may be one file
    (`validate tools.d/orders.yaml`); a folder's links are followed as `discover` says."""
    if directory.is_file():
        if directory.suffix not in DOCUMENT_SUFFIXES:  # `validate README.md`: its errors would be nonsense
            raise InputError.at(
                SourceLocation(display_path(directory)),
                f"not a tool definition file: only {', '.join(DOCUMENT_SUFFIXES)} files are read; pass one of "
                "them, or the folder that holds them",
                "suffix",
            )
        yield directory, display_path(directory)
        return
    if not directory.is_dir():
        if directory.suffix in DOCUMENT_SUFFIXES:
            raise InputError.at(SourceLocation(display_path(directory)), "no such file", "io")
        raise InputError.at(SourceLocation.path(display_path(directory)), _missing_folder(directory), "io")
    # the folder as the user would type it, once; each file is then named by its place inside the folder
    shown = display_path(directory)
    prefix = "" if shown == os.curdir else shown  # `validate .` names files `a.yaml`, not `./a.yaml`
    # each path found is the folder joined with the names below it: its place inside is the rest of its text
    # (os.path.relpath would make both absolute again for each of thousands of files)
    base = str(directory)
    head = "" if base == os.curdir else os.path.join(base, "")
    for path in discover(directory, root=root, problems=problems):
        text = str(path)
        inside = text[len(head) :] if text.startswith(head) else os.path.relpath(path, directory)
        yield path, os.path.join(prefix, inside)


__all__ = [
    "DOCUMENT_SUFFIXES",
    "Document",
    "DocumentKind",
    "LoadedState",
    "LocatedDict",
    "LocatedList",
    "display_path",
    "files_named",
    "interpolate",
    "item_location",
    "key_location",
    "load_directory",
    "locate",
    "location",
    "nested_deeper_than",
    "node_location",
    "read_documents",
]
