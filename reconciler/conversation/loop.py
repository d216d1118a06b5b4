"""The conversation loop (DESIGN §9): the model and the tools take turns until the model answers, or the bound.

One user message is one turn: the conversation and the tools (OpenAI function form, context parameters
hidden) go to the gateway; each tool call it returns runs through the tool service's code, all calls of one
answer concurrently; the results go back as `tool` messages with their call ids, and the model is asked again.
A failed call is fed back as an error result, never raised. At most `max_model_calls` requests are made per
turn; when the bound stops a turn, the calls of the last answer are not run (nobody would read their results)
but are answered with an error result, so the history stays a valid conversation.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from reconciler.compile import openai_function
from reconciler.conversation.execution import Invocation, Outcome, ToolRunner
from reconciler.conversation.gateway import Completion, ModelToolCall
from reconciler.errors import ConfigurationError, ReconcilerError
from reconciler.model import Tool
from reconciler.runtime.invocation import unwritable
from reconciler.runtime.threads import in_daemon_thread

DEFAULT_MAX_MODEL_CALLS = 8
MAX_MODEL_CALLS_LIMIT = 49
"""The bound stays below 50 model calls per user turn, whatever is asked."""
TURN_BOUND_CODE = "TURN_BOUND_REACHED"
BAD_ARGUMENTS_CODE = "INVALID_ARGUMENTS"
INTERRUPTED_CODE = "INTERRUPTED"
MAX_RESULT_CHARS = 64_000
"""The most of one tool result the model reads (about 16k tokens): a tool may answer megabytes."""
NOT_RUN = "not run: the turn bound was reached"
INTERRUPTED = "interrupted before its result came; it may have run"

StopReason = Literal["answered", "turn_bound", "gateway_error", "interrupted"]
UNFINISHED = {
    "length": "cut short: the model reached its token limit",
    "content_filter": "withheld by the gateway's content filter",
    "refusal": "a refusal by the model",
}


class ChatGateway(Protocol):
    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]],
        *,
        script: Sequence[Mapping[str, Any]] | None = None,
    ) -> Completion: ...


@dataclass(frozen=True)
class ToolCallRecord:
    """One tool call of a turn and how it ended. `arguments` is what the model sent (None: not a JSON object)."""

    id: str
    name: str
    arguments: Mapping[str, Any] | None
    status: Literal["success", "error"]
    output: Any = None
    error_code: str | None = None
    message: str | None = None
    latency_ms: float = 0.0
    upstream_status: int | None = None
    model_call: int = 1
    """Which model answer of the turn asked for it (1-based)."""
    output_withheld: Literal["too_large", "too_deep", "unreadable"] | None = None
    """Why an upstream's 2xx answer was not given to the model (`output` is then a note saying the call
    happened), as serve's answer metadata and audit line say it; None when it was given."""


@dataclass(frozen=True)
class TurnResult:
    user: str
    reply: str | None
    """The model's final answer; None when the bound stopped the turn."""
    stop_reason: StopReason
    model_calls: int
    max_model_calls: int
    tool_calls: tuple[ToolCallRecord, ...]
    latency_ms: float
    error: str | None = None
    """Why the gateway call that ended the turn failed (stop reason `gateway_error`)."""
    finish_reason: str | None = None
    """The `finish_reason` of the model's last answer (OpenAI's: stop, tool_calls, length, content_filter)."""

    @property
    def unfinished(self) -> str | None:
        """Why an answer the model gave is not a finished one (cut short, filtered), or None."""
        if self.stop_reason != "answered" or self.finish_reason in (None, "stop", "tool_calls"):
            return None
        why = UNFINISHED.get(str(self.finish_reason), "the model did not finish it")
        return f"{why} (finish_reason {self.finish_reason})"

    @property
    def stop_message(self) -> str:
        if self.stop_reason == "answered":
            said = f"answered after {self.model_calls} model call{'' if self.model_calls == 1 else 's'}"
            return said if self.unfinished is None else f"{said}, but the answer was {self.unfinished}"
        if self.stop_reason == "gateway_error":
            return f"model call {self.model_calls} did not succeed: {self.error}"
        if self.stop_reason == "interrupted":
            return f"interrupted during model call {self.model_calls} or its tool calls"
        return (
            f"the turn bound stopped it: {self.max_model_calls} model calls without a final answer "
            "(--max-turns raises it, up to 49)"
        )


@dataclass
class Conversation:
    """One conversation: the tools it may call, the state context parameters read, and its messages so far."""

    tools: Sequence[Tool]
    state: Mapping[str, Any] = field(default_factory=dict)
    conversation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    system: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    turns: list[TurnResult] = field(default_factory=list)
    functions: list[dict[str, Any]] = field(init=False)
    """The tools as the model sees them (OpenAI function form, without context parameters)."""

    def __post_init__(self) -> None:
        if self.system and not self.messages:
            self.messages.append({"role": "system", "content": self.system})
        self.functions = [openai_function(tool) for tool in self.tools]

    @property
    def user_id(self) -> str | None:
        value = self.state.get("user_id")
        return None if value is None else str(value)

    def invocation_state(self) -> dict[str, Any]:
        """The conversation state object of the invocation (DESIGN §9): `id` and `user_id` filled in."""
        state = dict(self.state)
        state["id"] = self.conversation_id
        if self.user_id is not None:
            state["user_id"] = self.user_id
        return state


def check_max_model_calls(value: int) -> int:
    if not 1 <= value <= MAX_MODEL_CALLS_LIMIT:
        raise ConfigurationError(
            f"the turn bound must be between 1 and {MAX_MODEL_CALLS_LIMIT} model calls, not {value}"
        )
    return value


async def run_turn(
    conversation: Conversation,
    user: str,
    *,
    gateway: ChatGateway,
    runner: ToolRunner,
    max_model_calls: int = DEFAULT_MAX_MODEL_CALLS,
    script: Sequence[Mapping[str, Any]] | None = None,
) -> TurnResult:
    """Send one user message and go on until the model answers or the bound; appends to `conversation`. A gateway
    call that fails raises its error, and an interrupted turn (Ctrl-C: cancelled) its cancellation, after the
    turn so far (the tools that already ran) is appended too."""
    check_max_model_calls(max_model_calls)
    started = time.perf_counter()
    conversation.messages.append({"role": "user", "content": user})
    records: list[ToolCallRecord] = []
    for number in range(1, max_model_calls + 1):
        try:
            ask = functools.partial(
                gateway.complete, list(conversation.messages), conversation.functions, script=script
            )
            completion = await in_daemon_thread(ask)  # not to_thread: Ctrl-C must not wait for a slow gateway
        except ReconcilerError as exc:
            error = str(exc)
            _finish(conversation, user, None, "gateway_error", number, records, started, max_model_calls, error)
            raise
        except asyncio.CancelledError:
            _finish(conversation, user, None, "interrupted", number, records, started, max_model_calls)
            raise
        conversation.messages.append(completion.assistant_message())
        if not completion.tool_calls:
            return _finish(
                conversation,
                user,
                completion.content or "",
                "answered",
                number,
                records,
                started,
                max_model_calls,
                finish_reason=completion.finish_reason,
            )
        if number == max_model_calls:
            done = [_cut(call, number, TURN_BOUND_CODE, NOT_RUN) for call in completion.tool_calls]
        else:
            try:
                done = await asyncio.gather(
                    *(_execute(conversation, runner, call, number) for call in completion.tool_calls)
                )
            except asyncio.CancelledError:  # the calls of this answer may have run, or not: the record says so
                records.extend(_cut(call, number, INTERRUPTED_CODE, INTERRUPTED) for call in completion.tool_calls)
                _finish(conversation, user, None, "interrupted", number, records, started, max_model_calls)
                raise
        records.extend(done)
        conversation.messages.extend(_tool_message(record) for record in done)
    return _finish(conversation, user, None, "turn_bound", max_model_calls, records, started, max_model_calls)


def _finish(
    conversation: Conversation,
    user: str,
    reply: str | None,
    reason: StopReason,
    model_calls: int,
    records: list[ToolCallRecord],
    started: float,
    bound: int,
    error: str | None = None,
    *,
    finish_reason: str | None = None,
) -> TurnResult:
    latency = (time.perf_counter() - started) * 1000
    result = TurnResult(user, reply, reason, model_calls, bound, tuple(records), latency, error, finish_reason)
    conversation.turns.append(result)
    return result


async def _execute(conversation: Conversation, runner: ToolRunner, call: ModelToolCall, number: int) -> ToolCallRecord:
    arguments = _arguments(call.arguments)
    if arguments is None:
        return ToolCallRecord(
            call.id,
            call.name,
            None,
            "error",
            error_code=BAD_ARGUMENTS_CODE,
            message="the arguments are not a JSON object; call the tool again with a JSON object",
            model_call=number,
        )
    invocation = Invocation(
        tool_name=call.name,
        parameters=arguments,
        conversation_id=conversation.conversation_id,
        user_id=conversation.user_id,
        conversation=conversation.invocation_state(),
    )
    started = time.perf_counter()
    try:
        outcome = await runner.invoke(invocation)
    except Exception as exc:  # the runtime answers errors as outcomes; anything else is still fed back, not raised
        outcome = Outcome(
            "error",
            error_code="EXECUTION_FAILURE",
            message=f"the tool could not be run ({type(exc).__name__})",
            latency_ms=(time.perf_counter() - started) * 1000,
        )
    if outcome.ok and not isinstance(outcome.output, str) and _json_text(outcome.output) is None:
        outcome = unwritable(outcome, call.name)  # as `serve` answers it: the model reads strict JSON only
    return ToolCallRecord(
        call.id,
        call.name,
        arguments,
        outcome.status,
        output=outcome.output,
        error_code=outcome.error_code,
        message=outcome.message,
        latency_ms=outcome.latency_ms,
        upstream_status=outcome.upstream_status,
        model_call=number,
        output_withheld=outcome.withheld,
    )


def _cut(call: ModelToolCall, number: int, code: str, message: str) -> ToolCallRecord:
    """A call the turn ended before its result: not run (the bound), or its result never came (Ctrl-C)."""
    return ToolCallRecord(
        call.id, call.name, _arguments(call.arguments), "error", error_code=code, message=message, model_call=number
    )


def _arguments(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _json_text(output: Any) -> str | None:
    """`output` as strict JSON text, or None when JSON cannot hold it (NaN, an infinity, a set, nested too deep)."""
    try:
        return json.dumps(output, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None


def _tool_message(record: ToolCallRecord) -> dict[str, Any]:
    """What the model reads: the output on success (its start, when it is longer than MAX_RESULT_CHARS), else the
    error's code and message."""
    if record.status == "success":
        content = record.output if isinstance(record.output, str) else _json_text(record.output) or "null"
        if len(content) > MAX_RESULT_CHARS:  # whole, it would overflow the model's context (or the request's limit)
            cut = f"the tool answered {len(content):,} characters; the first {MAX_RESULT_CHARS:,} are shown"
            content = f"{content[:MAX_RESULT_CHARS]}… (cut: {cut})"
    else:
        content = json.dumps({"error": {"code": record.error_code, "message": record.message}}, ensure_ascii=False)
    return {"role": "tool", "tool_call_id": record.id, "content": content}


__all__ = [
    "DEFAULT_MAX_MODEL_CALLS",
    "MAX_MODEL_CALLS_LIMIT",
    "ChatGateway",
    "Conversation",
    "StopReason",
    "ToolCallRecord",
    "TurnResult",
    "check_max_model_calls",
    "run_turn",
]
