"""Ctrl-C for the commands that run an event loop (`chat`, `test`), whichever thread the kernel hands it to."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_interruptible(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, where Ctrl-C cancels `main` and then raises KeyboardInterrupt, as asyncio.run's own
    handler does, but heard from any thread.

    Linux may deliver SIGINT to any thread of the process: a daemon thread waiting for the terminal, the embedded
    emulator's. Python runs its handler only on the main thread, when that thread next runs Python code, and a
    loop asleep in epoll with nothing due is never woken: `chat` waited at its prompt for good. The loop's own
    signal handling has the signal written to the loop's self-pipe by whichever thread received it, which wakes
    the loop at once."""
    return asyncio.run(_cancelled_by_ctrl_c(main))


async def _cancelled_by_ctrl_c(main: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    interrupted: list[int] = []

    def interrupt() -> None:
        interrupted.append(signal.SIGINT)
        if task is not None:
            task.cancel()  # a second Ctrl-C cancels again: it cuts a slow clean-up short

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background (`&`, nohup): Ctrl-C is not ours
        return await main
    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows' loop; a loop that is not on the main thread
        return await main
    try:
        result = await main
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    if interrupted:  # `main` swallowed the cancellation somewhere: the Ctrl-C still ends the command
        raise KeyboardInterrupt
    return result


__all__ = ["run_interruptible"]
