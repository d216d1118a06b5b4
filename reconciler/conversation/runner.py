"""Conversation tests: run each conversation file through the loop and check its expectations.

Each turn's `script` goes along to a gateway on loopback (the emulator's model answers from it); an org's gateway
never gets it, and its real model answers instead. Tool calls run through the tool service's code, with `stubs`
standing in for the tools they name. After each turn the expectations are checked: every expected call must have
been made (in order, arguments matched as a subset, and it must have succeeded unless `status: error` says
otherwise), and the reply must contain each `reply_contains` text (case-insensitive). A turn stopped by the bound
fails its file at the turn's line and ends that file; the other files still run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.conversation.execution import RunnerFactory
from reconciler.conversation.files import ConversationSpec, ExpectedCall, TurnSpec
from reconciler.conversation.loop import (
    DEFAULT_MAX_MODEL_CALLS,
    ChatGateway,
    Conversation,
    ToolCallRecord,
    TurnResult,
    run_turn,
)
from reconciler.conversation.printable import printable
from reconciler.conversation.transcript import Concealer
from reconciler.errors import ReconcilerError
from reconciler.model import SourceLocation, Tool
from reconciler.redaction import named_like_secret, one_line


@dataclass(frozen=True)
class Failure:
    location: SourceLocation
    message: str

    def __str__(self) -> str:
        return one_line(f"{self.location}: {self.message}")  # a file name with a line break stays on its line


@dataclass(frozen=True)
class FileResult:
    spec: ConversationSpec
    failures: tuple[Failure, ...]
    conversation: Conversation

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def tool_calls(self) -> int:
        return sum(len(turn.tool_calls) for turn in self.conversation.turns)


async def run_conversation(
    spec: ConversationSpec,
    *,
    tools: Sequence[Tool],
    gateway: ChatGateway,
    runners: RunnerFactory,
    max_model_calls: int = DEFAULT_MAX_MODEL_CALLS,
    conversation_id: str | None = None,
    is_sensitive: Callable[[str], bool] = named_like_secret,
    secrets: Iterable[str] = (),
) -> FileResult:
    """Runs `spec`; its failures show the calls as its transcript does (`is_sensitive`, `secrets`: see Concealer)."""
    conversation = Conversation(tools, state=spec.state, system=spec.system)
    conceal = Concealer.of(tools, spec.state, is_sensitive=is_sensitive, secrets=secrets)
    if conversation_id is not None:
        conversation.conversation_id = conversation_id
    bound = spec.max_turns or max_model_calls
    failures: list[Failure] = []
    async with runners(spec.stubs) as runner:
        for number, turn in enumerate(spec.turns, start=1):
            try:
                result = await run_turn(
                    conversation, turn.user, gateway=gateway, runner=runner, max_model_calls=bound, script=turn.script
                )
            except ReconcilerError as exc:
                said = printable(conceal.text(str(exc)), one_line=True)
                rest = "; the rest of this file was not run" if number < len(spec.turns) else ""
                failures.append(
                    Failure(turn.location, f"turn {number}: the gateway call did not succeed: {said}{rest}")
                )
                break
            failures.extend(check_turn(turn, result, number, conceal=conceal))
            if result.stop_reason == "turn_bound":
                break
    return FileResult(spec, tuple(failures), conversation)


def check_turn(turn: TurnSpec, result: TurnResult, number: int, *, conceal: Concealer | None = None) -> list[Failure]:
    """What differs between a turn's expectations and what happened in it, told with what `conceal` lets show."""
    conceal = conceal if conceal is not None else Concealer({}, lambda name: False, ())
    if result.stop_reason == "turn_bound":
        return [Failure(turn.location, f"turn {number}: {result.stop_message}; the rest of this file was not run")]
    failures: list[Failure] = []
    made = list(result.tool_calls)
    position = 0
    for expected in turn.expected_calls:
        # a call that ended as expected meets it (a model retries a refused call); else the first that matches,
        # to say how it ended
        found = _find(expected, made, position, status=True)
        if found is None:
            found = _find(expected, made, position)
        if found is None:
            failures.append(Failure(expected.location, f"turn {number}: {_missing(expected, made, conceal)}"))
            continue
        position = found + 1
        record = made[found]
        if record.status != expected.status:
            failures.append(Failure(expected.location, f"turn {number}: {_wrong_status(expected, record, conceal)}"))
    reply = result.reply or ""
    for text, location in turn.reply_contains:
        if text.casefold() not in reply.casefold():
            said = f"the reply does not contain {text!r}; it was {_quoted(conceal.text(reply))}"
            if result.unfinished is not None:  # a real model's answer cut at its token limit, or filtered
                said += f" (the answer was {result.unfinished})"
            failures.append(Failure(location, f"turn {number}: {said}"))
    return failures


def _find(expected: ExpectedCall, made: list[ToolCallRecord], start: int, *, status: bool = False) -> int | None:
    """The first call from `start` on that matches `expected` (and, with `status`, ended as it expects)."""
    for index in range(start, len(made)):
        record = made[index]
        if record.name != expected.name or (status and record.status != expected.status):
            continue
        if record.arguments is None:  # not a JSON object: only an expectation that names no argument matches it
            if not expected.arguments:
                return index
        elif is_subset(expected.arguments, record.arguments):
            return index
    return None


def is_subset(expected: Any, actual: Any) -> bool:
    """Mappings match when every expected key matches; anything else must be equal (and of the same kind:
    `1` is not `true`, `"123"` is not `123`)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and is_subset(value, actual[key]) for key, value in expected.items()
        )
    return (
        bool(expected == actual)
        and isinstance(expected, bool) == isinstance(actual, bool)
        and (isinstance(expected, str) == isinstance(actual, str))
    )


QUOTED_CHARS = 300
"""The most of a reply a failure quotes: a CI log gets one readable line."""


def _quoted(text: str) -> str:
    if len(text) <= QUOTED_CHARS:
        return repr(text)
    return f"{text[:QUOTED_CHARS] + '…'!r} ({len(text):,} characters)"


def _shown(name: str, arguments: Mapping[str, Any] | None) -> str:
    """A call on one line; the model chose its name and arguments, so they are made printable."""
    text = "(not a JSON object)" if arguments is None else json.dumps(arguments, sort_keys=True, ensure_ascii=False)
    return printable(f"{name}({text})", one_line=True)


def _missing(expected: ExpectedCall, made: list[ToolCallRecord], conceal: Concealer) -> str:
    wanted = f"expected a call of {_shown(expected.name, conceal.text(expected.arguments))}"
    if not made:
        return f"{wanted}; no tool was called"
    calls = ", ".join(_shown(record.name, conceal.arguments(record.name, record.arguments)) for record in made)
    return f"{wanted} (arguments as a subset, in order); the calls were: {calls}"


def _wrong_status(expected: ExpectedCall, record: ToolCallRecord, conceal: Concealer) -> str:
    call = _shown(record.name, conceal.arguments(record.name, record.arguments))
    if record.status == "error":
        said = printable(f"{record.error_code}: {conceal.text(record.message)}", one_line=True)
        return f"{call} was called but did not succeed: {said}"
    return f"{call} succeeded, but the file expects it to end with status: error"


__all__ = ["Failure", "FileResult", "check_turn", "is_subset", "run_conversation"]
