"""Blocking calls (a gateway request, a line of the terminal) awaited from the conversation's event loop.

`asyncio.to_thread` runs them on the loop's default executor, which `asyncio.run` joins on its way out: after
Ctrl-C the process would wait for the user's next line, or for a silent gateway's 60 s deadline and its retries,
before it could exit. A daemon thread is never waited for, so an interrupt ends the conversation at once; the
abandoned call finishes (or dies with the process) on its own, and its result goes nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_daemon_thread(function: Callable[..., T], /, *args: object, **kwargs: object) -> T:
    """`await asyncio.to_thread(function, ...)`, except that nobody waits for the thread if the await is cancelled."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():  # cancelled while the thread ran
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = call(), None
        except BaseException as exc:  # handed to the awaiting task, as to_thread does
            result, error = None, exc
        # a closed loop (RuntimeError): the conversation was interrupted, and nobody waits for this result
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="conversation-call", daemon=True).start()
    return await future


__all__ = ["in_daemon_thread"]
