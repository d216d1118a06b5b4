"""Sync handlers run in daemon threads of their own, at most MAX_THREADS at once.

Why not `asyncio.to_thread`: a sync handler that never returns keeps its thread after its call has timed out
(Python cannot stop a thread). In asyncio's default executor (min(32, CPUs + 4) threads) a handful of such
calls took every thread, so every later sync handler call waited for one until it timed out; and the executor's
threads are joined when the event loop closes and again when the interpreter exits, so SIGTERM never ended
`reconciler serve`. A daemon thread per call leaves neither: a stuck one holds one of MAX_THREADS slots, and
the process exits without it. The thread runs in a copy of the caller's context, as `asyncio.to_thread` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any

MAX_THREADS = 256
"""Sync handler calls running at once (stuck ones included); more wait for a slot, within their timeout."""


class HandlerThreads:
    """Runs sync callables off the event loop, counting the threads of the loop it runs in."""

    def __init__(self) -> None:
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, function: Callable[[Any], Any], argument: Any) -> Any:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:  # a semaphore serves one loop (a Runtime reused in
            self._slots, self._loop = asyncio.Semaphore(MAX_THREADS), loop  # another asyncio.run starts afresh)
        slots = self._slots
        await slots.acquire()
        done: asyncio.Future[Any] = loop.create_future()
        context = contextvars.copy_context()

        def work() -> None:
            try:
                result, error = context.run(function, argument), None
            except BaseException as exc:  # handed to the caller, which decides what it means
                result, error = None, exc
            # RuntimeError: the loop has closed (the service stopped), so nobody waits for this answer
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, done, result, error, slots)

        try:
            threading.Thread(target=work, name="reconciler-handler", daemon=True).start()
        except BaseException:
            slots.release()
            raise
        return await done


def _settle(done: asyncio.Future[Any], result: Any, error: BaseException | None, slots: asyncio.Semaphore) -> None:
    slots.release()  # the thread has ended: its slot is free, whether or not its caller still waits
    if done.done():  # the call timed out (or was cancelled) meanwhile
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


__all__ = ["MAX_THREADS", "HandlerThreads"]
