"""The threads a client starts leave Ctrl-C to the main thread, and nobody waits for them after it.

Linux hands a process's SIGINT to any thread that does not block it, and Python runs the handler on the main
thread only, when that thread next runs Python code. A Ctrl-C landing on a client's thread (the watcher that
announces slow requests, a Data Actions read) left the main thread waiting in a socket read or for a result
until the API answered, or its timeout passed (30 s). A thread inherits the signal mask of the thread that
starts it: started with SIGINT blocked, it is never chosen, and the kernel hands Ctrl-C to the main thread.

Once Ctrl-C is heard, a read still in flight is of no use: daemon threads are left to finish on their own (or die
with the process), where a ThreadPoolExecutor is joined when its block ends and again when the interpreter exits.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

HEAR_CTRL_C_EVERY = 0.2
"""Seconds at most a main thread waiting for other threads goes without looking for a Ctrl-C. A Ctrl-C the kernel
hands to a thread that does not block SIGINT (one not started through `threads_leave_ctrl_c_to_main`, or not
ours) only sets a flag: a wait with no timeout on the main thread heard it only when the wait ended."""


@contextlib.contextmanager
def threads_leave_ctrl_c_to_main() -> Iterator[None]:
    """Threads started in this block block SIGINT. A Ctrl-C arriving meanwhile is delivered when it ends.

    It is held on the starting thread too: `Thread.start` waits on an Event inside threading, and a Ctrl-C
    landing there can leave that Event's lock released twice (a RuntimeError, not a KeyboardInterrupt)."""
    if hasattr(signal, "pthread_sigmask"):
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        return
    # Windows: signals are handled on the main thread anyway; a Ctrl-C is held in Python until the block ends
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    handler = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda number, frame: held.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler if handler is not None else signal.default_int_handler)
    if held:
        raise KeyboardInterrupt


def map_in_threads(function: Callable[[T], R], items: Sequence[T], parallelism: int, name: str) -> list[R]:
    """`[function(item) for item in items]`, `parallelism` at a time in daemon threads; the first exception (in
    the order of `items`) is raised once all have ended. Ctrl-C on the caller's thread leaves the threads."""
    results: list[R | None] = [None] * len(items)
    errors: list[BaseException | None] = [None] * len(items)
    taken = iter(range(len(items)))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                index = next(taken, None)
            if index is None:
                return
            try:
                results[index] = function(items[index])
            except BaseException as exc:  # handed to the caller, as ThreadPoolExecutor.map does
                errors[index] = exc

    count = max(1, min(parallelism, len(items)))
    threads = [threading.Thread(target=work, name=f"{name}-{n}", daemon=True) for n in range(count)]
    with threads_leave_ctrl_c_to_main():
        for thread in threads:
            thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(HEAR_CTRL_C_EVERY)  # a lock wait: SIGINT interrupts it only when handed to this thread
    for error in errors:
        if error is not None:
            raise error
    return results  # type: ignore[return-value]  # every index was filled, or an error raised


__all__ = ["HEAR_CTRL_C_EVERY", "map_in_threads", "threads_leave_ctrl_c_to_main"]
