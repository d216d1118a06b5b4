"""One selected operation → one Tool (or a skipped operation, and why).

The inputs are collected and named first, without converting a schema; the context entries are taken out
(the runtime fills them, so the model never sees them), and only then is the count checked against the
capability matrix, under the source's `too_many_parameters` policy: `skip` (the default: a warning, and the
operation is skipped), `error`, or `required_only` (required parameters first, then optional ones in the
order written, up to the limit; each one left out is warned about). Only then are schemas converted.

The request binding that lets a runtime rebuild the HTTP call:

    {"method": "PUT", "url": "https://api.example.com/orders/{id}",
     "parameters": {"id": {"in": "path", "name": "id"},            # tool parameter → where it goes, as what
                    "query_id": {"in": "query", "name": "id", "style": "form", "explode": false},
                    "note": {"in": "body", "name": "note"},        # a property of the request body
                    "body": {"in": "body"}},                       # (or, without a name, the whole body)
     "content_type": "application/json"}                           # only when there is a body

`style`, `explode` (3.x) and `collectionFormat` (Swagger 2.0) are copied when the description sets them.
Context parameters stay in the binding: the runtime fills them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from reconciler.compile.openapi import names
from reconciler.compile.openapi.operations import Operation
from reconciler.compile.openapi.parameters import Input, OperationProblem, collect, unique_names
from reconciler.compile.openapi.refs import NodeKey, SourceFile
from reconciler.compile.openapi.responses import success_schema
from reconciler.compile.openapi.schemas import SchemaConverter
from reconciler.compile.openapi.security import SecurityReader
from reconciler.compile.openapi.selection import Settings, ToolSettings
from reconciler.config import Limits
from reconciler.errors import Diagnostic
from reconciler.load import LocatedDict, key_location
from reconciler.model import Security, SourceLocation, Tool


@dataclass
class ToolPlan:
    """What the compiler decided for one operation before building its tool."""

    operation: Operation
    name: str
    endpoint: str
    settings: ToolSettings
    field_locations: dict[str, SourceLocation] = field(default_factory=dict)


class ToolBuilder:
    def __init__(
        self,
        converter: SchemaConverter,
        settings: Settings,
        limits: Limits,
        consumes: list[str],
        *,
        swagger: bool = False,
        produces: list[str] | None = None,
        security: SecurityReader | None = None,
        answers: SchemaConverter | None = None,
    ) -> None:
        self.answers = answers
        """The converter of success answers (write-only properties left out); None: no output schemas."""
        self.converter = converter
        self.swagger = swagger
        self.produces = produces or []
        """Swagger 2.0's document-wide `produces`, for operations that do not say their own."""
        self.security = security
        self.settings = settings
        self.limits = limits
        self.consumes = consumes
        self.diagnostics: list[Diagnostic] = []

    def build(self, plan: ToolPlan) -> Tool:
        """The tool for `plan`; raises OperationProblem when the operation cannot become one."""
        operation = plan.operation
        context = plan.settings.context
        # With no context entry to take out, an operation with more inputs than the limit is skipped whatever
        # they are (unless `required_only` picks some): they are only counted, and neither made nor named.
        counted_only = (
            not context and not plan.settings.override_context and self.settings.too_many_parameters != "required_only"
        )
        security = self.security.requirement(operation) if self.security is not None else None
        inputs = collect(
            operation.node,
            operation.source,
            operation.shared,
            operation.path,
            self.converter,
            self.consumes,
            at_most=self.limits.max_parameters if counted_only else None,
            filled=_api_keys(security, self.settings.credentials),
        )
        for parameter, written_in in inputs.credentials:
            self.diagnostics.append(
                Diagnostic(
                    "warning",
                    _parameter_location(operation, parameter, written_in),
                    f"{operation.label}: {parameter['in']} parameter {parameter['name']!r} is left out of the tool: "
                    "a security scheme of the operation sends it, filled from the source's credentials",
                    "credential-parameter",
                )
            )
        for parameter, written_in in inputs.unplaced:
            self.diagnostics.append(
                Diagnostic(
                    "warning",
                    _parameter_location(operation, parameter, written_in),
                    f"{operation.label}: path parameter {parameter['name']!r} is left out of the tool: the path has "
                    f"no {{{parameter['name']}}} to put it in (a path parameter's name must be one of its path's)",
                    "unplaced-parameter",
                )
            )
        for parameter, written_in in inputs.dropped_headers:
            name = parameter["name"]
            sent = (
                f" (the body goes as {inputs.content_type})"
                if name.lower() == "content-type" and inputs.content_type
                else ""
            )
            message = f"{operation.label}: header parameter {name!r} is left out of the tool: the HTTP client sets it"
            where = _parameter_location(operation, parameter, written_in)
            self.diagnostics.append(Diagnostic("warning", where, message + sent, "client-header"))
        if inputs.counted is not None:
            self._too_many(operation, inputs.counted)
        tool_names = unique_names(inputs.items)
        for key in plan.settings.override_context:
            if key not in tool_names:
                self.diagnostics.append(
                    Diagnostic(
                        "warning",
                        plan.field_locations.get("context", operation.locate()),
                        f"context entry {key!r} of {plan.name} names none of its parameters "
                        f"({', '.join(tool_names) or 'it has none'})",
                        "context",
                    )
                )
        visible = [(name, item) for name, item in zip(tool_names, inputs.items, strict=True) if name not in context]
        visible = self._fit(operation, visible)
        deps: set[NodeKey] = set()
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, item in visible:
            properties[name] = self._schema(operation, name, item, deps)
            if item.required:
                required.append(name)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        if deps:
            schema["$defs"] = self.converter.definitions(deps)
        kept = {name for name, _ in visible} | set(context)
        bindings: dict[str, Any] = {}
        for name, item in zip(tool_names, inputs.items, strict=True):
            if name in kept:
                binding = {"in": item.location} if item.whole_body else {"in": item.location, "name": item.name}
                if item.binding:
                    binding.update(item.binding)
                bindings[name] = binding
        request: dict[str, Any] = {"method": operation.method.upper(), "url": plan.endpoint, "parameters": bindings}
        if inputs.content_type is not None and any(item.location == "body" for item in inputs.items):
            request["content_type"] = inputs.content_type
        return Tool(
            name=plan.name,
            description=self._description(plan),
            endpoint=plan.endpoint,
            schema=schema,
            location=operation.locate(),
            context=dict(context),
            rate_limit=plan.settings.rate_limit,
            labels=dict(plan.settings.labels),
            request=request,
            protected=plan.settings.protected,
            ignore_changes=plan.settings.ignore_changes,
            origin="openapi",
            schema_is_user_written=False,
            field_locations=plan.field_locations,
            timeout=plan.settings.timeout,
            secure=plan.settings.secure,
            output_schema=(
                success_schema(operation.node, operation.source, self.answers, self.swagger, self.produces)
                if self.answers is not None
                else None
            ),
            security=security,
        )

    def _fit(self, operation: Operation, visible: list[tuple[str, Input]]) -> list[tuple[str, Input]]:
        limit = self.limits.max_parameters
        if len(visible) <= limit:
            return visible
        if self.settings.too_many_parameters != "required_only":
            self._too_many(operation, len(visible))
        where = operation.locate()
        required = [entry for entry in visible if entry[1].required]
        if len(required) > limit:
            count = f"{operation.label} has {len(visible)} parameters, more than the limit of {limit}"
            detail = f" ({len(required)} of them required)"
            self.diagnostics.append(Diagnostic("warning", where, f"skipped: {count}{detail}", "too-many-parameters"))
            raise OperationProblem(f"{len(visible)} parameters{detail}, more than the limit of {limit}", reported=True)
        room = limit - len(required)
        optional = [entry for entry in visible if not entry[1].required]
        # (by name, which `unique_names` made unique, not by id: mypyc rebuilds a tuple read from a list)
        left_out = {name for name, _ in optional[room:]}
        for name, item in optional[room:]:
            self.diagnostics.append(
                Diagnostic(
                    "warning",
                    where,
                    f"{operation.label}: optional parameter {name!r} ({item.location}) left out to stay within "
                    f"{limit} parameters (too_many_parameters: required_only)",
                    "too-many-parameters",
                )
            )
        return [entry for entry in visible if entry[0] not in left_out]

    def _too_many(self, operation: Operation, count: int) -> NoReturn:
        """Skip an operation with `count` parameters, more than the limit, under the `skip` or `error` policy."""
        limit = self.limits.max_parameters
        where = operation.locate()
        said = f"{operation.label} has {count} parameters, more than the limit of {limit}"
        if self.settings.too_many_parameters == "error":
            self.diagnostics.append(
                Diagnostic("error", where, f"{said} (too_many_parameters: error)", "too-many-parameters")
            )
        else:
            self.diagnostics.append(Diagnostic("warning", where, f"skipped: {said}", "too-many-parameters"))
        raise OperationProblem(f"{count} parameters, more than the limit of {limit}", reported=True)

    def _schema(self, operation: Operation, name: str, item: Input, deps: set[NodeKey]) -> Any:
        schema = self.converter.convert(item.schema, item.source, deps)
        if isinstance(schema, bool):
            schema = {} if schema else {"not": {}}
        extra: dict[str, Any] = {}
        # a parameter's own description says what it means here; its schema's, often a shared component's, only
        # what the type is: the parameter's wins (OpenAPI gives the schema's no precedence)
        text = item.description
        if item.note is not None:
            said = text or schema.get("description")
            text = f"{item.note} {said}" if isinstance(said, str) and said else item.note
        if text and ("description" not in schema or schema["description"] != text):
            extra["description"] = text
        if item.deprecated:
            extra["deprecated"] = True
        if item.examples:  # OpenAPI: the parameter's example SHALL override the one its schema provides
            extra["examples"] = item.examples
        kind = schema.get("type")
        if isinstance(kind, list):
            allowed = [t for t in kind if t in self.limits.parameter_types]
            if not allowed:
                raise OperationProblem(
                    f"parameter {name!r} has type {kind}, none of {list(self.limits.parameter_types)}"
                )
            extra["type"] = allowed[0] if len(allowed) == 1 else allowed
            if "null" not in allowed and isinstance(schema.get("enum"), list):
                extra["enum"] = [value for value in schema["enum"] if value is not None]
        elif isinstance(kind, str) and kind not in self.limits.parameter_types:
            raise OperationProblem(
                f"parameter {name!r} has type {kind!r}, not one of {list(self.limits.parameter_types)}"
            )
        return {**schema, **extra} if extra else schema

    def _description(self, plan: ToolPlan) -> str:
        operation = plan.operation
        limit = self.limits.max_description_length
        node = operation.node
        # A deprecated operation says so first, where a model reads it: it should prefer another way.
        mark = DEPRECATED if node.get("deprecated") is True else ""
        room = limit - len(mark)
        if plan.settings.description is not None:
            text = names.clean(plan.settings.description)
            shortened = len(text) > room
            text = names.shorten(text, room)
        else:
            text, shortened = names.describe(
                node.get("summary"), node.get("description"), operation.method, operation.path, room
            )
        text = mark + text
        if shortened:
            if "description" in plan.field_locations:
                where = plan.field_locations["description"]
            else:
                where = operation.locate("description" if "description" in node else "summary")
            self.diagnostics.append(
                Diagnostic(
                    "warning",
                    where,
                    f"the description of {plan.name} is longer than {limit} characters; shortened to fit",
                    "description-shortened",
                )
            )
        return text


DEPRECATED = "Deprecated: "
"""What the description of a tool made from a deprecated operation starts with."""


def _api_keys(security: Security | None, declared: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    """(place, name) of every API key `security` may send from a credential the source declares (`credentials:`,
    even empty where only `serve` sets it), a header's name in lower case (it is one header whatever its case).
    A key no credential fills stays a parameter: a `context` entry, or a Data Action's flow, may give it."""
    if security is None or not declared:
        return frozenset()
    return frozenset(
        (scheme.location, scheme.parameter.lower() if scheme.location == "header" else scheme.parameter)
        for alternative in security.alternatives
        for scheme in alternative
        if scheme.kind == "apiKey" and scheme.name in declared
    )


def _parameter_location(operation: Operation, parameter: dict[str, Any], written_in: SourceFile) -> SourceLocation:
    """Where a parameter's name was written: exactly in YAML; in JSON, when the operation itself lists it."""
    if isinstance(parameter, LocatedDict):
        return key_location(written_in.file, parameter, "name")
    listed = operation.node.get("parameters")
    if isinstance(listed, list):
        for index, item in enumerate(listed):
            if item is parameter:
                return operation.locate("parameters", str(index), "name")
    return operation.locate()


__all__ = ["DEPRECATED", "ToolBuilder", "ToolPlan"]
