"""A loopback upstream that records what it receives, and a clock the test moves by hand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from reconciler.runtime import upstream as upstream_pools


@dataclass
class Received:
    method: str
    path: str
    """The raw path, query included, as it arrived (still percent-encoded)."""
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def raw_query(self) -> str:
        return urlsplit(self.path).query


@dataclass
class Upstream:
    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, Any]] = field(default_factory=list)
    """Queued (status, JSON body) answers; when empty: 200 {"ok": true}."""
    hang: threading.Event | None = None
    """When set to an Event, every request waits for it before answering."""
    released: threading.Event = field(default_factory=threading.Event)
    headers: list[tuple[str, str]] = field(default_factory=list)
    """Extra headers sent with every answer."""
    content_type: str = "application/json"


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    state = Upstream("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.received.append(Received(self.command, self.path, dict(self.headers.items()), body))
            if state.hang is not None:
                state.hang.wait(30)
            status, payload = state.answers.pop(0) if state.answers else (200, {"ok": True})
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", state.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in state.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # a client that gave up
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        if state.hang is not None:
            state.hang.set()
        server.shutdown()
        server.server_close()


class FakeClock:
    """`now` moves only when the test calls `advance`; `sleep` returns once the clock has passed its end."""

    def __init__(self) -> None:
        self.time = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.time + seconds, next(self._order), future))
        await future

    @property
    def waiting(self) -> list[float]:
        """The remaining time of every pending sleep."""
        return sorted(end - self.time for end, _, future in self._sleepers if not future.done())

    def advance(self, seconds: float) -> None:
        self.time += seconds
        while self._sleepers and self._sleepers[0][0] <= self.time:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def until_waiting(self, count: int = 1) -> None:
        """Let the other tasks run until `count` sleeps are pending (real time never matters here)."""
        for _ in range(10_000):
            if len(self.waiting) >= count:
                return
            await asyncio.sleep(0.001)
        raise AssertionError(f"nothing started {count} sleeps")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["http1", "aiohttp", "httpx"])
def each_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once with each upstream client the runtime can use: http1 (the `serve` extra's, handing aiohttp
    what it does not do), aiohttp, and httpx (the fallback `reconciler chat` and `test` use without the extra).
    All must behave alike."""
    client: upstream_pools.Client = request.param
    monkeypatch.setattr(upstream_pools, "available", lambda: client)
    return client
