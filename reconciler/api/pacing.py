"""One client-side limiter shared by every thread of a client, paced by the server's own rate-limit headers.

The platform counts requests in windows: each response says how many are `allowed` in the window
(`inin-ratelimit-allowed`), how many were used (`-count`) and in how many seconds the window ends (`-reset`);
a 429 says how long to hold off (`Retry-After`). The pacer mirrors that window: it hands out the `allowed`
slots, waits for the window to end once they are spent, and holds every thread while a `Retry-After` runs.

- Until the first response arrives, only one request is in flight: the first answer tells the limits, so a
  bulk apply does not open with a burst of 429s; then one more every round trip (slow start) until a 429 measures
  the rate or `RAMP_END` is reached.
- Our own reservations are counted locally (the server's count lags by the requests still in flight); the
  server's count is taken when it is higher (other clients share the limit).
- A response from a window that has already ended (it was in flight across the boundary) is ignored.
- A reset given in whole seconds may have been rounded down, so the window is assumed to last up to one
  second longer; a fractional reset is taken as it is.

The headers may promise more than the server grants (the platform was seen answering 429 at 5 requests a
second while announcing 300 a minute). A 429 is therefore also a measurement: the answers that came back
between the end of the previous hold and the end of this one are what the server actually let through in that
time, and from then on requests are spaced to a little under that rate (`SAFETY`; a later 429 lowers it by
`BACK_OFF`), in the order they asked,
so any parallelism above what the rate allows only queues. The spacing is raised by `PROBE_STEP` every
`PROBE_EVERY` requests without a 429, so a limit that rises (or an estimate that came out low) is found again;
a later 429 lowers it from where it stood. Only the first 429 of a hold counts, and only for a request sent
after the previous hold began: the others were already on their way.

Time is injected (`clock`, `sleep`) so tests do not sleep.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger("reconciler.api.pacing")

ALLOWED_HEADER = "inin-ratelimit-allowed"
COUNT_HEADER = "inin-ratelimit-count"
RESET_HEADER = "inin-ratelimit-reset"
STALE_TOLERANCE = 0.5
"""Seconds by which a response's window end must pass the last roll-over to count as the new window."""
SAFETY = 0.95
"""Requests are spaced to this share of the rate a 429 measured: a steady rate just under a fixed window's
limit never puts one request too many into a window."""
BACK_OFF = 0.97
"""Spaced already, a 429 lowers the rate by this factor: a request that arrived late by a few milliseconds can
put one too many into a window without the rate being too high."""
FLOOR = 0.5
"""The rate never falls below this share of the first measurement: 429s that are not about the rate (a
gateway's, injected ones) lower it step by step, and must not lower it to nothing."""
RAMP_END = 64
"""Slow start ends here, or at the first 429: one more request in flight every round trip, so a server that
promises more than it grants sees a request or two too many, not a burst of them."""
PROBE_EVERY = 25
PROBE_STEP = 1.01
"""After PROBE_EVERY requests without a 429 the rate is raised by this factor; about one 429 in a few hundred
requests is the price of following a limit that changes."""


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if 0 <= number < math.inf else None  # `inf`, `1e400`: no count or time (and no int())


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
        self._interval = 0.0
        """Seconds between two admissions; 0 until a 429 shows that the headers promise too much."""
        self._next_slot = float("-inf")
        self._epoch_start: float | None = None
        """When the stretch of answers since the last hold began (None until the first request)."""
        self._epoch_answers = 0
        self._slowed_at = float("-inf")
        self._ramp: float | None = 1.0 if probe_first else None
        """Slow start: requests in flight allowed until a 429 has measured the rate (one more a round trip)."""
        self._hold_ends: float | None = None
        self._floor = 0.0
        """The end of the hold a 429 began, until the measurement it closes is settled."""
        self._since_probe = 0
        self._sent = threading.local()
        self.waited = 0.0
        """Total seconds callers were held back (for tests and benchmarks)."""

    @property
    def rate(self) -> float | None:
        """Requests per second the pacer spaces requests to; None while only the headers' window applies."""
        with self._cond:
            return 1.0 / self._interval if self._interval > 0 else None

    # -- the two calls every request makes ---------------------------------------------------------------

    def acquire(self) -> None:
        """Block until a request may be sent; then it counts as in flight until `release`."""
        reserved = False  # a slot in the spaced queue is ours: go when it comes, unless a 429 hold began
        while True:
            with self._cond:
                now = self._clock()
                if reserved and now >= self._blocked_until:
                    self._go(now)
                    return
                delay = self._admit()
                if delay is None:
                    delay = self._reserve(now)
                    if delay <= 0:
                        self._go(now)
                        return
                    reserved = True
                elif delay == 0.0:
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
                if not self._learned:
                    # the server's window opened when the first request arrived, half a round trip after it
                    # was sent, and a hold ends half a round trip late: the stretch starts with its answer
                    self._learned, self._epoch_start = True, self._clock()
                    self._sent.at = self._epoch_start
                if self._ramp is not None and status != 429:
                    self._ramp = self._ramp + 1 / self._ramp if self._ramp < RAMP_END else None
                self._measure(getattr(self._sent, "at", None), status, retry_after)
                self._observe(headers, status, retry_after)
            self._cond.notify_all()

    # -- state -----------------------------------------------------------------------------------------------

    def _go(self, now: float) -> None:
        self._in_flight += 1
        self._sent.at = now  # acquire and release of one request run on one thread
        if self._epoch_start is None:
            self._epoch_start = now

    def _reserve(self, now: float) -> float:
        """The wait for the next free slot of the spaced queue, which is then taken; 0 when not spacing."""
        self._settle(now)
        if self._interval <= 0:
            return 0.0
        self._since_probe += 1
        if self._since_probe >= PROBE_EVERY:
            self._since_probe = 0
            self._interval /= PROBE_STEP
        slot = max(now, self._next_slot)
        self._next_slot = slot + self._interval
        return slot - now

    def _measure(self, sent_at: float | None, status: int | None, retry_after: float | None) -> None:
        """Count an answer toward the rate the server grants; the first 429 of a hold closes the stretch."""
        if self._epoch_start is None or sent_at is None or sent_at < self._epoch_start:
            return  # sent before the current stretch began: it says nothing about it
        if status != 429:
            self._epoch_answers += 1
            return
        if self._hold_ends is not None or sent_at < self._slowed_at:
            return  # one measurement per hold
        now = self._clock()
        self._hold_ends = now + min(retry_after or 0.0, self._max_wait)
        self._slowed_at = now
        self._next_slot = max(self._next_slot, self._hold_ends)

    def _settle(self, now: float) -> None:
        """After a hold, space requests to what the server granted from the start of the stretch to the end of
        the hold. Settled this late because the answers of requests sent just before the 429 arrive after it."""
        if self._hold_ends is None or now < self._hold_ends or self._epoch_start is None:
            return
        ends, self._hold_ends = self._hold_ends, None
        self._ramp = None
        granted = self._epoch_answers / max(ends - self._epoch_start, 1e-6)
        self._epoch_start, self._epoch_answers, self._since_probe = ends, 0, 0
        if granted == 0:
            return  # nothing was granted since the last hold: no rate to measure, only the hold to wait out
        if self._interval <= 0:  # unspaced, the stretch ran as fast as the server let it: that is its rate
            self._floor = granted * FLOOR
            rate = granted * SAFETY
        else:  # spaced already, a 429 says the rate is a little too high (or it was not about the rate at all)
            rate = max(self._floor, BACK_OFF / self._interval)
        self._interval = 1.0 / rate
        log.debug("pacing: spacing requests to %.2f a second (the server granted %.2f)", rate, granted)

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
        if self._ramp is not None and self._in_flight >= self._ramp:
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
        # a window never holds a request longer than a Retry-After may (a reset of 100000, milliseconds perhaps,
        # held every request forever): then one goes, and a 429 says what the server really wants
        ends = now + min(reset + margin, self._max_wait)
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
