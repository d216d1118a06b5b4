"""Compiled Tools → errors and warnings: names, endpoints, schemas, context and the capability matrix."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

import jsonschema_rs
import orjson

from reconciler.compile import OWNERSHIP_LABELS
from reconciler.config import Limits, compile_pattern
from reconciler.errors import Diagnostic
from reconciler.model import JSON_SCHEMA_DIALECT, Tool
from reconciler.validate.document_format import did_you_mean
from reconciler.validate.request_rules import check_request
from reconciler.validate.schema_refs import check_schema_refs

if TYPE_CHECKING:  # jsonschema itself is imported only for a schema that fails the fast check (start-up time)
    import jsonschema

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
CONTEXT_PATH = re.compile(r"^conversation(\.[A-Za-z0-9_-]+)+$")
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_DEFAULT_NAME = re.compile(Limits.name_pattern)
TYPE_ALIASES = {
    "int": "integer",
    "long": "integer",
    "str": "string",
    "text": "string",
    "bool": "boolean",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "dict": "object",
    "map": "object",
    "list": "array",
}
"""What other languages call JSON Schema's types: `type: int` gets "did you mean 'integer'?"."""
_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def check_tools(tools: Iterable[Tool], limits: Limits) -> list[Diagnostic]:
    tools = list(tools)
    # RE2: linear time, whatever the user's pattern; the default one is linear in any engine, and the standard
    # library's answers it without RE2's per-call conversions (a plan checks every name)
    name_pattern = _DEFAULT_NAME if limits.name_pattern == Limits.name_pattern else compile_pattern(limits.name_pattern)
    diagnostics: list[Diagnostic] = []
    for tool in tools:
        diagnostics.extend(_check_tool(tool, limits, name_pattern))
    diagnostics.extend(_duplicate_names(tools))
    return diagnostics


def _duplicate_names(tools: list[Tool]) -> Iterator[Diagnostic]:
    first: dict[str, Tool] = {}
    for tool in sorted(tools, key=lambda t: t.location):
        if tool.name in first:
            other = first[tool.name]
            yield Diagnostic(
                "error",
                tool.location_of("name"),
                f"duplicate tool name '{tool.name}': also defined at {other.location_of('name')}; "
                "tool names must be unique across tools.d",
                "duplicate-name",
            )
        else:
            first[tool.name] = tool


def _check_tool(tool: Tool, limits: Limits, name_pattern: Any) -> Iterator[Diagnostic]:
    def error(field: str, message: str, code: str = "invalid") -> Diagnostic:
        return Diagnostic("error", tool.location_of(field), message, code)

    if not name_pattern.fullmatch(tool.name):
        shown = repr(tool.name) if len(tool.name) <= 80 else f"{tool.name[:60]!r}… ({len(tool.name)} characters)"
        rule = (
            "use letters, digits, '_' and '-', 1 to 64 characters"
            if limits.name_pattern == Limits.name_pattern
            else "it does not match limits.name_pattern of reconciler.yaml"
        )
        yield error("name", f"invalid tool name {shown}: {rule} ({limits.name_pattern})", "name")
    description = tool.description.strip()
    if not description:
        yield error("description", f"tool '{tool.name}' needs a description: the model reads it to pick the tool")
    elif len(tool.description) > limits.max_description_length:
        yield error(
            "description",
            f"description of '{tool.name}' is {len(tool.description)} characters; the limit is "
            f"{limits.max_description_length}: shorten it",
            "capability",
        )
    yield from _check_endpoint(tool, tool.endpoint, "endpoint")
    if tool.schema_is_user_written:
        yield from _check_user_schema(tool)
        yield from _check_required(tool)
    elif tool.origin == "definition":
        yield from _check_shorthand_schema(tool)
    if tool.origin == "definition":
        yield from _check_values(tool)
        yield from _check_output_schema(tool)
        yield from check_schema_refs(tool)
        yield from check_request(tool, _check_endpoint)
    yield from _check_parameters(tool, limits)
    yield from _check_context(tool)
    for label in sorted(set(tool.labels or {}) & set(OWNERSHIP_LABELS)):  # the payload would overwrite it
        yield error(
            f"labels.{label}",
            f"label '{label}' of '{tool.name}' is the reconciler's own (ownership, source, digest, protection); "
            "remove it: `managed_by:` in reconciler.yaml names the owner, `protected: true` protects a tool",
            "label",
        )
    rate = tool.rate_limit
    if rate and rate.burst_size and rate.requests_per_minute and rate.burst_size > rate.requests_per_minute:
        yield Diagnostic(
            "warning",
            tool.location_of("rate_limit.burst_size"),
            f"burst_size {rate.burst_size} exceeds requests_per_minute {rate.requests_per_minute} of '{tool.name}'",
            "lint",
        )


def _check_endpoint(tool: Tool, endpoint: str, field: str) -> Iterator[Diagnostic]:
    # urlsplit drops line breaks and tabs before it parses; `{order id}` is an OpenAPI path's template, not text
    if _SPACE_OR_CONTROL.search(_TEMPLATE.sub("", endpoint)):
        yield Diagnostic(
            "error",
            tool.location_of(field),
            f"endpoint {endpoint!r} of '{tool.name}' holds a space or control character (a line break from a "
            "variable?); a URL has none: percent-encode it (%20) or fix the value",
            "endpoint",
        )
        return
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
    except ValueError:  # a bracket left open
        parts, host = None, ""
    if parts is not None and host and not _good_port(parts):
        yield Diagnostic(
            "error",
            tool.location_of(field),
            f"endpoint {endpoint!r} of '{tool.name}' names a port that is not a number from 1 to 65535",
            "endpoint",
        )
    elif parts is None or not host or parts.scheme not in ("https", "http"):
        yield Diagnostic(
            "error",
            tool.location_of(field),
            f"endpoint {endpoint!r} of '{tool.name}' must be an https:// URL",
            "endpoint",
        )
    elif parts.scheme == "http" and not _is_loopback(host):
        yield Diagnostic(
            "error",
            tool.location_of(field),
            f"endpoint {endpoint!r} of '{tool.name}' uses http; use https (http is allowed only for localhost)",
            "endpoint",
        )


def _good_port(parts: SplitResult) -> bool:
    try:
        return parts.port != 0
    except ValueError:  # past 65535, or not a number
        return False


_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")
_TEMPLATE = re.compile(r"\{[^{}\x00-\x1f]*\}")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _has_bad_pattern(schema: Any) -> bool:
    """Whether a `pattern` value or `patternProperties` key anywhere in `schema` fails to compile.

    jsonschema-rs's meta-check leaves out the `regex` format, which jsonschema's `check_schema` (and the API)
    holds them to; this finds the schemas that need the exact check. A `pattern` inside an example can make it
    ask needlessly, never wrongly: `check_schema` decides."""
    try:
        if b'"pattern' not in orjson.dumps(schema):  # neither key anywhere: nothing to walk for (most schemas)
            return False
    except TypeError:  # orjson.JSONEncodeError: not plain JSON data; the walk below decides
        pass
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            pattern = node.get("pattern")
            if isinstance(pattern, str) and not _compiles(pattern):
                return True
            named = node.get("patternProperties")
            if isinstance(named, dict) and not all(_compiles(key) for key in named):
                return True
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return False


@functools.lru_cache(maxsize=1024)
def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):  # `a{99999999999}`, or `(` nested thousands deep
        return False
    return True


def _check_user_schema(tool: Tool) -> Iterator[Diagnostic]:
    schema = dict(tool.schema)
    # jsonschema's check_schema costs ~3 ms a schema; jsonschema-rs's meta-check ~3 µs. Only a schema that
    # fails it pays for jsonschema (imported here, not at start-up) and its error, whose path we can point at.
    if not jsonschema_rs.meta.is_valid({"$schema": JSON_SCHEMA_DIALECT, **schema}) or _has_bad_pattern(schema):
        import jsonschema

        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except (RecursionError, OverflowError):  # jsonschema's regex check lets these out of re.compile
            yield Diagnostic(
                "error",
                tool.location_of("schema"),
                f"schema of '{tool.name}' has a pattern that cannot be compiled (a repetition count too large, or "
                "groups nested too deep); simplify it",
                "schema",
            )
            return
        except jsonschema.SchemaError as exc:
            path = ".".join(str(p) for p in exc.absolute_path)
            where = f" at '{path}'" if path else ""
            field = "schema" + "".join(f".{p}" for p in list(exc.absolute_path)[:2])
            yield Diagnostic(
                "error",
                tool.location_of(field),
                f"schema of '{tool.name}' is not valid JSON Schema (draft 2020-12){where}: {exc.message}",
                "schema",
            )
            return
    if schema.get("type") != "object":
        yield Diagnostic(
            "error",
            tool.location_of("schema"),
            f"schema of '{tool.name}' must be an object schema (type: object) whose properties are the parameters",
            "schema",
        )


def _check_output_schema(tool: Tool) -> Iterator[Diagnostic]:
    """A written `output_schema` is sent as `outputSchema`, which the API holds to JSON Schema 2020-12 (422)."""
    if tool.output_schema is None:
        return
    schema = dict(tool.output_schema)
    if jsonschema_rs.meta.is_valid({"$schema": JSON_SCHEMA_DIALECT, **schema}) and not _has_bad_pattern(schema):
        return
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except (RecursionError, OverflowError):
        message = "has a pattern that cannot be compiled; simplify it"
        yield Diagnostic(
            "error", tool.location_of("output_schema"), f"output_schema of '{tool.name}' {message}", "schema"
        )
    except jsonschema.SchemaError as exc:
        path = ".".join(str(p) for p in exc.absolute_path)
        where = f" at '{path}'" if path else ""
        yield Diagnostic(
            "error",
            tool.location_of("output_schema" + "".join(f".{p}" for p in list(exc.absolute_path)[:1])),
            f"output_schema of '{tool.name}' is not valid JSON Schema (draft 2020-12){where}: {exc.message}",
            "schema",
        )


def _check_shorthand_schema(tool: Tool) -> Iterator[Diagnostic]:
    """The schema shorthand parameters compile to is held to JSON Schema as the API holds it (a `pattern` must
    be a valid regular expression): validate must not pass what the API answers 422."""
    schema = dict(tool.schema)
    if jsonschema_rs.meta.is_valid({"$schema": JSON_SCHEMA_DIALECT, **schema}) and not _has_bad_pattern(schema):
        return
    for error in _meta_validator().iter_errors(schema):
        path = list(error.absolute_path)
        if path[-1:] == ["type"]:
            continue  # an unsupported type has its own message, with a hint
        name = str(path[1]) if len(path) > 1 and path[0] == "properties" else None
        inner = ".".join(str(p) for p in path[2:])
        field = f"parameters.{name}" + (f".{path[2]}" if len(path) > 2 else "") if name else "parameters"
        where = f"parameter '{name}'" + (f" ('{inner}')" if inner else "") if name else "parameters"
        problem = error.message
        if error.validator == "format" and error.validator_value == "regex":
            problem = f"{error.instance!r} is not a valid regular expression"
        yield Diagnostic(
            "error", tool.location_of(field), f"{where} of '{tool.name}' is not valid JSON Schema: {problem}", "schema"
        )


@functools.cache
def _meta_validator() -> jsonschema.Draft202012Validator:
    """What `check_schema` uses (formats checked, so a `pattern` must compile), giving every error."""
    import jsonschema

    meta = jsonschema.Draft202012Validator
    return meta(meta.META_SCHEMA, format_checker=meta.FORMAT_CHECKER)


def _check_required(tool: Tool) -> Iterator[Diagnostic]:
    """A full schema's `required` may name only its own properties: the API would accept a tool no call can
    satisfy."""
    required = tool.schema.get("required")
    properties = _parameters(tool)
    if not isinstance(required, list):
        return
    for name in required:
        if isinstance(name, str) and name not in properties:
            known = ", ".join(properties) or "none"
            yield Diagnostic(
                "error",
                tool.location_of("schema.required"),
                f"'required' of '{tool.name}' names {name!r}, which is not one of its properties; "
                f"{did_you_mean(name, list(properties))}properties: {known}",
                "schema",
            )


def _check_values(tool: Tool) -> Iterator[Diagnostic]:
    """`enum` and `default` values of a hand-written parameter must be of the parameter's type."""
    for name, spec in _parameters(tool).items():
        if not isinstance(spec, dict) or "type" not in spec or ("enum" not in spec and "default" not in spec):
            continue  # (most parameters: nothing to hold to the type)
        declared = spec["type"]
        types = [t for t in (declared if isinstance(declared, list) else [declared]) if isinstance(t, str)]
        if not types or any(t not in _JSON_TYPES for t in types):
            continue  # an unknown type is reported on its own
        checks = [_JSON_TYPES[t] for t in types]
        enum = spec.get("enum")
        values = [*(enum if isinstance(enum, list) else ()), *((spec["default"],) if "default" in spec else ())]
        if all(any(check(value) for check in checks) for value in values):
            continue  # (nearly every parameter: one pass, no message built)
        wanted = " or ".join(types)
        for value in enum if isinstance(enum, list) else []:
            if not any(check(value) for check in checks):
                yield Diagnostic(
                    "error",
                    tool.location_of(f"parameters.{name}.enum"),
                    f"enum value {value!r} of parameter '{name}' of '{tool.name}' is not of its type ({wanted})",
                    "type",
                )
        if "default" in spec and not any(check(spec["default"]) for check in checks):
            yield Diagnostic(
                "error",
                tool.location_of(f"parameters.{name}.default"),
                f"default {spec['default']!r} of parameter '{name}' of '{tool.name}' is not of its type ({wanted})",
                "type",
            )


def _parameters(tool: Tool) -> dict[str, Any]:
    properties = tool.schema.get("properties")
    return properties if isinstance(properties, dict) else {}


def _check_parameters(tool: Tool, limits: Limits) -> Iterator[Diagnostic]:
    parameters = _parameters(tool)
    if len(parameters) > limits.max_parameters:
        yield Diagnostic(
            "error",
            tool.location_of("parameters") if "parameters" in tool.field_locations else tool.location_of("schema"),
            f"'{tool.name}' has {len(parameters)} parameters; the limit is {limits.max_parameters}: "
            "split the tool or move values into context",
            "capability",
        )
    for name, spec in parameters.items():
        field = f"parameters.{name}"
        if not PARAMETER_NAME.fullmatch(name):
            yield Diagnostic(
                "error", tool.location_of(field), f"parameter name {name!r} of '{tool.name}' is not allowed", "name"
            )
        if not isinstance(spec, dict):
            continue
        declared = spec.get("type")
        types = declared if isinstance(declared, list) else [declared] if declared is not None else []
        for kind in types:
            if kind not in limits.parameter_types and not (kind == "null" and len(types) > 1):  # nullable: beside one
                hint = _type_hint(kind, limits.parameter_types)
                yield Diagnostic(
                    "error",
                    tool.location_of(field),
                    f"parameter '{name}' of '{tool.name}' has unsupported type {kind!r}; supported: "
                    f"{', '.join(limits.parameter_types)}{hint}",
                    "capability",
                )
        if not spec.get("description") and tool.origin == "definition":
            yield Diagnostic(
                "warning",
                tool.location_of(field),
                f"parameter '{name}' of '{tool.name}' has no description; the model fills it better with one",
                "lint",
            )


def _type_hint(kind: Any, supported: tuple[str, ...]) -> str:
    """`; did you mean 'integer'?` for `int`, `Integer`, `intger`; a word on dates, which are strings."""
    alias = TYPE_ALIASES.get(str(kind).lower())
    if alias in supported:
        return f"; did you mean '{alias}'?"
    close = did_you_mean(kind, supported).strip()
    if close:
        return f"; {close}"
    return "; for dates use type: string with format: date-time" if "date" in str(kind) else ""


def _check_context(tool: Tool) -> Iterator[Diagnostic]:
    parameters = _parameters(tool)
    for name, path in tool.context.items():
        field = f"context.{name}"
        if not PARAMETER_NAME.fullmatch(name):  # a context entry is a parameter the conversation fills
            yield Diagnostic(
                "error",
                tool.location_of(field),
                f"context entry name {name!r} of '{tool.name}' is not allowed: use letters, digits, '_', '.' and "
                "'-', 1 to 64 characters",
                "name",
            )
        if name in parameters:
            yield Diagnostic(
                "error",
                tool.location_of(field),
                f"context entry '{name}' of '{tool.name}' collides with a parameter of the same name; context "
                "values are filled from conversation state and hidden from the model, so rename one of them",
                "context",
            )
        if not CONTEXT_PATH.fullmatch(path):
            yield Diagnostic(
                "error",
                tool.location_of(field),
                f"context entry '{name}' of '{tool.name}' is {path!r}; write a conversation-state path such as "
                "'conversation.user_id'",
                "context",
            )
