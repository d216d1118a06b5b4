"""uvicorn's HTTP protocol (httptools), writing a response's head and body in one write.

uvicorn writes the head when the app sends `http.response.start` and the body at `http.response.body`: two
system calls per answer, and a client waiting in its event loop woken for the head, then again for the body.
Here the head waits for the body the app sends next in the same turn of the event loop, and goes out with it
(if none comes in that turn, or the connection closes first, the head goes out alone). Profiled at 32
clients back to back, the second write was ~5% of the service's CPU; bench/serve_invoke.py has the figures.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeadWithBodyProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, _HeadWithBody(transport, asyncio.get_running_loop())))


class _HeadWithBody:
    """The connection's transport, holding a response head until the next write (or the end of the turn)."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif data.startswith(b"HTTP/1.1 ") and data.endswith(b"\r\n\r\n"):  # a head: its body comes next
            self._held = data
            self._loop.call_soon(self._release)
        else:
            self._transport.write(data)

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._release()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self._transport, name)


__all__ = ["HeadWithBodyProtocol"]
