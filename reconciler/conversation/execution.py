"""Where tool calls go: the tool service's execution code (`reconciler.runtime`), behind the one call the loop needs.

`Runtime.invoke(Invocation) -> Outcome` fills context parameters from the conversation state, refuses a
model-supplied value for one, checks the arguments against the schema and runs the tool (a handler, the
request binding, or a POST to its endpoint). The loop depends only on the `ToolRunner` Protocol; conversation
tests get a Runtime per file whose `stubs` are handlers, so a stubbed tool still has its context filled and its
arguments checked by the same code.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from reconciler.model import Tool
from reconciler.runtime import Handler, Invocation, Outcome, Runtime

RunnerFactory = Callable[[Mapping[str, Any]], AbstractAsyncContextManager["ToolRunner"]]
"""Given a conversation file's stubs, the tool runner for that file (entered for its run, closed after it)."""


class ToolRunner(Protocol):
    async def invoke(self, invocation: Invocation) -> Outcome: ...


def stub_handler(output: Any) -> Handler:
    """A handler that answers with `output` (a fresh copy each time, so no call sees another's changes)."""

    async def stub(arguments: dict[str, Any]) -> Any:
        return copy.deepcopy(output)

    return stub


def runtimes(tools: Sequence[Tool]) -> RunnerFactory:
    """A Runtime over `tools` per conversation file, with that file's stubs as handlers."""

    @contextlib.asynccontextmanager
    async def runtime(stubs: Mapping[str, Any]) -> AsyncIterator[ToolRunner]:
        handlers = {name: stub_handler(output) for name, output in stubs.items()}
        async with Runtime(list(tools), handlers=handlers) as running:
            yield running

    return runtime


__all__ = ["Invocation", "Outcome", "RunnerFactory", "ToolRunner", "runtimes", "stub_handler"]
