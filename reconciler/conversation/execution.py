"""Where tool calls go: the tool service's execution code, behind the one call the loop needs.

`reconciler.runtime.Runtime.invoke(Invocation) -> Outcome` fills context parameters from the conversation
state, refuses a model-supplied value for one, checks the arguments and runs the tool. The loop depends only
on this Protocol, so a test can hand it anything that answers `invoke`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class Invocation:
    tool_name: str
    parameters: Mapping[str, Any]
    conversation_id: str | None = None
    user_id: str | None = None
    conversation: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    status: Literal["success", "error"]
    output: Any = None
    error_code: str | None = None
    message: str | None = None
    latency_ms: float = 0.0
    upstream_status: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


class ToolRunner(Protocol):
    async def invoke(self, invocation: Invocation) -> Outcome: ...


class StubbedRunner:
    """A conversation test's `stubs`: the named tools answer with the stub's output; the rest run for real."""

    def __init__(self, runner: ToolRunner, stubs: Mapping[str, Any]) -> None:
        self._runner = runner
        self._stubs = dict(stubs)

    async def invoke(self, invocation: Invocation) -> Outcome:
        if invocation.tool_name in self._stubs:
            return Outcome("success", output=self._stubs[invocation.tool_name], metadata={"stub": True})
        return await self._runner.invoke(invocation)


__all__ = ["Invocation", "Outcome", "StubbedRunner", "ToolRunner"]
