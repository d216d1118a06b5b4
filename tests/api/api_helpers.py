"""Shared bits of the API client tests: tool payloads, targets, fake time, mock servers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.api import Credentials, Pacer, RetryPolicy, Target
from reconciler.emulator import RunningEmulator

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def tool_input(name: str, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": name,
        "description": f"Does {name}.",
        "schema": {"$schema": DIALECT, "type": "object", "properties": {"q": {"type": "string"}}},
        "executionEndpoint": f"https://tools.example.com/{name}",
    }
    payload.update(overrides)
    return payload


def emulator_target(running: RunningEmulator, credentials: Credentials | None = None) -> Target:
    return Target(api_url=running.url, login_url=running.url, description=running.url, credentials=credentials)


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
        return RetryPolicy(sleep=self.sleep, **settings)

    def pacer(self, **settings: Any) -> Pacer:
        return Pacer(clock=self.clock, sleep=self.sleep, **settings)


def fast_retry(**settings: Any) -> RetryPolicy:
    """Real sleeps, but short: for loopback tests where the server's Retry-After (1 s) would slow the suite."""
    defaults: dict[str, Any] = {"max_retry_after": 0.05, "backoff_initial": 0.01, "backoff_max": 0.05, "jitter": 0.01}
    return RetryPolicy(**{**defaults, **settings})


Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """A MockTransport handler that answers from a list of responses (or exceptions) and records requests."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def reply(status: int, body: Any = None, **headers: str) -> httpx.Response:
    merged = {"inin-correlation-id": f"cid-{status}", **{k.replace("_", "-"): v for k, v in headers.items()}}
    if body is None:
        return httpx.Response(status, headers=merged)
    return httpx.Response(status, json=body, headers=merged)


def error_body(status: int, message: str, code: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "message": message,
        "code": code,
        "status": status,
        "contextId": "ctx",
        "details": details or [],
        "errors": [],
    }


MOCK_TARGET = Target(
    api_url="https://api.mypurecloud.de",
    login_url="https://login.mypurecloud.de",
    description="region eu-central-1 (api.mypurecloud.de)",
    credentials=Credentials(access_token="static-token-value"),
    region="eu-central-1",
)
CLIENT_TARGET = Target(
    api_url="https://api.mypurecloud.de",
    login_url="https://login.mypurecloud.de",
    description="region eu-central-1 (api.mypurecloud.de)",
    credentials=Credentials(client_id="client-id-1", client_secret="client-secret-value"),
    region="eu-central-1",
)
