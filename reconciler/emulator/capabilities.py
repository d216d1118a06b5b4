"""The server's checks of a ToolInput: shape, and the capability matrix (DESIGN §4), as 4xx problems."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError

from reconciler.model import JSON_SCHEMA_DIALECT, NAME_PATTERN, TOOL_INPUT_FIELDS

INPUT_FIELDS = TOOL_INPUT_FIELDS
PARAMETER_TYPES = ("string", "number", "integer", "boolean", "array", "object")
ENDPOINT_PATTERN = r"^https?://[^\x00-\x20/?#]+([/?#][^\x00-\x20]*)?$"
"""An absolute http(s) URL without spaces or control characters; the OpenAPI description publishes the same
rule (spelled without backslash-s, whose meaning differs between regex dialects)."""
_NAME = re.compile(NAME_PATTERN)
_ENDPOINT = re.compile(ENDPOINT_PATTERN)


@dataclass(frozen=True)
class Problem:
    error_code: str
    field_name: str | None
    message: str


def _is_int(value: Any) -> bool:
    """An integer as JSON Schema counts them: 3 and 3.0, not true."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def normalize_tool_input(body: dict[str, Any]) -> dict[str, Any]:
    """A checked ToolInput with integral numbers stored as integers (488.0 → 488)."""
    result = dict(body)
    if isinstance(result.get("rateLimit"), dict):
        result["rateLimit"] = {key: int(value) for key, value in result["rateLimit"].items()}
    if "version" in result:
        result["version"] = int(result["version"])
    return result


def _string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def check_tool_input(
    body: Any, *, max_parameters: int = 10, max_description_length: int = 255, allow_version: bool = False
) -> list[Problem]:
    """Every problem of a ToolInput (and, for an update, its `version`), in field order."""
    if not isinstance(body, dict):
        return [Problem("body.invalid", None, "the body must be a JSON object (a ToolInput)")]
    problems: list[Problem] = []
    allowed = (*INPUT_FIELDS, "version") if allow_version else INPUT_FIELDS
    for key in body:
        if key not in allowed:
            known = ", ".join(allowed)
            problems.append(Problem("field.unknown", str(key), f"unknown field {key!r}; a ToolInput has {known}"))
    for key in ("name", "description", "schema", "executionEndpoint"):
        if key not in body:
            problems.append(Problem("field.required", key, f"{key} is required"))

    name = body.get("name")
    if "name" in body and (not isinstance(name, str) or not _NAME.fullmatch(name)):
        problems.append(Problem("name.invalid", "name", f"name must match {NAME_PATTERN}"))
    description = body.get("description")
    if "description" in body:
        if not isinstance(description, str) or not description:
            problems.append(Problem("description.invalid", "description", "description must be a non-empty string"))
        elif len(description) > max_description_length:
            problems.append(
                Problem(
                    "description.too_long",
                    "description",
                    f"description has {len(description)} characters; at most {max_description_length} are allowed",
                )
            )
    endpoint = body.get("executionEndpoint")
    if "executionEndpoint" in body and not _is_url(endpoint):
        problems.append(Problem("endpoint.invalid", "executionEndpoint", "executionEndpoint must be an http(s) URL"))
    if "schema" in body:
        problems += _check_schema(body["schema"], max_parameters)
    if "outputSchema" in body:
        problems += _check_dialect(body["outputSchema"], "outputSchema")
    if "request" in body and not isinstance(body["request"], dict):
        problems.append(Problem("request.invalid", "request", "request must be an object"))
    if "context" in body and not _string_map(body["context"]):
        problems.append(Problem("context.invalid", "context", "context maps parameter names to state paths (strings)"))
    if "labels" in body and not _string_map(body["labels"]):
        problems.append(Problem("labels.invalid", "labels", "labels map strings to strings"))
    if "rateLimit" in body:
        problems += _check_rate_limit(body["rateLimit"])
    if allow_version and "version" in body and not (_is_int(body["version"]) and body["version"] >= 1):
        problems.append(Problem("version.invalid", "version", "version must be the integer version that was read"))
    return problems


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and _ENDPOINT.fullmatch(value) is not None


def _check_rate_limit(value: Any) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem("rateLimit.invalid", "rateLimit", "rateLimit must be an object")]
    problems = []
    for key, item in value.items():
        if key not in ("requestsPerMinute", "burstSize"):
            problems.append(Problem("field.unknown", f"rateLimit.{key}", f"unknown field {key!r} in rateLimit"))
        elif not (_is_int(item) and item >= 1):
            problems.append(Problem("rateLimit.invalid", f"rateLimit.{key}", f"{key} must be a positive integer"))
    return problems


def _check_dialect(schema: Any, name: str) -> list[Problem]:
    """`schema` (the field `name`) is a JSON Schema 2020-12 object: any schema, as far as its shape goes."""
    if not isinstance(schema, dict):
        return [Problem(f"{name}.invalid", name, f"{name} must be a JSON Schema object")]
    if "$schema" in schema and schema["$schema"] != JSON_SCHEMA_DIALECT:
        return [Problem(f"{name}.dialect", f"{name}.$schema", f"{name} must use {JSON_SCHEMA_DIALECT}")]
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = ".".join(str(part) for part in exc.path)
        field = f"{name}.{where}" if where else name
        return [Problem(f"{name}.invalid", field, f"{name} is not valid JSON Schema 2020-12: {exc.message[:200]}")]
    except (RecursionError, ValueError) as exc:
        return [Problem(f"{name}.invalid", name, f"{name} is not valid JSON Schema 2020-12: {exc}"[:240])]
    return []


def _check_schema(schema: Any, max_parameters: int) -> list[Problem]:
    shape = _check_dialect(schema, "schema")
    if shape:
        return shape
    problems = []
    if schema.get("type") != "object":
        message = 'schema must be an object schema ("type": "object")'
        problems.append(Problem("schema.not_object", "schema.type", message))
    properties = schema.get("properties", {})
    if len(properties) > max_parameters:
        problems.append(
            Problem(
                "schema.too_many_parameters",
                "schema.properties",
                f"{len(properties)} parameters; at most {max_parameters} top-level parameters are allowed",
            )
        )
    for name, definition in properties.items():
        declared = definition.get("type") if isinstance(definition, dict) else None
        types = declared if isinstance(declared, list) else [declared] if declared is not None else []
        for kind in types:
            # "null" beside a type is a nullable parameter (JSON Schema's; OpenAI's strict mode writes an optional
            # field so), not a type of its own: validate takes it, as the registry must; alone, it is no parameter
            if kind not in PARAMETER_TYPES and not (kind == "null" and len(types) > 1):
                problems.append(
                    Problem(
                        "schema.parameter_type",
                        f"schema.properties.{name}.type",
                        f"parameter {name!r} has type {kind!r}; allowed: {', '.join(PARAMETER_TYPES)}",
                    )
                )
    return problems


__all__ = [
    "ENDPOINT_PATTERN",
    "INPUT_FIELDS",
    "PARAMETER_TYPES",
    "Problem",
    "check_tool_input",
    "normalize_tool_input",
]
