"""Never silent for long: a line (through the `notice` callback; the CLI prints it on stderr) for every request
that has waited longer than a few seconds for its answer, and again every so often while it still waits.

One watcher thread serves every request of a client (started on first use, a daemon, so it never holds the
process open); a request registers when it is sent and leaves when its answer is read. Time is injected.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from reconciler.api.threads import threads_leave_ctrl_c_to_main

NOTICE_AFTER = 3.0
"""Seconds a request waits for its answer before the first notice; then one every NOTICE_EVERY."""
NOTICE_EVERY = 10.0


@dataclass
class _Waiting:
    what: str
    started: float
    next_notice: float


class SlowRequests:
    """Tells `notice` about requests still waiting for their answer after NOTICE_AFTER seconds."""

    def __init__(
        self,
        notice: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        after: float = NOTICE_AFTER,
        every: float = NOTICE_EVERY,
    ) -> None:
        self._notice = notice
        self._clock = clock
        self._after = after
        self._every = every
        self._lock = threading.Condition()
        self._waiting: dict[int, _Waiting] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def watch(self, what: str) -> Iterator[None]:
        """While the block runs, `what` (e.g. "GET the tool list from api.mypurecloud.de") counts as waiting."""
        now = self._clock()
        key = next(self._ids)
        with self._lock:
            self._waiting[key] = _Waiting(what, now, now + self._after)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="slow-requests", daemon=True)
                with threads_leave_ctrl_c_to_main():  # it lives as long as the client
                    self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                del self._waiting[key]

    def check(self) -> None:
        """Say what has waited too long (the watcher calls this about once a second; tests call it directly)."""
        now = self._clock()
        due: list[str] = []
        with self._lock:
            for waiting in self._waiting.values():
                if now >= waiting.next_notice:
                    waiting.next_notice = now + self._every
                    due.append(f"still waiting for an answer to {waiting.what} ({now - waiting.started:.0f} s)")
        for line in due:
            self._notice(line)

    def _run(self) -> None:
        while True:
            with self._lock:
                self._lock.wait(timeout=1.0)
            self.check()


def announcing(
    sleep: Callable[[float], None], notice: Callable[[str], None] | None, why: str
) -> Callable[[float], None]:
    """`sleep`, saying first (through `notice`) when it is long enough to be noticed."""
    if notice is None:
        return sleep

    def announced(seconds: float) -> None:
        if seconds >= NOTICE_AFTER:
            notice(f"waiting {seconds:.0f} s for {why}")
        sleep(seconds)

    return announced


__all__ = ["NOTICE_AFTER", "NOTICE_EVERY", "SlowRequests", "announcing"]
