"""OpenAPI descriptions (Swagger 2.0, OpenAPI 3.0 and 3.1) → one Tool per selected operation.

    compile_openapi     a description (with its `source:` settings, or the defaults of a bare description)
                        → tools, skipped operations, and diagnostics with file:line
    description_path    where a `source:` document's `openapi:` path points, checked to stay in the repository

Inside, one idea per module: `refs` follows `$ref`s within the repository (`reconciler.load.json_positions` places
nodes of JSON files), `cycles` finds the referenced schemas that refer to themselves, `schemas` turns OpenAPI
schemas into draft 2020-12 (with `keywords`, `combine` and `definitions`), `operations` lists the operations and
their URLs, `parameters` collects each operation's inputs, `names` makes tool names and descriptions, `selection`
reads the source's settings, and `tools` builds each Tool. Problems in a description never raise: they become
diagnostics (with file and line) or skipped operations, and every operation is either a tool or skipped.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.compile.openapi.names import NameBook, base_name, fit
from reconciler.compile.openapi.operations import Operation, base_url, join, list_operations
from reconciler.compile.openapi.parameters import OperationProblem
from reconciler.compile.openapi.refs import Files, RefError
from reconciler.compile.openapi.schemas import SchemaConverter
from reconciler.compile.openapi.security import SecurityReader
from reconciler.compile.openapi.selection import OperationFacts, Settings, tool_settings
from reconciler.compile.openapi.tools import ToolBuilder, ToolPlan
from reconciler.config import Limits, compile_pattern
from reconciler.errors import Diagnostic, InputError
from reconciler.load import Document, display_path, files_named
from reconciler.model import SkippedOperation, SourceLocation, Tool


@dataclass
class OpenApiResult:
    tools: list[Tool] = field(default_factory=list)
    skipped: list[SkippedOperation] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    contested: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Names given out of a collision, each with the names of its group (see `NameBook.contested`)."""


def description_path(source_document: Document, root: Path) -> Path:
    """The description a `source:` names, resolved from the source's own file; InputError (at the
    `openapi:` key) when it leaves `root` or does not exist."""
    where = source_document.locate("source", "openapi")
    source = source_document.content.get("source") if isinstance(source_document.content, dict) else None
    value = source.get("openapi") if isinstance(source, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        raise InputError.at(where, "source.openapi must be the path of an OpenAPI description", "openapi")
    if "://" in value:
        raise InputError.at(
            where,
            f"source.openapi {value!r} is a URL; descriptions are not fetched: save it in the repository and give "
            "its path relative to this file",
            "openapi",
        )
    path = (source_document.path.parent / value).resolve()
    if not path.is_relative_to(root.resolve()):
        raise InputError.at(
            where, f"source.openapi {value!r} leaves the repository root ({display_path(root)})", "openapi"
        )
    if not path.is_file():
        # the usual slip: a path written from the repository root, or from where the command runs
        folder = source_document.path.parent
        named = [p for p in files_named(root, path.name) if p.resolve() != source_document.path.resolve()]
        relative = [Path(os.path.relpath(p, folder.resolve())).as_posix() for p in named]
        hint = f": write {' or '.join(relative)}" if relative else ""
        raise InputError.at(
            where,
            f"source.openapi {value!r}: no such file ({display_path(path)}); the path is relative to the folder "
            f"of this file ({display_path(folder)}){hint}",
            "openapi",
        )
    return path


def _media_types(content: dict[str, Any], key: str) -> list[str]:
    """Swagger 2.0's document-wide `consumes` or `produces` (a list of media types; anything else says nothing)."""
    listed = content.get(key) if "swagger" in content else None
    return [m for m in listed if isinstance(m, str)] if isinstance(listed, list) else []


def compile_openapi(
    description: Document,
    *,
    source: Mapping[str, Any] | None,
    source_document: Document | None,
    root: Path,
    limits: Limits,
    environ: Mapping[str, str] | None = None,
    output_schemas: bool = True,
) -> OpenApiResult:
    """Every operation of `description` as a tool or a skipped operation. `environ` is accepted for symmetry
    with the other compilers: the `source:` mapping arrives interpolated, and descriptions are taken as written.
    `output_schemas`: also convert each operation's success answer (`Tool.output_schema`: the Tools API's
    `outputSchema`, a Data Action's `successSchema`); off, a broken answer goes unreported, and the compile of a
    large description takes two fifths less.
    """
    result = OpenApiResult()
    content = description.content
    if not isinstance(content, dict):
        result.diagnostics.append(Diagnostic("error", description.location, "an OpenAPI description is a mapping"))
        return result
    if not content.get("paths"):  # valid OpenAPI (3.1 allows it), and easy to mistake for a file that counts
        result.diagnostics.append(
            Diagnostic("warning", description.location, "this OpenAPI description has no paths: no tool comes from it")
        )
    settings = Settings.read(source)
    files = Files(description, root)
    converter = SchemaConverter(files)
    # an answer holds what a request cannot set (`readOnly`: ids, timestamps) and leaves out what only a
    # request carries (`writeOnly`: passwords): a converter of its own, which reads references as inputs do
    answers = SchemaConverter(files, hidden="writeOnly", graph=converter.graph) if output_schemas else None
    listing = list_operations(files)
    result.skipped += listing.skipped
    result.diagnostics += listing.diagnostics
    consumes, produces = _media_types(content, "consumes"), _media_types(content, "produces")
    security = SecurityReader(files, settings.credentials)
    builder = ToolBuilder(
        converter,
        settings,
        limits,
        consumes,
        swagger="swagger" in content,
        produces=produces,
        security=security,
        answers=answers,
    )
    for name in settings.credentials:
        if name not in security.schemes and name not in security.broken:
            close = difflib.get_close_matches(name, list(security.schemes), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; it defines {sorted(security.schemes) or 'none'}"
            result.diagnostics.append(
                Diagnostic(
                    "warning",
                    _where(source_document, description, "source", "credentials", name),
                    f"credentials name security scheme {name!r}, which {description.file} does not define{hint}",
                    "unknown-scheme",
                )
            )
    plans = _plans(listing.operations, settings, source_document, description, result, limits)
    if source_document is not None:
        _unmatched_selection(settings, [facts for _, _, facts in plans], source_document, description, result)
    missing_base = settings.endpoint_base is None and base_url(content) is None
    for operation, plan, facts in plans:
        reason = settings.left_out(facts)
        if reason is not None:
            result.skipped.append(SkippedOperation(operation.label, operation.locate(), reason))
            continue
        if missing_base and base_url(content, operation) is None:
            result.skipped.append(SkippedOperation(operation.label, operation.locate(), "no base URL"))
            _missing_base(result, source_document, description)
            continue
        try:
            result.tools.append(builder.build(plan))
        except RefError as exc:
            result.diagnostics.append(exc.diagnostic)
            result.skipped.append(SkippedOperation(operation.label, operation.locate(), exc.diagnostic.message))
        except OperationProblem as problem:  # (a name of its own: mypyc types one name once per function)
            result.skipped.append(SkippedOperation(operation.label, operation.locate(), str(problem)))
            if not problem.reported:
                result.diagnostics.append(
                    Diagnostic("warning", operation.locate(), f"skipped {operation.label}: {problem}", "skipped")
                )
        except RecursionError:
            message = "its schemas nest too deeply to convert"
            result.diagnostics.append(
                Diagnostic("warning", operation.locate(), f"skipped {operation.label}: {message}")
            )
            result.skipped.append(SkippedOperation(operation.label, operation.locate(), message))
    result.diagnostics += builder.diagnostics + files.diagnostics
    if converter.truncated or (answers is not None and answers.truncated):
        result.diagnostics.append(
            Diagnostic("warning", description.location, "some schemas nest too deeply and were cut short", "depth")
        )
    result.diagnostics = list(dict.fromkeys(result.diagnostics))
    return result


def _plans(
    operations: list[Operation],
    settings: Settings,
    source_document: Document | None,
    description: Document,
    result: OpenApiResult,
    limits: Limits,
) -> list[tuple[Operation, ToolPlan, OperationFacts]]:
    """Names for every operation (selected or not), and what each tool gets from the source."""
    ids = [operation.operation_id for operation in operations]
    keys = [
        found or base_name(None, operation.method, operation.path)
        for found, operation in zip(ids, operations, strict=True)
    ]
    # (without an operationId, the generated name is the key)
    generated_names = [
        key if operation_id is None else base_name(operation_id, operation.method, operation.path)
        for operation, operation_id, key in zip(operations, ids, keys, strict=True)
    ]
    prefix = _checked_prefix(settings.name_prefix, generated_names, limits, source_document, description, result)
    for key in settings.overrides:
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            result.diagnostics.append(
                Diagnostic(
                    "error",
                    _where(source_document, description, "source", "overrides", key),
                    f"override {key!r} names no operation of {description.file}{hint}",
                    "unknown-operation",
                )
            )
    reserved = {
        name for override in settings.overrides.values() if isinstance(name := override.get("name"), str) and name
    }
    book = NameBook(reserved)
    plain = tool_settings(settings, None)
    fixed_base = settings.endpoint_base.rstrip("/") if settings.endpoint_base else None
    plans: list[tuple[Operation, ToolPlan, OperationFacts]] = []
    for operation, generated, key in zip(operations, generated_names, keys, strict=True):
        override = settings.overrides.get(key)
        chosen = plain if override is None else tool_settings(settings, override)
        name = chosen.name or book.give(prefix + generated)
        tags = operation.node.get("tags")
        facts = OperationFacts(
            key=key,
            method=operation.method,
            tags=tuple([t for t in tags if isinstance(t, str)]) if isinstance(tags, list) else (),
            deprecated=operation.node.get("deprecated") is True,
        )
        if fixed_base is not None and not operation.servers and "servers" not in operation.node:
            base = fixed_base  # (the commonest case: nothing of the operation's own to read)
        else:
            base = base_url(description.content, operation, settings.endpoint_base) or ""
        locations: dict[str, SourceLocation] = {}
        if override is not None:
            for field_name in ("name", "description", "context", "rate_limit", "labels"):
                if field_name in override:
                    locations[field_name] = _where(source_document, description, "source", "overrides", key, field_name)
        plans.append((operation, ToolPlan(operation, name, join(base, operation.path), chosen, locations), facts))
    result.contested.update(book.contested())
    return plans


def _checked_prefix(
    prefix: str,
    generated: list[str],
    limits: Limits,
    source_document: Document | None,
    description: Document,
    result: OpenApiResult,
) -> str:
    """The source's `name_prefix`, or, when it makes names the name pattern refuses that are fine without it, one
    error at its line and the prefix with its refused characters replaced by `_` (as an operationId's are), so
    that every tool does not repeat the error under its own name."""
    if not prefix:
        return prefix
    default = limits.name_pattern == Limits.name_pattern
    try:
        pattern = compile_pattern(limits.name_pattern)
    except ValueError:  # reconciler.yaml's own error says so
        return prefix
    first = next(
        (name for name in generated if pattern.fullmatch(fit(name)) and not pattern.fullmatch(fit(prefix + name))),
        None,
    )
    if first is None:
        return prefix
    cleaned = base_name(prefix, "", "")
    rule = "use letters, digits, '_' and '-'" if default else "make it fit limits.name_pattern of reconciler.yaml"
    hint = f", e.g. {cleaned!r}" if default else ""
    result.diagnostics.append(
        Diagnostic(
            "error",
            _where(source_document, description, "source", "name_prefix"),
            f"name_prefix {prefix!r} makes tool names that are not valid ({fit(prefix + first)!r}, "
            f"{limits.name_pattern}): {rule}{hint}",
            "name",
        )
    )
    return cleaned if pattern.fullmatch(fit(cleaned + first)) else ""


def _unmatched_selection(
    settings: Settings,
    operations: list[OperationFacts],
    source_document: Document,
    description: Document,
    result: OpenApiResult,
) -> None:
    """A warning (an error under --strict) for every include or exclude criterion that matches no operation."""
    keys = [operation.key for operation in operations]
    for part, selection in (("include", settings.include), ("exclude", settings.exclude)):
        if selection is None:
            continue
        for criterion, index, value in selection.unmatched(operations):
            hint = ""
            if criterion == "operations":
                close = difflib.get_close_matches(value, keys, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
            effect = "selects" if part == "include" else "excludes"
            result.diagnostics.append(
                Diagnostic(
                    "warning",
                    source_document.locate("source", part, criterion, index),
                    f"source.{part}.{criterion} {value!r} matches no operation of {description.file}, so it "
                    f"{effect} nothing{hint}",
                    "unmatched-selection",
                )
            )
    include_only = Settings(include=settings.include)
    if settings.include is not None and operations and all(include_only.left_out(op) for op in operations):
        result.diagnostics.append(
            Diagnostic(
                "warning",
                source_document.locate("source", "include"),
                f"source.include selects no operation of {description.file}: it gives no tools",
                "unmatched-selection",
            )
        )


def _where(source_document: Document | None, description: Document, *path: str) -> SourceLocation:
    return source_document.locate(*path) if source_document is not None else description.location


def _missing_base(result: OpenApiResult, source_document: Document | None, description: Document) -> None:
    where = _where(source_document, description, "source", "openapi")
    message = (
        f"{description.file} gives no absolute server URL (servers[0].url, or host for Swagger 2.0); "
        "set source.endpoint_base to the URL its paths are relative to"
    )
    content = description.content if isinstance(description.content, dict) else {}
    servers = content.get("servers")
    first = servers[0] if isinstance(servers, list) and servers and isinstance(servers[0], dict) else {}
    relative = first.get("url")
    if isinstance(relative, str) and relative.startswith("/"):
        # OpenAPI reads it against where the description is served: the base keeps that path
        message += f", which keeps its relative servers[0].url: e.g. https://api.example.com{relative.rstrip('/')}"
    diagnostic = Diagnostic("error", where, message, "endpoint-base")
    if diagnostic not in result.diagnostics:
        result.diagnostics.append(diagnostic)


__all__ = ["OpenApiResult", "compile_openapi", "description_path"]
