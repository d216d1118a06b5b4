"""Which threads of another process Linux may hand a Ctrl-C to: those that do not block SIGINT (/proc)."""

from __future__ import annotations

import os
import signal
import time


def threads_that_may_take_ctrl_c(pid: int) -> list[int]:
    """The ids of the threads of process `pid` that do not block SIGINT (the main thread's id is `pid`)."""
    hearing = []
    for name in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{name}/status", encoding="ascii") as status:
                blocked = next(int(line.split()[1], 16) for line in status if line.startswith("SigBlk:"))
        except (FileNotFoundError, ProcessLookupError):  # the thread ended since the listing
            continue
        if not blocked & (1 << (signal.SIGINT - 1)):
            hearing.append(int(name))
    return sorted(hearing)


def once_the_main_thread_hears_ctrl_c(pid: int) -> list[int]:
    """`threads_that_may_take_ctrl_c(pid)` once the main thread no longer blocks SIGINT. It blocks it while it
    starts a thread (threads_leave_ctrl_c_to_main), and the thread it starts may be at work, its request seen by
    the test, before the main thread has run again (on a loaded machine, a while): a snapshot then held no
    thread at all. Waits 60 s at most, a hang guard: a main thread that never hears Ctrl-C fails the test."""
    guard = time.monotonic() + 60
    while pid not in (hearing := threads_that_may_take_ctrl_c(pid)):
        assert time.monotonic() < guard, f"the main thread of {pid} blocked SIGINT for 60 s"
        time.sleep(0.01)
    return hearing
