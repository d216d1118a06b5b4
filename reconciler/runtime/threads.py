"""Blocking calls awaited from an event loop in daemon threads of their own, never in asyncio's executor.

Why not `asyncio.to_thread`: its executor's threads are joined when the event loop closes and again when the
interpreter exits, and Python cannot stop a thread. So a call that does not return held up every exit: a stuck
sync handler kept SIGTERM from ending `reconciler serve`, and Ctrl-C in `chat` waited for the user's next line
or for a silent gateway's deadline and its retries. And the executor has min(32, CPUs + 4) threads: a handful
of stuck handlers took them all, so every later sync handler call waited for one until it timed out. A daemon
thread per call leaves neither: an abandoned call finishes (or dies with the process) on its own, and its result
goes nowhere. The thread runs in a copy of the caller's context, as `asyncio.to_thread` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

MAX_THREADS = 256
"""Sync handler calls running at once (stuck ones included); more wait for a slot, within their timeout."""


async def in_daemon_thread(
    function: Callable[..., T], /, *args: Any, name: str = "reconciler-call", ended: Callable[[], None] | None = None
) -> T:
    """`await asyncio.to_thread(function, *args)`, except that nobody waits for the thread if the await is
    cancelled. `ended` is called on the loop once the thread has ended (or could not start), whether or not
    anybody still waits for its result."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    call = functools.partial(contextvars.copy_context().run, function, *args)

    def work() -> None:
        try:
            result, error = call(), None
        except BaseException as exc:  # handed to the awaiting task, as to_thread does
            result, error = None, exc
        # RuntimeError: the loop has closed (the service stopped, the conversation was interrupted)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, done, result, error, ended)

    try:
        threading.Thread(target=work, name=name, daemon=True).start()
    except BaseException:
        if ended is not None:
            ended()
        raise
    return await done


def _settle(
    done: asyncio.Future[Any], result: Any, error: BaseException | None, ended: Callable[[], None] | None
) -> None:
    if ended is not None:
        ended()
    if done.done():  # the call timed out (or was cancelled) meanwhile
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


class HandlerThreads:
    """Runs sync handlers in daemon threads, at most MAX_THREADS at once per event loop."""

    def __init__(self) -> None:
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, function: Callable[[Any], Any], argument: Any) -> Any:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:  # a semaphore serves one loop (a Runtime reused in
            self._slots, self._loop = asyncio.Semaphore(MAX_THREADS), loop  # another asyncio.run starts afresh)
        slots = self._slots
        await slots.acquire()
        # the slot is freed when the thread ends, not when its caller stops waiting: a stuck one keeps it
        return await in_daemon_thread(function, argument, name="reconciler-handler", ended=slots.release)


__all__ = ["MAX_THREADS", "HandlerThreads", "in_daemon_thread"]
