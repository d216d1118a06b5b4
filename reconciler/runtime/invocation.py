"""What goes into the runtime and what comes out: an Invocation, an Outcome, and the error codes between.

An invocation is the tool service's request body (DESIGN §9, seed 001): `{tool_name, parameters, conversation_id,
user_id, conversation}`. Whatever goes wrong while running it ends as an Outcome with one of `ERROR_CODES` and a
message that names places (a parameter, a context path, an HTTP status), never a value the model or the
conversation supplied, and never a credential or a filled URL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

ErrorCode = Literal[
    "INVALID_PAYLOAD",
    "INVALID_ARGUMENTS",
    "UNKNOWN_TOOL",
    "TOOL_EXECUTION_TIMEOUT",
    "UPSTREAM_ERROR",
    "CIRCUIT_OPEN",
    "EXECUTION_FAILURE",
]
ERROR_CODES: tuple[ErrorCode, ...] = get_args(ErrorCode)


class ToolError(Exception):
    """A call that cannot succeed; becomes an error Outcome. The message is safe to show to anyone."""

    def __init__(self, code: ErrorCode, message: str, *, upstream_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.upstream_status = upstream_status


@dataclass(frozen=True)
class Invocation:
    """One call of a tool. `conversation` is the conversation state that context parameters read; its `id` and
    `user_id` come from `conversation_id` and `user_id`."""

    tool_name: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    conversation_id: str | None = None
    user_id: str | None = None
    conversation: Mapping[str, Any] | None = None
    via: tuple[str, ...] = ()
    """The reconciler services that forwarded this call here, by instance (the request's `Via` header): a
    service forwards no call that has been through it already (binding.forward_request)."""

    @classmethod
    def from_payload(cls, payload: Any, via: tuple[str, ...] = ()) -> Invocation:
        """The invocation a decoded request body holds; ToolError INVALID_PAYLOAD when it holds none."""
        if not isinstance(payload, dict):
            raise ToolError("INVALID_PAYLOAD", "the invocation must be a JSON object")
        name = payload.get("tool_name")
        if not isinstance(name, str) or not name:
            raise ToolError("INVALID_PAYLOAD", "the invocation needs 'tool_name', a non-empty string")
        parameters = payload.get("parameters", {})
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            raise ToolError("INVALID_PAYLOAD", "'parameters' must be a JSON object")
        ids: dict[str, str | None] = {}
        for key in ("conversation_id", "user_id"):
            value = payload.get(key)
            if value is not None and not isinstance(value, str):
                raise ToolError("INVALID_PAYLOAD", f"{key!r} must be a string")
            ids[key] = value
        conversation = payload.get("conversation")
        if conversation is not None and not isinstance(conversation, dict):
            raise ToolError("INVALID_PAYLOAD", "'conversation' must be a JSON object (the conversation state)")
        return cls(name, parameters, ids["conversation_id"], ids["user_id"], conversation, via)


@dataclass(frozen=True)
class Outcome:
    """How a call ended. `output` is the tool's answer (an upstream's JSON as received); `latency_ms` covers the
    whole call, retries included; `upstream_status` is the last HTTP status the upstream answered, if any."""

    status: Literal["success", "error"]
    output: Any = None
    error_code: ErrorCode | None = None
    message: str | None = None
    latency_ms: float = 0.0
    upstream_status: int | None = None
    withheld: Literal["too_large", "too_deep", "unreadable"] | None = None
    """Set when an upstream's 2xx answer could not be passed on: `output` is then a note saying so (the call
    happened; an error would have a model repeat it), and the answer's metadata says `output_withheld`."""

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def answer(self) -> dict[str, Any]:
        """The tool service's response body: `{output, status, metadata}` or `{status, error_code, message}`."""
        if self.status == "success":
            metadata: dict[str, Any] = {"latency_ms": round(self.latency_ms, 3)}
            if self.upstream_status is not None:
                metadata["upstream_status"] = self.upstream_status
            if self.withheld is not None:
                metadata["output_withheld"] = self.withheld
            return {"output": self.output, "status": "success", "metadata": metadata}
        return {"status": "error", "error_code": self.error_code, "message": self.message}


def withheld_note(tool: str, status: int, why: str) -> str:
    """The output standing for an upstream's 2xx answer that cannot be passed on: it says the call happened."""
    return f"{tool} was called and its upstream answered {status}, but that answer is {why}; the call has happened"


def unwritable(outcome: Outcome, tool: str) -> Outcome:
    """What stands for `outcome` when JSON cannot hold its output, wherever it is written (`serve`'s answer, the
    conversation loop's tool message): an upstream's 2xx answer nested past what the encoders write (~1,000
    levels) is a success whose output says so, as the call has happened and an error would have a model repeat
    it; a handler's output (a set, a date, NaN, an infinity) is the handler's bug, said as EXECUTION_FAILURE,
    never written as `null` or `NaN`."""
    if outcome.ok and outcome.upstream_status is not None:
        note = withheld_note(tool, outcome.upstream_status, "nested too deep to pass on as JSON")
        return dataclasses.replace(outcome, output=note, withheld="too_deep")
    message = f"{tool} returned an output that is not JSON"
    return Outcome("error", None, "EXECUTION_FAILURE", message, outcome.latency_ms)


__all__ = ["ERROR_CODES", "ErrorCode", "Invocation", "Outcome", "ToolError", "unwritable", "withheld_note"]
