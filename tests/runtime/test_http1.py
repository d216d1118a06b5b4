"""The http1 pool against a loopback upstream that answers in exactly the bytes a test gives: the framings an
answer can have, connection reuse and closing, limits, timeouts, TLS, and what it leaves to aiohttp. (The
runtime's tests run with every pool too: conftest.each_client.)"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import ssl
import subprocess
import threading
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from reconciler.runtime import http1
from reconciler.runtime.upstream import Answer, Unreachable, open_pool

Script = Callable[[int, bytes], Awaitable[bytes | None]]
"""(connection number, request head and body) -> the bytes to answer, None to close without answering."""


class Scripted:
    """A loopback server: reads each request whole, answers what `script` returns for it; after an HTTP/1.0
    answer it closes the connection (the end of that answer)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.url = ""
        self._server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> Scripted:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = await self.script(number, request)
                if answer is None:
                    return
                writer.write(answer)
                await writer.drain()
                if answer.startswith(b"HTTP/1.0"):
                    return
        finally:
            self.open -= 1
            writer.close()


def ok(body: bytes, *headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def send(pool: Any, url: str, method: str = "POST", content: bytes | None = b"{}", timeout: float = 5) -> Answer:
    answer: Answer = await pool.send(method, url, [("Content-Type", "application/json")], content, timeout)
    return answer


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def test_answers_by_content_length_chunks_or_the_connections_end_and_gzip_are_read_whole() -> None:
    answers = [
        ok(b'{"a": 1}'),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain; charset=latin-1\r\n\r\n"
        b'3\r\n{"b\r\n5\r\n": 2}\r\n0\r\n\r\n',
        ok(gzip.compress(b'{"c": 3}'), "Content-Encoding: gzip"),
        b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b'{"d": 4}'),
        b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + b'{"e": 5}',  # ends with the connection
    ]

    async def script(connection: int, request: bytes) -> bytes | None:
        return answers.pop(0)

    async def test() -> None:
        async with Scripted(script) as upstream:
            pool = open_pool("http1")
            got = [await send(pool, upstream.url + "/x") for _ in range(5)]
            await pool.aclose()
        assert [answer.content for answer in got] == [b'{"a": 1}', b'{"b": 2}', b'{"c": 3}', b'{"d": 4}', b'{"e": 5}']
        assert [answer.charset for answer in got] == [None, "latin-1", None, None, None]
        assert upstream.connections == 1  # kept alive until the HTTP/1.0 answer, which ends with its connection

    run(test)


def test_a_connection_is_reused_until_the_server_says_close_or_closes_it() -> None:
    async def script(connection: int, request: bytes) -> bytes | None:
        if b"/close" in request:
            return ok(b"{}", "Connection: close")
        return ok(b"{}")

    async def test() -> None:
        async with Scripted(script) as upstream:
            pool = open_pool("http1")
            for path in ("/a", "/b", "/close", "/c", "/d"):
                assert (await send(pool, upstream.url + path)).status == 200
            await pool.aclose()
        assert upstream.connections == 2

    run(test)


def test_the_request_is_sent_as_built() -> None:
    async def script(connection: int, request: bytes) -> bytes | None:
        return ok(b"{}")

    async def test() -> None:
        async with Scripted(script) as upstream:
            pool = open_pool("http1")
            url = upstream.url + "/a%2Fb/%C3%A9?q=%20x&r=a+b#fragment"
            await pool.send("PUT", url, [("X-Trace", "caf\u00e9"), ("Accept", "text/csv")], b"body", 5)
            await pool.send("POST", upstream.url + "?only=query", [], None, 5)
            await pool.aclose()
        first, second = upstream.requests
        head, _, body = first.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"PUT /a%2Fb/%C3%A9?q=%20x&r=a+b HTTP/1.1"
        assert b"Host: " + upstream.url.removeprefix("http://").encode() in lines
        assert "X-Trace: caf\u00e9".encode() in lines  # UTF-8
        assert [line for line in lines if line.lower().startswith(b"accept:")] == [b"Accept: text/csv"]
        assert b"Content-Length: 4" in lines and body == b"body"
        assert not any(line.lower().startswith(b"cookie") for line in lines)
        assert second.startswith(b"POST /?only=query HTTP/1.1\r\n") and b"Content-Length: 0\r\n" in second

    run(test)


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n12345", "ProtocolError"),  # cut short by the close
        (b"this is not HTTP\r\n\r\n", "ProtocolError"),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * (http1.MAX_HEADER_LINE + 1) + b"\r\n\r\n", "ProtocolError"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", "ProtocolError"),
        (None, "ConnectionLost"),  # closed without a word
    ],
)
def test_a_broken_answer_is_unreachable_by_kind(answer: bytes | None, kind: str) -> None:
    async def script(connection: int, request: bytes) -> bytes | None:
        return answer

    async def test() -> None:
        async with Scripted(script) as upstream:
            pool = open_pool("http1")
            with pytest.raises(Unreachable) as raised:
                await send(pool, upstream.url + "/x")
            await pool.aclose()
        assert raised.value.kind == kind

    run(test)


def test_a_get_whose_idle_connection_was_closed_under_it_is_sent_again_on_a_new_one() -> None:
    served: dict[int, int] = {}

    async def script(connection: int, request: bytes) -> bytes | None:
        # each connection answers one request and drops the next unanswered (an idle timeout racing it)
        served[connection] = served.get(connection, 0) + 1
        return ok(b"{}") if served[connection] == 1 else None

    async def test() -> None:
        async with Scripted(script) as upstream:
            pool = open_pool("http1")
            assert (await send(pool, upstream.url + "/first", "GET", None)).status == 200
            assert (await send(pool, upstream.url + "/second", "GET", None)).status == 200
            assert upstream.connections == 2
            with pytest.raises(Unreachable) as raised:  # a POST is not sent twice: the server may have acted on it
                await send(pool, upstream.url + "/post", "POST")
            assert raised.value.kind == "ConnectionLost"
            await pool.aclose()
        assert upstream.connections == 2
        assert [request.split(b" ")[1] for request in upstream.requests] == [
            b"/first",
            b"/second",
            b"/second",
            b"/post",
        ]

    run(test)


def test_at_most_max_connections_are_open_and_the_other_requests_wait_their_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http1, "MAX_CONNECTIONS", 2)
    release = asyncio.Event()

    async def script(connection: int, request: bytes) -> bytes | None:
        await release.wait()
        return ok(b"{}")

    async def test() -> None:
        async with Scripted(script) as upstream:
            pool = open_pool("http1")
            calls = [asyncio.ensure_future(send(pool, upstream.url + f"/{n}")) for n in range(5)]
            while len(upstream.requests) < 2:
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.05)  # time for a third connection, were one to be opened
            assert (upstream.connections, len(upstream.requests)) == (2, 2)
            release.set()
            assert [(await call).status for call in calls] == [200] * 5
            await pool.aclose()
        assert upstream.most_open == 2

    run(test)


def test_the_timeout_covers_the_whole_answer_and_the_connection_is_not_reused() -> None:
    async def script(connection: int, request: bytes) -> bytes | None:
        if connection == 0:
            await asyncio.sleep(30)  # hangs until the test ends
        return ok(b"{}")

    async def test() -> None:
        async with Scripted(script) as upstream:
            pool = open_pool("http1")
            with pytest.raises(Unreachable) as raised:
                await send(pool, upstream.url + "/x", timeout=0.2)
            assert raised.value.kind == "TimeoutError"
            assert (await send(pool, upstream.url + "/y")).status == 200
            assert upstream.connections == 2
            await pool.aclose()

    run(test)


def test_what_it_does_not_do_itself_goes_to_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    async def script(connection: int, request: bytes) -> bytes | None:
        return ok(b"{}")[:-2] if request.startswith(b"HEAD") else ok(b"{}")

    sent: list[str] = []

    async def test() -> None:
        async with Scripted(script) as upstream:
            pool = open_pool("http1")
            fallback = pool._fallback  # type: ignore[attr-defined]
            original = fallback.send

            async def recorded(method: str, url: str, *rest: Any) -> Answer:
                sent.append(f"{method} {url}")
                answer: Answer = await original(method, url, *rest)
                return answer

            monkeypatch.setattr(fallback, "send", recorded)
            host = upstream.url.removeprefix("http://")
            for method, url in [
                ("HEAD", upstream.url + "/h"),
                ("GET", f"http://user:secret@{host}/u"),
                ("GET", upstream.url + "/with space"),
                ("GET", upstream.url + "/ok"),
            ]:
                assert (await send(pool, url, method, None)).status == 200
            await pool.aclose()

    run(test)
    host = sent[0].split("/")[2] if sent else ""
    assert sent == [f"HEAD http://{host}/h", f"GET http://user:secret@{host}/u", f"GET http://{host}/with space"]


def test_https_with_the_systems_trust_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # the refused handshake
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"https://localhost:{server.server_address[1]}/x"

    async def call() -> Answer:
        pool = open_pool("http1")
        try:
            return await send(pool, url, "GET", None)
        finally:
            await pool.aclose()

    try:
        with pytest.raises(Unreachable) as raised:  # not trusted: refused
            asyncio.run(call())
        assert raised.value.kind == "ConnectError"
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the system's trust store, as OpenSSL reads it
        assert asyncio.run(call()).content == b"{}"
    finally:
        server.shutdown()
        server.server_close()
