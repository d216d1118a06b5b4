"""Circuit breakers, one per upstream `host:port`: stop calling an upstream that keeps failing.

    closed ──(threshold consecutive failures)──> open ──(wait)──> half-open: one probe call
      ^                                           ^                  │
      └──────────── probe succeeds ───────────────┼── probe fails ───┘ (wait doubles, at most max_wait)

While open (and while a probe is out), calls are refused at once with CIRCUIT_OPEN and the upstream is not
called; other hosts are not affected. A failure is a connection error, a timeout or a 5xx; a 4xx is the
caller's mistake, not the upstream's, and counts as a success.

A small module rather than a library: the maintained Python breakers are synchronous (pybreaker) or
unmaintained for asyncio (aiobreaker, last released 2021), and none takes an injectable clock or keys
breakers by host. Time comes from the runtime's clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.runtime.clock import Clock


@dataclass(frozen=True)
class BreakerPolicy:
    threshold: int = 5
    """Consecutive failures that open a closed breaker."""
    first_wait: float = 1.0
    """Seconds an opened breaker stays open before a probe; doubles after each failed probe."""
    max_wait: float = 60.0


@dataclass
class _State:
    failures: int = 0
    open_until: float | None = None
    wait: float = 0.0
    probing: bool = False


class Breakers:
    def __init__(self, clock: Clock, policy: BreakerPolicy | None = None) -> None:
        self.clock = clock
        self.policy = policy or BreakerPolicy()
        self._states: dict[str, _State] = {}

    def allow(self, key: str) -> bool:
        """May a call to `key` go out now? In half-open state only the first caller gets True (the probe)."""
        state = self._states.get(key)
        if state is None or state.open_until is None:
            return True
        if state.probing or self.clock.now() < state.open_until:
            return False
        state.probing = True
        return True

    def succeeded(self, key: str) -> None:
        state = self._states.get(key)
        if state is not None:
            del self._states[key]

    def failed(self, key: str) -> None:
        state = self._states.setdefault(key, _State())
        if state.probing:  # the probe failed: open again, for longer
            state.probing = False
            state.wait = min(state.wait * 2, self.policy.max_wait)
            state.open_until = self.clock.now() + state.wait
            return
        state.failures += 1
        if state.open_until is None and state.failures >= self.policy.threshold:
            state.wait = min(self.policy.first_wait, self.policy.max_wait)
            state.open_until = self.clock.now() + state.wait

    def abandoned(self, key: str) -> None:
        """A call ended without telling whether the upstream works (it failed before or apart from the upstream):
        counts neither way, but a probe it was frees the half-open breaker for the next caller's."""
        state = self._states.get(key)
        if state is not None:
            state.probing = False

    def is_open(self, key: str) -> bool:
        state = self._states.get(key)
        return state is not None and state.open_until is not None

    def retry_after(self, key: str) -> float:
        """Seconds until the next probe may go out (0 when a call may go now)."""
        state = self._states.get(key)
        if state is None or state.open_until is None:
            return 0.0
        return max(0.0, state.open_until - self.clock.now())


__all__ = ["BreakerPolicy", "Breakers"]
