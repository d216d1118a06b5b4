"""The arguments a tool runs with: the model's, checked against the tool's schema, plus its context parameters
filled from the conversation state.

A context parameter (`context: {user_id: conversation.user_id}`) is hidden from the model and read from the
state at its path; a value the model supplies for one is refused, so a model cannot act as another user.
Messages name parameters and schema rules, never the values (they may be personal data or secrets).

An argument the schema does not declare is refused, unless the schema says what else it accepts
(`additionalProperties` or `unevaluatedProperties`, `true` or a schema): JSON Schema would let any other
name through, and a model could then smuggle a field (`is_admin`, `price`) to an endpoint or handler that never
asked for it. An OpenAPI-derived tool's binding has no place for one either, and a Data Action's contract
refuses one (`additionalProperties: false` unless the tool says otherwise): all tools, one rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema
import jsonschema_rs

from reconciler.compile.payload import normalize
from reconciler.load import nested_deeper_than
from reconciler.model import Tool
from reconciler.runtime.invocation import Invocation, ToolError
from reconciler.runtime.patterns import ExplainingValidator

_SHOWN_NAME = 64
_SHOWN_PROBLEMS = 5
MAX_DEPTH = 64
"""The deepest nesting an argument or a context value may have. JSON parses deeper (orjson up to 1,024 levels)
but the standard library's encoder and jsonschema recurse, and no tool's schema describes such depths."""


def conversation_state(invocation: Invocation) -> dict[str, Any]:
    """The state context paths read: `conversation`, with `id` and `user_id` from the top-level fields."""
    state = dict(invocation.conversation or {})
    if invocation.conversation_id is not None:
        state["id"] = invocation.conversation_id
    if invocation.user_id is not None:
        state["user_id"] = invocation.user_id
    return state


def context_values(tool: Tool, state: Mapping[str, Any]) -> dict[str, Any]:
    """Each context parameter's value, read at its path (`conversation.a.b` → state["a"]["b"])."""
    values: dict[str, Any] = {}
    for name, path in tool.context.items():
        node: Any = state
        for part in path.split(".")[1:]:
            if not isinstance(node, Mapping) or part not in node:
                raise ToolError(
                    "INVALID_PAYLOAD",
                    f"context parameter {name!r} of {tool.name} reads {path}, which the conversation state does "
                    "not hold",
                )
            node = node[part]
        if isinstance(node, (dict, list)) and nested_deeper_than(node, MAX_DEPTH):
            raise ToolError(
                "INVALID_PAYLOAD",
                f"context parameter {name!r} of {tool.name} reads {path}, which holds a value nested deeper than "
                f"{MAX_DEPTH} levels",
            )
        values[name] = node
    return values


class ArgumentChecker:
    """Checks the model's arguments of one tool; built once per tool (compiling a schema is the costly part)."""

    def __init__(self, tool: Tool) -> None:
        self.tool = tool
        # plain dicts and lists: a schema written in tools.d holds the loader's located containers, which
        # jsonschema_rs refuses ("Unsupported type: 'LocatedList'")
        schema: dict[str, Any] = closed(normalize(tool.schema))
        # offline: jsonschema-rs would fetch over HTTP what the schema names by URL (a subschema's `$schema`
        # meta-schema), and the schema is the repository's data: the service calls only the tool's upstream
        self._fast = jsonschema_rs.validator_for(schema, offline=True)
        self._schema = schema

    def check(self, arguments: Mapping[str, Any]) -> None:
        taken = sorted(name for name in arguments if name in self.tool.context)
        if taken:
            raise ToolError(
                "INVALID_ARGUMENTS",
                f"{_names(taken)} of {self.tool.name} {'is' if len(taken) == 1 else 'are'} filled from the "
                "conversation state; the model may not set "
                f"{'it' if len(taken) == 1 else 'them'}",
            )
        deep = [name for name, value in arguments.items() if isinstance(value, (dict, list))]
        for name in deep:
            if nested_deeper_than(arguments[name], MAX_DEPTH):
                raise ToolError(
                    "INVALID_ARGUMENTS",
                    f"argument {name[:_SHOWN_NAME]!r} of {self.tool.name} is nested deeper than {MAX_DEPTH} levels",
                )
        if self._fast.is_valid(arguments):
            return
        # Only a refused call pays for jsonschema's detailed errors, which carry the rule that failed; its
        # patterns match with RE2, never with `re` (see runtime/patterns.py)
        validator = ExplainingValidator(self._schema)
        # the first few problems, in the order jsonschema finds them (lazily): explaining every one of a huge
        # payload's took seconds of the event loop, and only these are shown
        problems: list[str] = []
        for error in validator.iter_errors(dict(arguments)):
            problem = _problem(error)
            if problem not in problems:
                problems.append(problem)
                if len(problems) == _SHOWN_PROBLEMS:
                    break
        if not problems:
            problems = ["they do not match its schema"]
        raise ToolError("INVALID_ARGUMENTS", f"invalid arguments for {self.tool.name}: " + "; ".join(problems))


_COMPOSING = ("allOf", "anyOf", "oneOf", "$ref", "$dynamicRef", "if", "dependentSchemas")


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, refusing the arguments it does not declare when it does not say what else it accepts: with
    `additionalProperties: false`, or, when its top level is composed (`allOf`, `$ref`, …, whose properties
    `additionalProperties` would not see), `unevaluatedProperties: false`."""
    if "additionalProperties" in schema or "unevaluatedProperties" in schema:
        return schema
    if any(keyword in schema for keyword in _COMPOSING):
        return {**schema, "unevaluatedProperties": False}
    return {**schema, "additionalProperties": False}


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(name[:_SHOWN_NAME]) for name in names[:5])
    return f"argument{'s' if len(names) > 1 else ''} {shown}"


def _problem(error: jsonschema.ValidationError) -> str:
    """What is wrong, by place and rule: `error.message` would quote the value."""
    where = "/".join(str(part)[:_SHOWN_NAME] for part in error.absolute_path)
    subject = f"argument {where!r}" if where else "the arguments"
    rule = error.validator
    expected: Any = error.validator_value
    if rule == "required" and isinstance(error.instance, dict) and isinstance(expected, list):
        missing = [name for name in expected if name not in error.instance]
        return f"{subject}: missing required {_names(missing)}"
    if rule == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        return f"{subject}: unknown {_names(sorted(set(error.instance) - known))}"
    if rule == "unevaluatedProperties" and expected is False:
        return f"{subject}: hold arguments the schema does not declare"
    if rule == "type":
        return f"{subject}: must be of type {' or '.join(expected) if isinstance(expected, list) else expected}"
    if rule in ("enum", "const"):
        return f"{subject}: not one of the allowed values"
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength"):
        return f"{subject}: breaks {rule} {expected}"
    return f"{subject}: does not meet the schema's {rule!r} rule"


__all__ = ["ArgumentChecker", "closed", "context_values", "conversation_state"]
