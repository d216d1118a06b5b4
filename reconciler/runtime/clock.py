"""Time, injectable: the breaker reads `now`, timeouts and backoff wait with `sleep`.

Tests pass a clock whose `sleep` returns when the test moves time on, so nothing in them waits for real.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


__all__ = ["Clock", "SystemClock"]
