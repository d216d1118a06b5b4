"""The emulated LLM gateway: `POST /api/v2/ai/llm/gateway/chat/completions`, OpenAI-compatible, with a
deterministic scripted model, so conversations run offline and in CI.

The script travels with each request, in the `X-Reconciler-Script` header (compact JSON), so the emulator keeps no
conversation state and any OpenAI-compatible client can send one (`extra_headers=`); reconciler's own client sends
it only to a gateway on loopback, so an org's gateway never sees it. A script is a list of the model's answers to
one user message:

    [{"tool_calls": [{"name": "get_order_status", "arguments": {"order_id": "123"}}]},
     {"content": "Your order is {{tool:get_order_status}}."}]

- The answer given is the step numbered by how many assistant messages follow the last `user` message: the
  first request of a turn gets step 0, the request that carries its tool results gets step 1, and so on.
- `{"repeat": true}` on the last step answers every later request with it (a model that never stops calling
  tools); past the end of a script without it, the model says the script has no step left.
- `{{tool:NAME}}` in `content` is replaced by the latest result of NAME in this turn (the `tool` message's
  content), so a test can see that results are fed back.
- No script: a plain answer without tools, echoing the last user message.

Requests are checked as a strict gateway would: `model` (any name) and `messages` are required, `tool`
messages must answer a tool call made earlier, arguments are JSON strings. Errors are 400s whose body has
both the platform's `message` and OpenAI's `error` object.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

GATEWAY_PATH = "/api/v2/ai/llm/gateway/chat/completions"
SCRIPT_HEADER = "X-Reconciler-Script"
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
STEP_KEYS = frozenset({"content", "tool_calls", "repeat"})
CALL_KEYS = frozenset({"name", "arguments", "id"})


class GatewayRequestError(Exception):
    """A request the gateway refuses (400); `param` names the offending field, as OpenAI's errors do."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def parse_script(header: str | None) -> list[dict[str, Any]] | None:
    """The script of a request, checked; None when the request has none."""
    if header is None or not header.strip():
        return None
    try:
        script = json.loads(header)
    except ValueError:
        raise GatewayRequestError(f"{SCRIPT_HEADER} is not valid JSON", SCRIPT_HEADER) from None
    if not isinstance(script, list):
        raise GatewayRequestError(f"{SCRIPT_HEADER} must be a JSON list of steps", SCRIPT_HEADER)
    for index, step in enumerate(script):
        where = f"{SCRIPT_HEADER} step {index}"
        if not isinstance(step, dict) or not step.keys() & {"content", "tool_calls"}:
            raise GatewayRequestError(f"{where} must be an object with `content` or `tool_calls`", SCRIPT_HEADER)
        unknown = sorted(set(step) - STEP_KEYS)
        if unknown:
            raise GatewayRequestError(f"{where} has an unknown key {unknown[0]!r}", SCRIPT_HEADER)
        if "content" in step and not isinstance(step["content"], str):
            raise GatewayRequestError(f"{where}: `content` must be a string", SCRIPT_HEADER)
        calls = step.get("tool_calls", [])
        if not isinstance(calls, list) or not all(_is_scripted_call(call) for call in calls):
            raise GatewayRequestError(
                f"{where}: `tool_calls` must be a list of {{name, arguments}} with arguments a JSON object",
                SCRIPT_HEADER,
            )
    return script


def _is_scripted_call(call: Any) -> bool:
    return (
        isinstance(call, dict)
        and not set(call) - CALL_KEYS
        and isinstance(call.get("name"), str)
        and isinstance(call.get("arguments", {}), dict)
        and isinstance(call.get("id", ""), str)
    )


def complete(body: Any, script_header: str | None, *, clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """The chat completion for one request body; raises GatewayRequestError for a request to refuse."""
    script = parse_script(script_header)
    if not isinstance(body, dict):
        raise GatewayRequestError("the body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise GatewayRequestError("`model` is required (any name will do here)", "model")
    if body.get("stream", False) is not False:
        raise GatewayRequestError("the emulated gateway does not stream; send `stream: false`", "stream")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise GatewayRequestError("`messages` must be a non-empty list", "messages")
    names_by_id = _check_messages(messages)
    if "tools" in body:  # present means given: a strict gateway refuses `null` for a list or a choice
        _check_tools(body["tools"])
    if "tool_choice" in body:
        _check_tool_choice(body["tool_choice"])

    since_user = _since_last_user(messages)
    step_number = sum(1 for message in since_user if message["role"] == "assistant")
    step = _step(script, step_number, messages)
    assistant_count = sum(1 for message in messages if message["role"] == "assistant")
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if "content" in step:
        message["content"] = _fill_results(step["content"], since_user, names_by_id)
    calls = step.get("tool_calls") or []
    if calls:
        message["tool_calls"] = [
            {
                "id": call.get("id") or f"call_{assistant_count}_{index}",
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(call.get("arguments", {}))},
            }
            for index, call in enumerate(calls)
        ]
    prompt_tokens = sum(len(json.dumps(m)) for m in messages) // 4
    completion_tokens = len(json.dumps(message)) // 4
    return {
        "id": f"chatcmpl-emulated-{assistant_count}",
        "object": "chat.completion",
        "created": int(clock()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _step(script: list[dict[str, Any]] | None, number: int, messages: list[Any]) -> dict[str, Any]:
    if script is None:
        said = next((m.get("content") for m in reversed(messages) if m["role"] == "user"), None)
        text = said if isinstance(said, str) else "…"
        return {"content": f"(emulated model, no script) You said: {text}"}
    if number < len(script):
        return script[number]
    if script and script[-1].get("repeat"):
        return script[-1]
    return {"content": f"(emulated model) the script has no step {number + 1}: it has {len(script)}"}


def _since_last_user(messages: list[Any]) -> list[dict[str, Any]]:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index]["role"] == "user":
            return messages[index + 1 :]
    return list(messages)


def _fill_results(text: str, since_user: list[dict[str, Any]], names_by_id: Mapping[str, str]) -> str:
    results: dict[str, str] = {}
    for message in since_user:
        if message["role"] == "tool":
            name = names_by_id.get(message["tool_call_id"], "")
            content = message.get("content")
            results[name] = content if isinstance(content, str) else json.dumps(content)
    for name, result in results.items():
        text = text.replace(f"{{{{tool:{name}}}}}", result)
    return text


def _check_messages(messages: list[Any]) -> dict[str, str]:
    """Checks each message; returns the name of the tool each tool call id called."""
    names_by_id: dict[str, str] = {}
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or role not in ROLES:
            raise GatewayRequestError(f"{where} needs a role, one of {', '.join(sorted(ROLES))}", where)
        if role == "assistant":
            calls = message.get("tool_calls")
            calls = [] if calls is None else calls  # not `or []`: an empty object is no list either
            if not isinstance(calls, list):
                raise GatewayRequestError(f"{where}.tool_calls must be a list", where)
            if not isinstance(message.get("content"), (str, list, type(None))):
                raise GatewayRequestError(f"{where}.content must be text or null", where)
            for position, call in enumerate(calls):
                function = call.get("function") if isinstance(call, dict) else None
                if (
                    not isinstance(function, dict)
                    or call.get("type", "function") != "function"
                    or not isinstance(call.get("id"), str)
                    or not isinstance(function.get("name"), str)
                    or not isinstance(function.get("arguments"), str)
                ):
                    raise GatewayRequestError(
                        f"{where}.tool_calls[{position}] needs an id and a function with a name and JSON arguments",
                        where,
                    )
                names_by_id[call["id"]] = function["name"]
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in names_by_id:
                raise GatewayRequestError(
                    f"{where} is a tool result whose tool_call_id {call_id!r} answers no earlier tool call", where
                )
            if not isinstance(message.get("content"), (str, list)):
                raise GatewayRequestError(f"{where} is a tool result without `content`", where)
        elif role in ("user", "system", "developer") and not isinstance(message.get("content"), (str, list)):
            raise GatewayRequestError(f"{where} needs `content`", where)
    return names_by_id


def _check_tools(tools: Any) -> None:
    if not isinstance(tools, list):
        raise GatewayRequestError("`tools` must be a list", "tools")
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(function, dict)
            or tool.get("type") != "function"
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("description", ""), str)
            or not isinstance(function.get("parameters", {}), dict)
        ):
            raise GatewayRequestError(
                f"tools[{index}] must be {{type: function, function: {{name, description?, parameters?: object}}}}",
                "tools",
            )


def _check_tool_choice(choice: Any) -> None:
    """`none`, `auto`, `required`, or {type: function, function: {name}}; absent means `auto`."""
    if choice in ("none", "auto", "required"):
        return
    function = choice.get("function") if isinstance(choice, dict) else None
    if not isinstance(function, dict) or choice.get("type") != "function" or not isinstance(function.get("name"), str):
        raise GatewayRequestError(
            "`tool_choice` must be none, auto, required or {type: function, function: {name}}", "tool_choice"
        )


def error_body(message: str, param: str | None, *, status: int, code: str, context_id: str) -> dict[str, Any]:
    """The platform's error body with OpenAI's `error` object beside it, so both kinds of client read it."""
    return {
        "message": message,
        "code": code,
        "status": status,
        "contextId": context_id,
        "details": [],
        "errors": [],
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code},
    }


__all__ = ["GATEWAY_PATH", "SCRIPT_HEADER", "GatewayRequestError", "complete", "error_body", "parse_script"]
