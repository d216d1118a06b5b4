"""The LLM gateway client: `POST /api/v2/ai/llm/gateway/chat/completions` (OpenAI-compatible).

It rides on the API client (`ApiClient.request_json`, the base of every target's client), so it has the same
credentials, token refresh, pacing, 429 `Retry-After` waits, 5xx backoff, request timeout and typed errors, and
shares the one token's rate limit with every other call the process makes. The answer is parsed here, at the
edge, into a `Completion`; a gateway that answers something else is a `ServerError` that says what was wrong.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.api import ApiClient, Operation, is_loopback
from reconciler.errors import ConfigurationError, ServerError

GATEWAY_PATH = "/api/v2/ai/llm/gateway/chat/completions"
SCRIPT_HEADER = "X-Reconciler-Script"
"""The emulated gateway's scripted model reads its answers from this header. It is sent only to a gateway on
loopback (the emulator): an org's gateway never sees a test's script."""
MAX_SCRIPT_BYTES = 60_000
"""A header line longer than 64 KiB is refused (431) by the emulator's server, as by most HTTP servers."""
DEFAULT_MODEL = "default"
REFUSAL = "refusal"
"""Our finish reason for an answer the model declined (`content: null`, its words in `refusal`; OpenAI says stop)."""


@dataclass(frozen=True)
class ModelToolCall:
    """One call the model asked for; `arguments` is the JSON text it wrote (not yet trusted to be an object)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Completion:
    content: str | None
    tool_calls: tuple[ModelToolCall, ...]
    finish_reason: str

    def assistant_message(self) -> dict[str, Any]:
        """The message to append to the conversation, in the form the gateway expects back."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                for call in self.tool_calls
            ]
        return message


class GatewayClient:
    """Sends one chat completion request at a time; safe to share between threads (the API client is)."""

    def __init__(self, api: ApiClient, *, model: str = DEFAULT_MODEL, send_script: bool | None = None) -> None:
        self.api = api
        self.model = model
        self.send_script = is_loopback(api.target.api_url) if send_script is None else send_script

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]],
        *,
        script: Sequence[Mapping[str, Any]] | None = None,
    ) -> Completion:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages)}
        if tools:
            body["tools"] = list(tools)
            body["tool_choice"] = "auto"
        headers = {}
        if script is not None and self.send_script:
            text = json.dumps(list(script), separators=(",", ":"), ensure_ascii=True)
            if len(text) > MAX_SCRIPT_BYTES:
                raise ConfigurationError(
                    f"the script of this turn is {len(text):,} bytes as JSON, and the emulated gateway reads it from "
                    f"one request header of at most {MAX_SCRIPT_BYTES:,}: shorten its answers"
                )
            headers[SCRIPT_HEADER] = text
        operation = Operation("completion", "POST", f"a chat completion (model {self.model!r})")
        answer = self.api.request_json(operation, GATEWAY_PATH, json=body, headers=headers)
        return parse_completion(answer, host=self.api.target.api_host)


def parse_completion(answer: Mapping[str, Any], *, host: str) -> Completion:
    """The first choice of an OpenAI-style answer; arguments sent as an object are taken as their JSON text, and
    a refusal is the answer's content (finish reason `refusal`)."""
    choices = answer.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict):
        raise ServerError(f"the LLM gateway at {host} answered without `choices[0].message`; is this the gateway?")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        content = json.dumps(content)
    refusal = message.get("refusal")
    refused = content is None and isinstance(refusal, str) and bool(refusal)
    if refused:  # OpenAI's declined answer: no content, the model's words in `refusal`
        content = refusal
    listed = message.get("tool_calls")
    if listed is not None and not isinstance(listed, list):  # a text or an object would be read as calls
        raise ServerError(
            f"the LLM gateway at {host} sent `tool_calls` that is not a list of calls; is this an OpenAI-compatible "
            "gateway?"
        )
    calls = []
    seen: set[str] = set()
    for index, call in enumerate(listed or []):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ServerError(f"the LLM gateway at {host} sent tool call {index} without a function name")
        arguments = function.get("arguments")
        text = arguments if isinstance(arguments, str) else json.dumps(arguments if arguments is not None else {})
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id or call_id in seen:
            # some OpenAI-compatible endpoints send empty or repeated ids: each result needs an id of its own
            call_id = f"call_{uuid.uuid4().hex[:24]}"
        seen.add(call_id)
        calls.append(ModelToolCall(call_id, function["name"], text))
    finish = first.get("finish_reason") if isinstance(first, dict) else None
    reason = finish if isinstance(finish, str) else ("tool_calls" if calls else "stop")
    if refused and not calls:
        reason = REFUSAL
    return Completion(content, tuple(calls), reason)


__all__ = ["DEFAULT_MODEL", "GATEWAY_PATH", "SCRIPT_HEADER", "Completion", "GatewayClient", "ModelToolCall"]
