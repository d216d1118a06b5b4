"""Running the app under uvicorn: bind first (port 0 picks a free port), announce the URL once ready, and on
SIGTERM or Ctrl-C stop accepting, let in-flight invocations finish, then close the audit log.

SIGTERM first marks the service draining (/readyz answers 503). With `drain_seconds`, it keeps accepting and
answering calls for that long, so a load balancer polling /readyz takes it out of rotation before its port
closes; a second SIGTERM cuts the wait short, a third stops without waiting for calls in flight."""

from __future__ import annotations

import asyncio
import gc
import math
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

from reconciler.errors import ConfigurationError
from reconciler.model import DEFAULT_TIMEOUT
from reconciler.serve.app import Service, create_app

GRACE_SECONDS = 30.0
"""How long a stopping service waits for in-flight invocations at least; longer when a tool's timeout (up to 60 s)
is: each call is bounded by its tool's timeout, and what is still running when the wait ends is cancelled
(the caller's connection dropped, the call not audited)."""
ANSWER_SECONDS = 5.0
"""Added to the longest tool timeout: time to write the answer and the audit line of a call that took it all."""
YOUNG_COLLECTION_EVERY = 5000
"""Allocations between two collections of the young generation (Python's default: 700)."""
FULL_COLLECTION_EVERY = 100
"""Collections of the middle generation between two full ones (default 10)."""


def settle_heap() -> None:
    """Tune the cyclic collector for serving, once everything that lives as long as the process is built.

    Measured at 32 clients back to back (bench/serve_invoke.py's load): with Python's defaults the collector
    took ~8 µs of each call's ~170 µs of CPU, and a full collection every ~0.35 s paused the service for
    3-4 ms, each time delaying all 32 calls in flight, which the p99 shows. A call leaves no cyclic garbage
    (reference counting frees all of it), so collections only walk what is in flight: walking it every 5,000
    allocations instead of every 700 does the same work a seventh as often (GC: ~200 ms -> ~28 ms in 4 s of
    load), and freezing what exists now (imports, compiled tools, OpenTelemetry: ~45,000 objects) keeps
    every later collection off it. Full collections still run, about every 40 s under that load."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 10, FULL_COLLECTION_EVERY)


class _Server(uvicorn.Server):
    def __init__(
        self,
        config: uvicorn.Config,
        service: Service,
        announce: Callable[[str], None],
        url: str,
        drain_seconds: float = 0.0,
        tune_gc: bool = False,
    ) -> None:
        super().__init__(config)
        self.tune_gc = tune_gc
        self.service = service
        self.announce = announce
        self.url = url
        self.drain_seconds = drain_seconds
        self.stop_at: float | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            if self.tune_gc:
                settle_heap()  # the app, its tools and its lifespan's state are all built by now
            self.announce(self.url)

    async def on_tick(self, counter: int) -> bool:
        if self.stop_at is not None and time.monotonic() >= self.stop_at:
            self.should_exit = True  # the drain delay is over: stop accepting, finish the calls in flight
        return await super().on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.service.draining = True  # /readyz answers 503 from now on
        if sig == signal.SIGTERM:
            if self.drain_seconds > 0 and self.stop_at is None:
                self.stop_at = time.monotonic() + self.drain_seconds  # keep answering until then (on_tick)
                return
            # The stop a supervisor asks for: finish, then exit 0. (uvicorn would raise the signal again once
            # done, and the process would end as killed by it.) A second SIGTERM stops without waiting.
            self.force_exit = self.should_exit
            self.should_exit = True
            return
        super().handle_exit(sig, frame)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; OSError when it cannot be had."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    # The protocol must say TCP: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP (accepted
    # sockets inherit it), and without it every answer written in two parts waits 40 ms for a delayed ACK.
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def make_server(
    service: Service,
    sock: socket.socket,
    announce: Callable[[str], None],
    drain_seconds: float = 0.0,
    *,
    tune_gc: bool = False,
) -> _Server:
    """The server `serve` runs; `tune_gc`: `settle_heap()` once started (the process is then the service's, as
    under `serve`; tests running servers in their own process leave the collector alone)."""
    if not math.isfinite(drain_seconds):  # click's FloatRange lets NaN through (every comparison is false)
        raise ConfigurationError(f"--drain-seconds {drain_seconds}: give a number of seconds from 0 to 600")
    config = uvicorn.Config(
        create_app(service),
        http=_http_protocol(),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=math.ceil(max(GRACE_SECONDS, _longest_call(service) + ANSWER_SECONDS)),
        server_header=False,
        proxy_headers=False,  # nothing reads the client's address: no access log, no per-client rule
    )
    return _Server(config, service, announce, url_of(sock), drain_seconds, tune_gc)


def _longest_call(service: Service) -> float:
    timeouts = [tool.timeout for tool in service.runtime.tools.values() if tool.timeout is not None]
    return max([DEFAULT_TIMEOUT, *timeouts])


def _http_protocol() -> type[asyncio.Protocol] | str:
    """uvicorn's httptools protocol writing each answer once (protocol.py), when httptools is installed (the
    `serve` extra has it); else uvicorn's own choice."""
    try:
        from reconciler.serve.protocol import HeadWithBodyProtocol
    except ImportError:
        return "auto"
    return HeadWithBodyProtocol


def serve(service: Service, sock: socket.socket, announce: Callable[[str], None], drain_seconds: float = 0.0) -> None:
    """Serve until SIGTERM (after `drain_seconds`) or Ctrl-C; returns once in-flight invocations have finished."""
    # uvicorn's own runner: its event loop factory takes uvloop when installed (the `serve` extra), as its
    # protocol choice takes httptools; asyncio.run would always take the pure-Python loop.
    make_server(service, sock, announce, drain_seconds, tune_gc=True).run(sockets=[sock])


__all__ = ["GRACE_SECONDS", "bind", "make_server", "serve", "settle_heap", "url_of"]
