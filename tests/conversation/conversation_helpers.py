"""Shared bits of the conversation tests: fake time, a gateway client on an emulator, tools."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reconciler.api import ApiClient, Credentials, Target
from reconciler.conversation import GatewayClient
from reconciler.emulator import RunningEmulator
from reconciler.model import SourceLocation, Tool
from tests.api.api_helpers import FakeTime

DIALECT = "https://json-schema.org/draft/2020-12/schema"


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
    api = ApiClient(target, retry=time.retry(jitter=0.0), pacer=time.pacer(), timeout=timeout, clock=time.clock)
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


class ToolEndpoint:
    """A loopback upstream for hand-written tools: records each request's path and JSON body, and answers
    from `answers` (path → (status, body: JSON data, or bytes sent as they are)), else 200 with
    `{"received": body}`. Paths in `together` wait until that many of their requests have arrived, so a test
    passes only when those calls run at the same time."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.answers: dict[str, tuple[int, Any]] = {}
        self.together: dict[str, threading.Barrier] = {}
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = -1  # headers and body leave in one segment: no delayed-ACK stall per answer
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                endpoint.received.append((self.path, body))
                barrier = endpoint.together.get(self.path)
                if barrier is not None:
                    barrier.wait()
                status, answer = endpoint.answers.get(self.path, (200, {"received": body}))
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def bodies(self, path: str) -> list[Any]:
        return [body for seen, body in self.received if seen == path]

    def close(self) -> None:
        for barrier in self.together.values():
            barrier.abort()
        self._server.shutdown()
        self._server.server_close()
