"""Shared bits of the conversation tests: fake time, a gateway client on an emulator, tools."""

from __future__ import annotations

import threading
from typing import Any

from reconciler.api import Credentials, Pacer, RetryPolicy, Target, ToolsClient
from reconciler.conversation import GatewayClient
from reconciler.emulator import RunningEmulator
from reconciler.model import SourceLocation, Tool

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class FakeTime:
    """A clock that only moves when something sleeps: retries and pacing run instantly and are recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(seconds, 0.0)

    def retry(self, **settings: Any) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, jitter=0.0, **settings)

    def pacer(self) -> Pacer:
        return Pacer(clock=self.clock, sleep=self.sleep)


def gateway_for(
    running: RunningEmulator,
    *,
    time: FakeTime | None = None,
    credentials: Credentials | None = None,
    timeout: float = 10.0,
) -> GatewayClient:
    """A gateway client on the emulator, through the Tools API client (closed with `gateway.api.close()`)."""
    time = time if time is not None else FakeTime()
    target = Target(api_url=running.url, login_url=running.url, description=running.url, credentials=credentials)
    api = ToolsClient(target, retry=time.retry(), pacer=time.pacer(), timeout=timeout, clock=time.clock)
    return GatewayClient(api, model="emulated")


def tool(name: str, *, endpoint: str = "https://tools.example.com/t", context: dict[str, str] | None = None) -> Tool:
    return Tool(
        name=name,
        description=f"Does {name}.",
        endpoint=endpoint,
        schema={
            "$schema": DIALECT,
            "type": "object",
            "properties": {"order_id": {"type": "string", "description": "The order."}},
        },
        location=SourceLocation("tools.d/t.yaml", 1, 1),
        context=context or {},
    )
