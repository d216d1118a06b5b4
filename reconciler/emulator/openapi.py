"""The emulator's own OpenAPI 3.1 description of the Tools API contract (DESIGN §4), served at /openapi.json.

It describes what the emulator enforces, so a schema-driven fuzzer (schemathesis) can hold the emulator to
it: every status it can answer, the platform's error body, the rate-limit and correlation headers, and the
capability matrix as schema constraints (≤ N parameters, parameter types, description length, name rule).
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.capabilities import ENDPOINT_PATTERN, PARAMETER_TYPES
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.gateway import GATEWAY_PATH
from reconciler.emulator.openapi_actions import actions_paths, actions_schemas
from reconciler.emulator.openapi_gateway import gateway_operation, gateway_schemas
from reconciler.emulator.registry import TOOLS_PATH
from reconciler.model import JSON_SCHEMA_DIALECT, NAME_PATTERN

_REF = "#/components"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"{_REF}/{kind}/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _headers(*extra: str) -> dict[str, Any]:
    names = ("CorrelationId", "RateLimitAllowed", "RateLimitCount", "RateLimitReset", *extra)
    wire = {
        "CorrelationId": "inin-correlation-id",
        "RateLimitAllowed": "inin-ratelimit-allowed",
        "RateLimitCount": "inin-ratelimit-count",
        "RateLimitReset": "inin-ratelimit-reset",
        "RetryAfter": "Retry-After",
        "Allow": "Allow",
    }
    return {wire[name]: _ref("headers", name) for name in names}


def _error(description: str, *extra_headers: str) -> dict[str, Any]:
    return {"description": description, "headers": _headers(*extra_headers), "content": _json(_ref("schemas", "Error"))}


def _api_errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "Malformed request (bad JSON, bad query parameter).",
        401: "Missing, unknown or expired bearer token.",
        403: "The caller's role lacks the scope the operation names (`missing.permissions`).",
        404: "No such tool.",
        409: "Conflict: `tool.name.exists` (create/rename) or `tool.version.conflict` (update).",
        422: "The ToolInput breaks the capability matrix; `details` names each field.",
    }
    responses = {str(status): _error(texts[status]) for status in statuses}
    responses["429"] = _error("Rate limited; retry after `Retry-After` seconds.", "RetryAfter")
    for status in (502, 503, 504):
        responses[str(status)] = _error("Injected failure: the request was not processed.")
    responses["default"] = _error("Any other error, in the platform's error body.")
    return responses


def _tool_input_properties(config: EmulatorConfig) -> dict[str, Any]:
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "name": {"type": "string", "pattern": NAME_PATTERN, "minLength": 1, "maxLength": 64},
        "description": {"type": "string", "minLength": 1, "maxLength": config.max_description_length},
        "schema": _ref("schemas", "ToolSchema"),
        "outputSchema": {
            "type": "object",
            "description": "JSON Schema (2020-12) of the tool's successful answer; it must be valid draft 2020-12.",
            "properties": {"$schema": {"type": "string", "enum": [JSON_SCHEMA_DIALECT]}},
        },
        "executionEndpoint": {"type": "string", "pattern": ENDPOINT_PATTERN},
        "request": {"type": "object", "description": "HTTP binding of an OpenAPI-derived tool."},
        "context": string_map,
        "rateLimit": _ref("schemas", "RateLimit"),
        "labels": string_map,
    }


def _schemas(config: EmulatorConfig) -> dict[str, Any]:
    input_properties = _tool_input_properties(config)
    required = ["name", "description", "schema", "executionEndpoint"]
    server_fields = {
        "id": {"type": "string", "format": "uuid"},
        "version": {"type": "integer", "minimum": 1},
        "status": {"type": "string", "enum": ["active"]},
        "dateCreated": {"type": "string", "format": "date-time"},
        "dateModified": {"type": "string", "format": "date-time"},
        "selfUri": {"type": "string"},
    }
    tool_properties = {key: value for key, value in input_properties.items() if key != "schema"}
    tool_properties["schema"] = {"type": "object"}
    parameter_type = {"type": "string", "enum": list(PARAMETER_TYPES)}
    page = (
        {
            "type": "object",
            "required": ["entities", "next_page_token"],
            "properties": {
                "entities": {"type": "array", "items": _ref("schemas", "Tool")},
                "next_page_token": {"type": ["string", "null"]},
            },
        }
        if config.paging == "token"
        else {
            "type": "object",
            "required": ["entities", "pageSize", "pageNumber", "total", "pageCount"],
            "properties": {
                "entities": {"type": "array", "items": _ref("schemas", "Tool")},
                "pageSize": {"type": "integer"},
                "pageNumber": {"type": "integer"},
                "total": {"type": "integer"},
                "pageCount": {"type": "integer"},
                "nextUri": {"type": "string"},
                "previousUri": {"type": "string"},
                "selfUri": {"type": "string"},
                "firstUri": {"type": "string"},
                "lastUri": {"type": "string"},
            },
        }
    )
    return {
        "ToolInput": {
            "type": "object",
            "required": required,
            "properties": input_properties,
            "additionalProperties": False,
        },
        "ToolUpdate": {
            "type": "object",
            "required": [*required, "version"],
            "properties": {**input_properties, "version": {"type": "integer", "minimum": 1}},
            "additionalProperties": False,
        },
        "Tool": {
            "type": "object",
            "required": ["id", "name", "version", "status", "dateCreated", "dateModified", "selfUri"],
            "properties": {**tool_properties, **server_fields},
        },
        "ToolSchema": {
            "type": "object",
            "description": (
                "A JSON Schema (draft 2020-12) object schema: the tool's parameters. Keywords beyond those "
                "listed are allowed when the schema stays valid draft 2020-12."
            ),
            "required": ["type"],
            "properties": {
                "$schema": {"type": "string", "enum": [JSON_SCHEMA_DIALECT]},
                "type": {"type": "string", "enum": ["object"]},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "properties": {
                    "type": "object",
                    "maxProperties": config.max_parameters,
                    "additionalProperties": _ref("schemas", "Parameter"),
                },
                "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "additionalProperties": {"type": ["boolean", "object"]},
            },
        },
        "Parameter": {
            "type": ["object", "boolean"],
            "description": "A parameter's JSON Schema; its type (when given) one of the capability matrix's.",
            "properties": {
                "type": {
                    "oneOf": [
                        parameter_type,
                        {"type": "array", "items": parameter_type, "minItems": 1, "uniqueItems": True},
                    ]
                },
                "description": {"type": "string"},
                "format": {"type": "string"},
                "enum": {"type": "array"},
                "items": {"type": ["object", "boolean"]},
            },
        },
        "RateLimit": {
            "type": "object",
            "properties": {
                "requestsPerMinute": {"type": "integer", "minimum": 1},
                "burstSize": {"type": "integer", "minimum": 1},
            },
            "additionalProperties": False,
        },
        "ToolPage": page,
        "Error": {
            "type": "object",
            "required": ["message", "code", "status", "contextId", "details", "errors"],
            "properties": {
                "message": {"type": "string"},
                "code": {"type": "string"},
                "status": {"type": "integer"},
                "contextId": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["errorCode"],
                        "properties": {"errorCode": {"type": "string"}, "fieldName": {"type": "string"}},
                    },
                },
                "errors": {"type": "array"},
            },
        },
        "Token": {
            "type": "object",
            "required": ["access_token", "token_type", "expires_in"],
            "properties": {
                "access_token": {"type": "string"},
                "token_type": {"type": "string"},
                "expires_in": {"type": "integer"},
            },
        },
        "OAuthError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "description": {"type": "string"},
                "error_description": {"type": "string"},
            },
        },
    }


def _header_components() -> dict[str, Any]:
    digits = {"type": "string", "pattern": "^[0-9]+$"}
    return {
        "CorrelationId": {"required": True, "schema": {"type": "string", "minLength": 1}},
        "RateLimitAllowed": {"required": True, "schema": digits},
        "RateLimitCount": {"required": True, "schema": digits},
        "RateLimitReset": {"required": True, "schema": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}},
        "RetryAfter": {"required": True, "schema": digits},
        "Allow": {"required": True, "schema": {"type": "string"}},
    }


def _list_parameters(config: EmulatorConfig) -> list[dict[str, Any]]:
    size = {"type": "integer", "minimum": 1, "maximum": 100}
    parameters: list[dict[str, Any]] = [
        {"name": "page_size", "in": "query", "schema": size, "description": "Tools per page (1..100)."},
        {"name": "name", "in": "query", "schema": {"type": "string"}, "description": "Only the tool with this name."},
    ]
    if config.paging == "token":
        parameters.append(
            {
                "name": "next_page_token",
                "in": "query",
                "schema": {"type": "string"},
                "description": "The `next_page_token` of the previous page.",
            }
        )
    else:
        parameters += [
            {"name": "pageSize", "in": "query", "schema": size},
            {"name": "pageNumber", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        ]
    return parameters


def openapi_document(config: EmulatorConfig, base_url: str) -> dict[str, Any]:
    security: list[dict[str, list[str]]] = [{"bearerAuth": []}]
    if not config.strict_auth:
        security.append({})
    tool_id = {"name": "toolId", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
    ok_headers = _headers()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "reconciler emulator: Genesys Cloud AI Tools API",
            "version": "1",
            "description": (
                "The Tools API contract the reconciler builds against (DESIGN §4), the LLM gateway "
                "(OpenAI-compatible, scripted model) and the Data Actions API (DESIGN §8: integrations, actions, "
                "drafts, publish, execute and test), served by `reconciler emulator`. "
                f"Scopes: `ai:tool:read` to list and read, `ai:tool:write` to change (Data Actions too: a 403 "
                f"names the platform's permission). Tools API paging style: {config.paging}."
            ),
        },
        "servers": [{"url": base_url}],
        "paths": {
            "/oauth/token": {
                "post": {
                    "operationId": "getToken",
                    "summary": "Client credentials grant",
                    "security": [{"clientBasic": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "required": ["grant_type"],
                                    "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "A bearer token.",
                            "headers": ok_headers,
                            "content": _json(_ref("schemas", "Token")),
                        },
                        "400": {
                            "description": "Unsupported grant type or malformed form.",
                            "headers": ok_headers,
                            "content": _json(_ref("schemas", "OAuthError")),
                        },
                        "401": {
                            "description": "Unknown client or wrong secret.",
                            "headers": ok_headers,
                            "content": _json(_ref("schemas", "OAuthError")),
                        },
                        "default": _error("Any other error."),
                    },
                }
            },
            TOOLS_PATH: {
                "get": {
                    "operationId": "listTools",
                    "summary": "List tools, one page at a time (scope ai:tool:read)",
                    "security": security,
                    "parameters": _list_parameters(config),
                    "responses": {
                        "200": {
                            "description": "A page of tools.",
                            "headers": ok_headers,
                            "content": _json(_ref("schemas", "ToolPage")),
                        },
                        **_api_errors(400, 401, 403),
                    },
                },
                "post": {
                    "operationId": "createTool",
                    "summary": "Create a tool (scope ai:tool:write)",
                    "security": security,
                    "requestBody": {"required": True, "content": _json(_ref("schemas", "ToolInput"))},
                    "responses": {
                        "201": {
                            "description": "Created, at version 1.",
                            "headers": ok_headers,
                            "content": _json(_ref("schemas", "Tool")),
                        },
                        **_api_errors(400, 401, 403, 409, 422),
                    },
                },
            },
            f"{TOOLS_PATH}/{{toolId}}": {
                "parameters": [tool_id],
                "get": {
                    "operationId": "getTool",
                    "summary": "Read a tool (scope ai:tool:read)",
                    "security": security,
                    "responses": {
                        "200": {
                            "description": "The tool.",
                            "headers": ok_headers,
                            "content": _json(_ref("schemas", "Tool")),
                        },
                        **_api_errors(401, 403, 404),
                    },
                },
                "put": {
                    "operationId": "updateTool",
                    "summary": "Replace a tool; `version` must be the version read (scope ai:tool:write)",
                    "security": security,
                    "requestBody": {"required": True, "content": _json(_ref("schemas", "ToolUpdate"))},
                    "responses": {
                        "200": {
                            "description": "Updated, version + 1.",
                            "headers": ok_headers,
                            "content": _json(_ref("schemas", "Tool")),
                        },
                        **_api_errors(400, 401, 403, 404, 409, 422),
                    },
                },
                "delete": {
                    "operationId": "deleteTool",
                    "summary": "Delete a tool (scope ai:tool:write)",
                    "security": security,
                    "responses": {
                        "204": {"description": "Deleted.", "headers": ok_headers},
                        **_api_errors(401, 403, 404),
                    },
                },
            },
            GATEWAY_PATH: gateway_operation(security, ok_headers, _api_errors(401, 403)),
            **actions_paths(security, ok_headers, _error),
        },
        "components": {
            "schemas": {**_schemas(config), **gateway_schemas(), **actions_schemas()},
            "headers": _header_components(),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "clientBasic": {"type": "http", "scheme": "basic"},
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "/oauth/token",
                            "scopes": {"ai:tool:read": "list and read tools", "ai:tool:write": "change tools"},
                        }
                    },
                },
            },
        },
    }


__all__ = ["openapi_document"]
