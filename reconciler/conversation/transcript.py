"""The JSON transcript of a conversation: every turn, every tool call with its arguments, latency and outcome.

Arguments are redacted before they are written: a context parameter the model supplied itself (it may be a
session token), an argument named like a secret, and any value of a sensitive variable or of a secret-named
state entry become `(sensitive)`. Tool outputs are not written, only their outcome, and `output_withheld`
(`too_large`, `too_deep`, `unreadable`, else null) when the model was given a note instead of an upstream's 2xx answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.conversation.loop import Conversation, ToolCallRecord, TurnResult
from reconciler.model import Tool
from reconciler.plan.render import REDACTED, redact

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Concealer:
    """What a reader (a transcript, a failure line in a CI log) may see of a conversation's tool calls and texts."""

    context: Mapping[str, frozenset[str]]
    """Each tool's context parameters: a value the model set for one itself may be a session token."""
    is_sensitive: Callable[[str], bool]
    known: tuple[str, ...]
    """Values to hide wherever they appear: the sensitive variables' and the secret-named state entries'."""

    @classmethod
    def of(
        cls,
        tools: Sequence[Tool],
        state: Mapping[str, Any],
        *,
        is_sensitive: Callable[[str], bool],
        secrets: Iterable[str] = (),
    ) -> Concealer:
        state_secrets = [str(value) for key, value in state.items() if is_sensitive(key) and value]
        context = {tool.name: frozenset(tool.context) for tool in tools}
        return cls(context, is_sensitive, (*secrets, *state_secrets))

    def arguments(self, tool: str, arguments: Mapping[str, Any] | None) -> Any:
        if arguments is None:
            return None
        hidden = self.context.get(tool, frozenset())
        shown = {
            key: REDACTED if key in hidden or self.is_sensitive(key) else value for key, value in arguments.items()
        }
        return self.text(shown)

    def text(self, value: Any) -> Any:
        """`value` (a string or JSON data) with every known secret replaced by (sensitive)."""
        return redact(value, self.known)


def transcript(
    conversation: Conversation, *, secrets: Iterable[str] = (), is_sensitive: Callable[[str], bool]
) -> dict[str, Any]:
    """The transcript as JSON data. `is_sensitive(name)` tells which argument and state names hold secrets."""
    conceal = Concealer.of(conversation.tools, conversation.state, is_sensitive=is_sensitive, secrets=secrets)

    def call(record: ToolCallRecord) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": record.id,
            "tool": record.name,
            "arguments": conceal.arguments(record.name, record.arguments),
            "status": record.status,
            "latency_ms": round(record.latency_ms, 1),
            "model_call": record.model_call,
        }
        if record.status == "error":
            entry["error_code"] = record.error_code
            entry["message"] = conceal.text(record.message)
        if record.upstream_status is not None:
            entry["upstream_status"] = record.upstream_status
        entry["output_withheld"] = record.output_withheld  # on every call, as on serve's audit lines
        return entry

    def turn(result: TurnResult) -> dict[str, Any]:
        return {
            "user": conceal.text(result.user),
            "reply": conceal.text(result.reply),
            "stop_reason": result.stop_reason,
            "stop_message": conceal.text(result.stop_message),
            "finish_reason": result.finish_reason,
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


__all__ = ["FORMAT_VERSION", "Concealer", "redacted_state", "transcript"]
