"""The JSON transcript of a conversation: every turn, every tool call with its arguments, latency and outcome.

Arguments are redacted before they are written: a context parameter the model supplied itself (it may be a
session token), an argument named like a secret, and any value of a sensitive variable or of a secret-named
state entry become `(sensitive)`. Tool outputs are not written, only their outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconciler.conversation.loop import Conversation, ToolCallRecord, TurnResult
from reconciler.plan.render import REDACTED, redact

FORMAT_VERSION = 1


def transcript(
    conversation: Conversation, *, secrets: Iterable[str] = (), is_sensitive: Callable[[str], bool]
) -> dict[str, Any]:
    """The transcript as JSON data. `is_sensitive(name)` tells which argument and state names hold secrets."""
    state_secrets = [str(value) for key, value in conversation.state.items() if is_sensitive(key) and value]
    known = [*secrets, *state_secrets]
    context = {tool.name: frozenset(tool.context) for tool in conversation.tools}

    def call(record: ToolCallRecord) -> dict[str, Any]:
        hidden = context.get(record.name, frozenset())
        arguments = None
        if record.arguments is not None:
            arguments = {
                key: REDACTED if key in hidden or is_sensitive(key) else value
                for key, value in record.arguments.items()
            }
        entry: dict[str, Any] = {
            "id": record.id,
            "tool": record.name,
            "arguments": redact(arguments, known),
            "status": record.status,
            "latency_ms": round(record.latency_ms, 1),
            "model_call": record.model_call,
        }
        if record.status == "error":
            entry["error_code"] = record.error_code
            entry["message"] = redact(record.message, known)
        if record.upstream_status is not None:
            entry["upstream_status"] = record.upstream_status
        return entry

    def turn(result: TurnResult) -> dict[str, Any]:
        return {
            "user": redact(result.user, known),
            "reply": redact(result.reply, known),
            "stop_reason": result.stop_reason,
            "stop_message": result.stop_message,
            "model_calls": result.model_calls,
            "latency_ms": round(result.latency_ms, 1),
            "tool_calls": [call(record) for record in result.tool_calls],
        }

    return {
        "format_version": FORMAT_VERSION,
        "conversation_id": conversation.conversation_id,
        "tools": [tool.name for tool in conversation.tools],
        "state_keys": sorted(conversation.state),
        "turns": [turn(result) for result in conversation.turns],
    }


def redacted_state(state: Mapping[str, Any], is_sensitive: Callable[[str], bool]) -> dict[str, Any]:
    return {key: REDACTED if is_sensitive(key) else value for key, value in state.items()}


__all__ = ["FORMAT_VERSION", "redacted_state", "transcript"]
