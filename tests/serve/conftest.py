"""The tool service on a real loopback port (uvicorn, port 0), in a thread of the test process."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.model import Tool
from reconciler.runtime import Runtime
from reconciler.serve import AuditLog, Service, bind, make_server
from reconciler.serve.auth import CallerAuth
from tests.runtime.conftest import upstream

__all__ = ["Serving", "serving", "upstream"]


@dataclass
class Serving:
    url: str
    service: Service


@pytest.fixture
def serving() -> Iterator[Callable[..., Serving]]:
    with contextlib.ExitStack() as stack:

        def _start(
            tools: list[Tool],
            *,
            audit: Path | None = None,
            tune_gc: bool = False,
            auth: CallerAuth | None = None,
            **runtime: Any,
        ) -> Serving:
            service = Service(Runtime(tools, **runtime), AuditLog(audit), auth=auth)
            return stack.enter_context(_run(service, tune_gc))

        yield _start


@contextlib.contextmanager
def _run(service: Service, tune_gc: bool) -> Iterator[Serving]:
    sock = bind("127.0.0.1", 0)
    announced: list[str] = []
    server = make_server(service, sock, announced.append, tune_gc=tune_gc)
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)  # as `serve` runs it
    thread.start()
    try:
        for _ in range(30000):  # up to a minute: a hang guard, not a start time a loaded machine must meet
            if announced or not thread.is_alive():
                break
            threading.Event().wait(0.002)
        assert announced, "the service did not start"
        yield Serving(announced[0], service)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
