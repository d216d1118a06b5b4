"""The platform's rate limit, emulated: a fixed window that opens with the first request after the last one
closed, and the `inin-ratelimit-*` headers that describe it on every response."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

UNLIMITED = 1_000_000
"""`inin-ratelimit-allowed` when no limit is set: the headers stay numeric and the client never waits."""


@dataclass(frozen=True)
class WindowState:
    allowed: int
    count: int
    reset: float
    """Seconds until the window closes."""

    def headers(self) -> dict[str, str]:
        return {
            "inin-ratelimit-allowed": str(self.allowed),
            "inin-ratelimit-count": str(self.count),
            "inin-ratelimit-reset": f"{self.reset:.3f}",
        }

    @property
    def retry_after(self) -> str:
        """Whole seconds, as HTTP wants them, never 0."""
        return str(max(1, math.ceil(self.reset)))


class RateWindow:
    def __init__(self, limit: int | None, window: float = 1.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit if limit is not None else UNLIMITED
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._opened = float("-inf")
        self._count = 0

    def _roll(self, now: float) -> None:
        if now >= self._opened + self._window:
            self._opened = now
            self._count = 0

    def hit(self) -> tuple[bool, WindowState]:
        """Count one request; False (and the window as it stands) when the limit is reached."""
        with self._lock:
            now = self._clock()
            self._roll(now)
            admitted = self._count < self._limit
            if admitted:
                self._count += 1
            return admitted, self._state(now)

    def peek(self) -> WindowState:
        with self._lock:
            now = self._clock()
            if now >= self._opened + self._window:
                return WindowState(self._limit, 0, self._window)
            return self._state(now)

    def _state(self, now: float) -> WindowState:
        return WindowState(self._limit, self._count, max(0.0, self._opened + self._window - now))


__all__ = ["UNLIMITED", "RateWindow", "WindowState"]
