"""A Tool → the `PostActionInput` body that creates its Data Action (DESIGN §8).

    {"name", "category", "integrationId", "secure",
     "contract": {"input": {"inputSchema"}, "output": {"successSchema"}},
     "config": {"request": {...}, "response": {...}, "timeoutSeconds"?}}

Field names are those of the SDK's models (`PostActionInput`, `ActionContractInput`, `PostInputContract`,
`PostOutputContract`, `JsonSchemaDocument`, `ActionConfig`, `RequestConfig`, `ResponseConfig`).

The input schema holds the model-facing parameters and the context parameters, which the calling flow or guide
fills (as strings, required); `title` is the tool's name and `description` its description. What the
platform's dialect or templates cannot express is an error at the tool's file and line, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.compile.data_actions.dialect import DRAFT_04, Unexpressible, to_draft04
from reconciler.compile.data_actions.request import RAW_REQUEST, RequestBuilder
from reconciler.compile.data_actions.response import TOP_KEYWORDS, output
from reconciler.errors import Diagnostic, InputError
from reconciler.model import Tool

_TOP_INPUT = TOP_KEYWORDS | {"$defs"}


@dataclass
class CompiledAction:
    """The body, or the errors that keep the tool from becoming an action, and notes worth a warning."""

    body: dict[str, Any] | None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def action_input(tool: Tool, *, category: str, integration_id: str) -> dict[str, Any]:
    """The exact `PostActionInput` JSON body for `tool`; raises InputError (file:line) when it cannot be one."""
    compiled = compile_action(tool, category=category, integration_id=integration_id)
    if compiled.body is None:
        raise InputError(compiled.diagnostics)
    return compiled.body


def compile_action(tool: Tool, *, category: str, integration_id: str) -> CompiledAction:
    errors = []
    if tool.timeout is not None and not (float(tool.timeout).is_integer() and 1 <= tool.timeout <= 60):
        wrong = Unexpressible(("timeout",), f"{tool.timeout:g} s; a Data Action takes whole seconds, 1 to 60")
        errors.append(_error(tool, wrong))
    try:
        properties, required = _inputs(tool)
        builder = RequestBuilder(properties, required)
        if tool.request is None:
            request = builder.for_endpoint(tool.endpoint, tool.name, tool.context)
        else:
            request = builder.for_binding(tool.request)
        # Inputs the templates do not write would be lost: refuse them, unless the whole input is sent.
        raw = RAW_REQUEST in request["requestTemplate"] and request["requestType"] != "GET"
        others = _others(tool) if raw else False
    except Unexpressible as exc:
        errors.append(_error(tool, exc))
    if errors:
        return CompiledAction(None, errors)
    input_schema: dict[str, Any] = {
        "$schema": DRAFT_04,
        "title": tool.name,
        "description": tool.description,
        "type": "object",
        "properties": builder.properties,
    }
    if required:
        input_schema["required"] = [name for name in builder.properties if name in required]
    input_schema["additionalProperties"] = others
    result = output(tool.output_schema)
    config: dict[str, Any] = {"request": request, "response": result.response}
    if tool.timeout is not None:
        config["timeoutSeconds"] = int(tool.timeout)
    body = {
        "name": tool.name,
        "category": category,
        "integrationId": integration_id,
        "secure": tool.secure,
        "contract": {"input": {"inputSchema": input_schema}, "output": {"successSchema": result.success_schema}},
        "config": config,
    }
    notes = [Diagnostic("warning", tool.location, f"{tool.name}: {note}", "data-action") for note in result.notes]
    return CompiledAction(body, notes)


def _inputs(tool: Tool) -> tuple[dict[str, Any], set[str]]:
    schema = tool.schema
    for key in schema:
        if key not in _TOP_INPUT:
            raise Unexpressible(("schema", key), f"'{key}' at the top of the schema has no place in an action's input")
    defs = schema.get("$defs") or {}
    raw_properties = schema.get("properties") or {}
    properties: dict[str, Any] = {}
    for name, sub in raw_properties.items():
        properties[name] = to_draft04(sub, defs, ("parameters", name))
    required = {name for name in schema.get("required") or () if name in properties}
    for name, path in tool.context.items():
        properties[name] = {"type": "string", "description": f"Filled by the calling flow or guide from {path}."}
        required.add(name)
    return properties, required


def _others(tool: Tool) -> Any:
    """The input contract's `additionalProperties` when the whole input is the body: the tool's own (a schema
    for them included), so what the tool accepts beside its parameters reaches the endpoint."""
    written = tool.schema.get("additionalProperties", False)
    if isinstance(written, bool):
        return written
    return to_draft04(written, tool.schema.get("$defs") or {}, ("schema", "additionalProperties"))


def _error(tool: Tool, exc: Unexpressible) -> Diagnostic:
    path = exc.path
    if len(path) >= 2 and path[0] == "parameters":
        field_name = f"parameters.{path[1]}"
        inside = "/".join(path[2:])
        what = f"parameter '{path[1]}'" + (f" (at {inside})" if inside else "")
    else:
        field_name = ".".join(path[:2]) or "name"
        what = "/".join(path) or "its request"
    message = f"'{tool.name}' cannot become a Data Action: {what}: {exc.message}"
    return Diagnostic("error", tool.location_of(field_name), message, "data-action")


__all__ = ["CompiledAction", "action_input", "compile_action"]
