"""The service writes an answer's head and body in one write (protocol.py). The answers themselves are held by
every end-to-end test, which run through this protocol; here, what reaches the transport and when."""

from __future__ import annotations

import asyncio
from typing import Any

from reconciler.serve.protocol import _HeadWithBody
from reconciler.serve.server import _http_protocol

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Recording:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"info {name}"


def test_a_head_goes_out_with_the_body_written_in_the_same_turn() -> None:
    async def go() -> None:
        transport = Recording()
        wrapped = _HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        wrapped.write(HEAD)
        assert transport.writes == []
        wrapped.write(b"{}")
        assert transport.writes == [HEAD + b"{}"]
        await asyncio.sleep(0)  # the end of the turn: nothing more to write
        assert transport.writes == [HEAD + b"{}"]
        wrapped.write(b"not a head")  # (a chunk of a streamed body, say) straight through
        assert transport.writes[-1] == b"not a head"

    asyncio.run(go())


def test_a_head_without_a_body_goes_out_at_the_end_of_the_turn_or_before_a_close() -> None:
    async def go() -> None:
        transport = Recording()
        wrapped = _HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        wrapped.write(HEAD)
        await asyncio.sleep(0)
        assert transport.writes == [HEAD]
        wrapped.write(HEAD)
        wrapped.close()
        assert (transport.writes, transport.closed) == ([HEAD, HEAD], True)
        await asyncio.sleep(0)
        assert transport.writes == [HEAD, HEAD]
        assert wrapped.get_extra_info("peername") == "info peername"  # the rest is the transport's

    asyncio.run(go())


def test_the_server_runs_it_when_httptools_is_there() -> None:
    assert _http_protocol().__name__ == "HeadWithBodyProtocol"  # type: ignore[union-attr]
