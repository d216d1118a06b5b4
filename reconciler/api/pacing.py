"""One client-side limiter shared by every thread of a client, paced by the server's own rate-limit headers.

The platform counts requests in windows: each response says how many are `allowed` in the window
(`inin-ratelimit-allowed`), how many were used (`-count`) and in how many seconds the window ends (`-reset`);
a 429 says how long to hold off (`Retry-After`). The pacer mirrors that window: it hands out the `allowed`
slots, waits for the window to end once they are spent, and holds every thread while a `Retry-After` runs.

- Until the first response arrives, only one request is in flight: the first answer tells the limits, so a
  bulk apply does not open with a burst of 429s.
- Our own reservations are counted locally (the server's count lags by the requests still in flight); the
  server's count is taken when it is higher (other clients share the limit).
- A response from a window that has already ended (it was in flight across the boundary) is ignored.
- A reset given in whole seconds may have been rounded down, so the window is assumed to last up to one
  second longer; a fractional reset is taken as it is.

Time is injected (`clock`, `sleep`) so tests do not sleep.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger("reconciler.api.pacing")

ALLOWED_HEADER = "inin-ratelimit-allowed"
COUNT_HEADER = "inin-ratelimit-count"
RESET_HEADER = "inin-ratelimit-reset"
STALE_TOLERANCE = 0.5
"""Seconds by which a response's window end must pass the last roll-over to count as the new window."""


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


class Pacer:
    """Admission control for requests, shared by all threads of one client."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
        probe_first: bool = True,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self._cond = threading.Condition()
        self._learned = not probe_first
        self._allowed: int | None = None
        self._spent = 0
        self._reset_at: float | None = None
        self._rolled_at = float("-inf")
        self._blocked_until = float("-inf")
        self._in_flight = 0
        self.waited = 0.0
        """Total seconds callers were held back (for tests and benchmarks)."""

    # -- the two calls every request makes ---------------------------------------------------------------

    def acquire(self) -> None:
        """Block until a request may be sent; then it counts as in flight until `release`."""
        while True:
            with self._cond:
                delay = self._admit()
                if delay is None:
                    self._in_flight += 1
                    return
                if delay == 0.0:
                    # Waiting for an answer that tells us the limits; real time, but short and only with threads.
                    self._cond.wait(timeout=0.05)
                    continue
                delay = min(delay, self._max_wait)
                self.waited += delay
            log.debug("pacing: holding a request for %.3f s", delay)
            self._sleep(delay)

    def release(
        self, headers: Mapping[str, str] | None, status: int | None = None, retry_after: float | None = None
    ) -> None:
        """Account for the answer (None when none came back) and wake waiting threads."""
        with self._cond:
            self._in_flight = max(0, self._in_flight - 1)
            if headers is not None:
                self._learned = True
                self._observe(headers, status, retry_after)
            self._cond.notify_all()

    # -- state -----------------------------------------------------------------------------------------------

    def _admit(self) -> float | None:
        """None: go. A positive number: sleep that long and ask again. 0.0: wait for an answer."""
        now = self._clock()
        if now < self._blocked_until:
            return self._blocked_until - now
        if self._reset_at is not None and now >= self._reset_at:
            self._spent = 0
            self._reset_at = None
            self._rolled_at = now
        if not self._learned:
            if self._in_flight == 0:
                return None
            return 0.0
        if self._allowed is None or self._spent < self._allowed:
            self._spent += 1
            return None
        if self._reset_at is not None:
            return self._reset_at - now
        if self._in_flight == 0:
            # Every slot is spent and no answer will tell when the window ends: let one through to learn it.
            return None
        return 0.0

    def _observe(self, headers: Mapping[str, str], status: int | None, retry_after: float | None) -> None:
        now = self._clock()
        if retry_after is not None and status == 429:
            self._blocked_until = max(self._blocked_until, now + min(retry_after, self._max_wait))
            log.debug("pacing: 429, every request waits %.3f s (Retry-After)", retry_after)
        allowed = _number(headers, ALLOWED_HEADER)
        count = _number(headers, COUNT_HEADER)
        reset = _number(headers, RESET_HEADER)
        if allowed is None or count is None or reset is None:
            return
        self._allowed = int(allowed)
        margin = 0.0 if "." in headers.get(RESET_HEADER, "") else 1.0
        ends = now + reset + margin
        if self._reset_at is None:
            if ends < self._rolled_at + STALE_TOLERANCE:
                return  # an answer from the window we already left
            self._reset_at = ends
            self._spent = max(self._spent, int(count))
        elif ends > self._reset_at + STALE_TOLERANCE:
            # The server moved to a new window before we did: take its count plus what may still be on the way.
            self._reset_at = ends
            self._rolled_at = now
            self._spent = int(count) + self._in_flight
        else:
            self._reset_at = max(self._reset_at, ends)
            self._spent = max(self._spent, int(count))


__all__ = ["ALLOWED_HEADER", "COUNT_HEADER", "RESET_HEADER", "Pacer"]
