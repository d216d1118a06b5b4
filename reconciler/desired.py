"""The first half of the pipeline, end to end: tools.d/ → the validated desired set of Tools.

load → format check → compile → tool rules. Every stage appends diagnostics; nothing here touches the network.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.compile import compile_tool_definition
from reconciler.compile.data_actions import check_profile
from reconciler.config import Config
from reconciler.errors import Diagnostic, InputError, sorted_diagnostics
from reconciler.load import Document, display_path, load_directory, read_documents
from reconciler.model import SkippedOperation, Tool
from reconciler.validate import check_document, check_tools
from reconciler.validate.integration_rules import check_shared_integration

if TYPE_CHECKING:
    from reconciler.compile.openapi import OpenApiResult


@dataclass
class DesiredState:
    tools: list[Tool]
    skipped: list[SkippedOperation]
    diagnostics: list[Diagnostic]
    config: Config
    variables: dict[str, str] = field(default_factory=dict)
    contested: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Tool names an OpenAPI description gave out of a collision, with their group (see `NameBook.contested`)."""
    _sources: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _folders: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)
    _entries: dict[str, dict[str, bool]] = field(default_factory=dict, repr=False, compare=False)
    _root: Path | None = field(default=None, repr=False, compare=False)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def sensitive_values(self) -> list[str]:
        """Values read from variables marked sensitive: they must never be printed."""
        return [value for name, value in self.variables.items() if value and self.config.is_sensitive(name)]

    def raise_for_errors(self, *, strict: bool = False) -> None:
        if self.errors or (strict and self.warnings):
            raise InputError(self.diagnostics)

    def source_file(self, tool: Tool) -> str:
        """The file a tool came from, relative to the repository root (for the ownership label): where it is once
        links are followed. Each file is placed once (an OpenAPI description gives many tools), and each folder
        resolved once for all its files: a file that is no link is its folder's place plus its name."""
        file = tool.location.file
        known = self._sources.get(file)
        if known is None:
            folder, name = os.path.split(file)
            if name in ("", os.curdir, os.pardir) or self._is_link(folder, name, file):
                known = self._relative(Path(file)) or Path(file).as_posix()
            else:
                if folder not in self._folders:
                    self._folders[folder] = self._relative(Path(folder or os.curdir))
                place = self._folders[folder]
                known = Path(file).as_posix() if place is None else name if place == "." else f"{place}/{name}"
            self._sources[file] = known
        return known

    def _is_link(self, folder: str, name: str, file: str) -> bool:
        """`os.path.islink(file)`, answered from one listing of its folder (whether each entry is a link comes
        with its name), not from a call to the system per file."""
        if folder not in self._entries:
            try:
                with os.scandir(folder or os.curdir) as listing:
                    self._entries[folder] = {entry.name: entry.is_symlink() for entry in listing}
            except OSError:
                self._entries[folder] = {}
        link = self._entries[folder].get(name)
        return os.path.islink(file) if link is None else link

    def _relative(self, path: Path) -> str | None:
        """`path` resolved, relative to the repository root (None when it is outside)."""
        if self._root is None:
            self._root = self.config.root.resolve()
        try:
            return path.resolve().relative_to(self._root).as_posix()
        except ValueError:
            return None


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Loading, and planning after it, build hundreds of thousands of small acyclic containers that live until
    the run ends (documents, tools, live records, payloads); the cyclic collector would scan them again and
    again as they accumulate (a third of the validate time at 3,000 files, a tenth of a 10,000-tool plan's)
    and never free any. Reference counting still frees everything as usual. Nested uses pause it once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # What was built lives until the run ends: set it aside, or the first collection after this
            # would scan all of it once more (~0.1 s at 3,000 files) to free nothing.
            gc.freeze()
            gc.enable()


def build_desired_state(
    directory: Path, config: Config, environ: Mapping[str, str], *, output_schemas: bool = True
) -> DesiredState:
    """`output_schemas`: convert OpenAPI success answers too (`Tool.output_schema`: a Data Action's successSchema,
    a Tool's outputSchema); every CLI command converts them, even `render --format openai`, whose function form
    has no output: a broken answer is refused by every command alike (off, they are two fifths of the compile)."""
    with cyclic_gc_paused():
        return _build(directory, config, environ, output_schemas)


def _build(directory: Path, config: Config, environ: Mapping[str, str], output_schemas: bool) -> DesiredState:
    loaded = load_directory(directory, environ, root=config.root)
    diagnostics = list(loaded.diagnostics)
    tools: list[Tool] = []
    skipped: list[SkippedOperation] = []
    sources: list[Document] = []
    descriptions: list[Document] = []
    contested: dict[str, tuple[str, ...]] = {}
    for document in loaded.documents:
        problems = check_document(document)
        if problems:
            diagnostics.extend(problems)
        elif document.kind == "tool":
            tools.append(compile_tool_definition(document))
        elif document.kind == "source":
            sources.append(document)
        else:
            descriptions.append(document)
    if sources or descriptions:
        found = (tools, skipped, diagnostics, contested)
        _compile_openapi(sources, descriptions, config, environ, found, output_schemas=output_schemas)
    diagnostics.extend(check_tools(tools, config.limits))
    if config.target == "data-actions":
        diagnostics.extend(check_profile(tools, category=config.category or config.integration or ""))
        diagnostics.extend(check_shared_integration(tools, config))
    tools.sort(key=lambda tool: (tool.name, tool.location))
    skipped.sort(key=lambda op: (op.location, op.operation))
    return DesiredState(tools, skipped, sorted_diagnostics(diagnostics), config, loaded.variables, contested)


def _compile_openapi(
    sources: list[Document],
    descriptions: list[Document],
    config: Config,
    environ: Mapping[str, str],
    found: tuple[list[Tool], list[SkippedOperation], list[Diagnostic], dict[str, tuple[str, ...]]],
    *,
    output_schemas: bool,
) -> None:
    # imported here: a tools.d of hand-written tools never needs the OpenAPI compiler (~19 ms of every start-up)
    from reconciler.compile.openapi import compile_openapi, description_path

    tools, skipped, diagnostics, contested = found

    def compile_one(description: Document, source: Any, source_document: Document | None) -> None:
        result = compile_openapi(
            description,
            source=source,
            source_document=source_document,
            root=config.root,
            limits=config.limits,
            environ=environ,
            output_schemas=output_schemas,
        )
        _collect(result, tools, skipped, diagnostics, contested)

    named: set[Path] = set()
    loaded: dict[Path, Document] = {document.path.resolve(): document for document in descriptions}
    for source_document in sources:
        try:
            path = description_path(source_document, config.root).resolve()
            if path not in loaded:
                documents = read_documents(path, display_path(path))
                if not documents or documents[0].kind != "openapi":
                    raise InputError.at(
                        source_document.locate("source", "openapi"),
                        f"{display_path(path)} is not an OpenAPI description (no top-level 'openapi' or 'swagger')",
                    )
                loaded[path] = documents[0]
        except InputError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        named.add(path)
        compile_one(loaded[path], source_document.content["source"], source_document)
    for description in descriptions:
        if description.path.resolve() not in named:  # no source names it: every operation, the defaults
            compile_one(description, None, None)


def _collect(
    result: OpenApiResult,
    tools: list[Tool],
    skipped: list[SkippedOperation],
    diagnostics: list[Diagnostic],
    contested: dict[str, tuple[str, ...]],
) -> None:
    contested.update(result.contested)
    tools.extend(result.tools)
    skipped.extend(result.skipped)
    diagnostics.extend(result.diagnostics)
