"""Which threads of another process Linux may hand a Ctrl-C to: those that do not block SIGINT (/proc)."""

from __future__ import annotations

import os
import signal


def threads_that_may_take_ctrl_c(pid: int) -> list[int]:
    """The ids of the threads of process `pid` that do not block SIGINT (the main thread's id is `pid`)."""
    hearing = []
    for name in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{name}/status", encoding="ascii") as status:
            blocked = next(int(line.split()[1], 16) for line in status if line.startswith("SigBlk:"))
        if not blocked & (1 << (signal.SIGINT - 1)):
            hearing.append(int(name))
    return sorted(hearing)
