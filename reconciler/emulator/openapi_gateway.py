"""The OpenAPI description of the emulated LLM gateway (`POST /api/v2/ai/llm/gateway/chat/completions`), merged
into the emulator's /openapi.json so schemathesis holds the gateway to it as it does the Tools API.

The request schema says no more than the gateway checks (a fuzzer's invalid requests must all be refused), and
the answers are OpenAI's chat completion: the `openai` package and reconciler's own client both read them.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.gateway import SCRIPT_HEADER

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _text_or_parts(*, nullable: bool = False) -> dict[str, Any]:
    kinds = ["string", "array", "null"] if nullable else ["string", "array"]
    return {"type": kinds, "description": "Text, or a list of content parts."}


def gateway_schemas() -> dict[str, Any]:
    call = {
        "type": "object",
        "required": ["id", "function"],
        "properties": {
            "id": {"type": "string"},
            "type": {"type": "string", "enum": ["function"]},
            "function": {
                "type": "object",
                "required": ["name", "arguments"],
                "properties": {
                    "name": {"type": "string"},
                    "arguments": {"type": "string", "description": "The arguments, a JSON object as text."},
                },
            },
        },
    }
    answered_call = {**call, "required": ["id", "type", "function"]}
    message_of: dict[str, dict[str, Any]] = {
        "system": {"required": ["role", "content"], "properties": {"content": _text_or_parts()}},
        "developer": {"required": ["role", "content"], "properties": {"content": _text_or_parts()}},
        "user": {"required": ["role", "content"], "properties": {"content": _text_or_parts()}},
        "assistant": {
            "required": ["role"],
            "properties": {
                "content": _text_or_parts(nullable=True),
                "tool_calls": {"type": ["array", "null"], "items": call},
            },
        },
        "tool": {
            "required": ["role", "tool_call_id", "content"],
            "properties": {
                "tool_call_id": {"type": "string", "description": "The id of an earlier assistant tool call."},
                "content": _text_or_parts(),
            },
        },
    }
    messages = [
        {
            "type": "object",
            "required": shape["required"],
            "properties": {"role": {"type": "string", "enum": [role]}, **shape["properties"]},
        }
        for role, shape in message_of.items()
    ]
    scripted_call = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}, "id": {"type": "string"}},
        "additionalProperties": False,
    }
    return {
        "GatewayScript": {
            "description": f"The JSON in the `{SCRIPT_HEADER}` header: the model's answers, one step per request.",
            "type": "array",
            "items": {
                "type": "object",
                "anyOf": [{"required": ["content"]}, {"required": ["tool_calls"]}],
                "properties": {
                    "content": {"type": "string"},
                    "tool_calls": {"type": "array", "items": scripted_call},
                    "repeat": {"type": "boolean"},
                },
                "additionalProperties": False,
            },
        },
        "ChatRequest": {
            "type": "object",
            "required": ["model", "messages"],
            "properties": {
                "model": {"type": "string", "minLength": 1, "description": "Any name: the model is scripted."},
                "messages": {"type": "array", "minItems": 1, "items": _ref("ChatMessage")},
                "tools": {"type": "array", "items": _ref("ChatTool")},
                "tool_choice": {
                    "oneOf": [
                        {"type": "string", "enum": ["none", "auto", "required"]},
                        {
                            "type": "object",
                            "required": ["type", "function"],
                            "properties": {
                                "type": {"type": "string", "enum": ["function"]},
                                "function": {
                                    "type": "object",
                                    "required": ["name"],
                                    "properties": {"name": {"type": "string"}},
                                },
                            },
                        },
                    ]
                },
                "stream": {"type": "boolean", "enum": [False], "description": "The emulated gateway does not stream."},
            },
        },
        "ChatMessage": {"oneOf": messages},
        "ChatTool": {
            "type": "object",
            "required": ["type", "function"],
            "properties": {
                "type": {"type": "string", "enum": ["function"]},
                "function": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "parameters": {"type": "object", "description": "JSON Schema of the arguments."},
                    },
                },
            },
        },
        "ChatCompletion": {
            "type": "object",
            "required": ["id", "object", "created", "model", "choices", "usage"],
            "properties": {
                "id": {"type": "string"},
                "object": {"type": "string", "enum": ["chat.completion"]},
                "created": {"type": "integer"},
                "model": {"type": "string"},
                "choices": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["index", "message", "finish_reason"],
                        "properties": {
                            "index": {"type": "integer", "minimum": 0},
                            "message": {
                                "type": "object",
                                "required": ["role", "content"],
                                "properties": {
                                    "role": {"type": "string", "enum": ["assistant"]},
                                    "content": {"type": ["string", "null"]},
                                    "tool_calls": {"type": "array", "minItems": 1, "items": answered_call},
                                },
                            },
                            "finish_reason": {"type": "string", "enum": ["stop", "tool_calls"]},
                        },
                    },
                },
                "usage": {
                    "type": "object",
                    "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
                    "properties": {
                        name: {"type": "integer", "minimum": 0}
                        for name in ("prompt_tokens", "completion_tokens", "total_tokens")
                    },
                },
            },
        },
        "GatewayError": {
            "description": "The platform's error body with OpenAI's `error` object beside it.",
            "allOf": [
                _ref("Error"),
                {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["message", "type", "param", "code"],
                            "properties": {
                                "message": {"type": "string"},
                                "type": {"type": "string"},
                                "param": {"type": ["string", "null"]},
                                "code": {"type": "string"},
                            },
                        }
                    },
                },
            ],
        },
    }


def gateway_operation(
    security: list[dict[str, list[str]]], ok_headers: dict[str, Any], errors: dict[str, Any]
) -> dict[str, Any]:
    """The path item; `errors` are the platform's error answers (401, 403, 429, injected 5xx, default)."""
    return {
        "post": {
            "operationId": "chatCompletions",
            "summary": "OpenAI-compatible chat completion from the scripted model (any valid token, no tool scope)",
            "security": security,
            "parameters": [
                {
                    "name": SCRIPT_HEADER,
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": (
                        "The model's answers to this user message: compact JSON that is a "
                        f"`{_REF}GatewayScript` (docs/conversations.md)."
                    ),
                }
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ChatRequest")}}},
            "responses": {
                "200": {
                    "description": "The model's answer: content (`stop`) or tool calls (`tool_calls`).",
                    "headers": ok_headers,
                    "content": {"application/json": {"schema": _ref("ChatCompletion")}},
                },
                "400": {
                    "description": "A request the gateway refuses; `error.param` names the field.",
                    "headers": ok_headers,
                    "content": {"application/json": {"schema": _ref("GatewayError")}},
                },
                **errors,
            },
        }
    }


__all__ = ["gateway_operation", "gateway_schemas"]
