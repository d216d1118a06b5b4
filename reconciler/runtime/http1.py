"""The upstream pool `reconciler serve` uses: HTTP/1.1 keep-alive connections on asyncio, answers parsed by
httptools (llhttp, in C; it comes with the `serve` extra, as uvicorn's parser).

Why not a library: at 32 requests in flight against a loopback upstream, aiohttp spent ~60 µs of CPU per
request, pyreqwest (Rust, its own runtime in other threads) ~29 µs, this ~12 µs; under `reconciler serve`,
aiohttp's share was a fifth of the service's CPU per call, which queues the 32 calls of a burst behind one
another (bench/serve_invoke.py). It does only what the runtime needs, and hands every other request to the
aiohttp pool, which behaves alike (upstream.py): a URL with user info, a host that is not ASCII or a
request target with spaces or controls (aiohttp's to refuse or encode), HEAD (llhttp cannot be told that an
answer has no body), and a host the environment's proxy settings send through a proxy.

What it keeps from aiohttp, as the runtime's tests pin for every pool: the URL is sent as built (no
re-quoting); no cookie is kept (nothing is); redirects are not followed (a 3xx is returned); TLS with the
system's store (reconciler.network); TCP_NODELAY on every connection; an answer by Content-Length, chunked, or
up to the connection's end; gzip and deflate answers decoded; at most MAX_CONNECTIONS connections, the rest wait;
idle connections reused for 15 s, and never after the server said `Connection: close` or closed them; a
GET, PUT or DELETE whose reused connection turns out closed is sent once more on a new one; `timeout`
covers waiting for a connection, connecting, sending and the whole answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import sys
import urllib.request
import zlib
from collections import deque
from typing import cast

import httptools

from reconciler import __version__
from reconciler.network import tls_context
from reconciler.runtime.upstream import (
    MAX_ANSWER_BYTES,
    MAX_CONNECTIONS,
    MAX_HEADER_LINE,
    Answer,
    Pool,
    Unreachable,
    environment_proxies,
)

KEEP_IDLE_SECONDS = 15.0
"""How long an idle connection is kept for reuse (aiohttp's default)."""
MAX_HEAD = 64 * MAX_HEADER_LINE
"""The most bytes of status line and headers accepted in one answer."""
RETRIED_ON_NEW_CONNECTION = frozenset(("GET", "PUT", "DELETE", "OPTIONS", "TRACE"))
"""Methods sent again when a reused connection was closed before any answer came (aiohttp: idempotent ones)."""
USER_AGENT = f"Python/{sys.version_info[0]}.{sys.version_info[1]} reconciler/{__version__}"
_UNSAFE_TARGET = re.compile(r"[\x00-\x20\x7f-\U0010ffff]")
_UNSAFE_HEADER = re.compile(r"[\r\n\x00]")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))


class _Origin:
    """Where requests to one scheme://host:port go, and the Host header they carry."""

    __slots__ = ("host", "host_header", "key", "port", "tls")

    def __init__(self, scheme: str, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.tls = scheme == "https"
        shown = f"[{host}]" if ":" in host else host
        self.host_header = shown if port == _DEFAULT_PORTS[scheme] else f"{shown}:{port}"
        self.key = (scheme, host, port)


class _Connection(asyncio.Protocol):
    """One connection: sends a request, gathers its answer, says whether it can carry another."""

    def __init__(self, pool: Http1Pool, origin: _Origin) -> None:
        self.pool = pool
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self.body: list[bytes] = []
        self.body_size = 0
        self.head_size = 0
        self.headers_done = False
        self.received = False
        self.framed = False  # Content-Length or Transfer-Encoding: the answer does not end with the connection
        self.content_type: bytes | None = None
        self.encoding: bytes | None = None

    # asyncio's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is one, without subclassing it
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # a request is one write: never held back waiting for an ACK
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # bytes nobody asked for: the connection cannot be trusted with a request
            self.abort()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except Exception as exc:  # the parser's error, or one of the checks below raised in its callbacks
            # (httptools raises its own error for one raised in a callback, with ours as its context)
            too_large = isinstance(exc, _TooLarge) or isinstance(exc.__context__, _TooLarge)
            if too_large:
                self._fail("AnswerTooLarge", self.parser.get_status_code())
            else:
                self._fail("ProtocolError", self.parser.get_status_code() if self.headers_done else None)
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool._lost(self)
        if self.waiter is None:
            return
        if self.headers_done and not self.framed and self.parser.get_status_code() not in (204, 304):
            self.reusable = False
            self._complete()  # an answer with neither Content-Length nor chunks ends with its connection
        else:
            status = self.parser.get_status_code() if self.headers_done else None  # a 2xx: the call was done
            self._fail("ProtocolError" if self.headers_done else "ConnectionLost", status)

    # httptools' side
    def on_status(self, status: bytes) -> None:
        self._count(len(status))

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) + len(value) > MAX_HEADER_LINE:
            raise ValueError("header line too long")
        self._count(len(name) + len(value))
        lowered = name.lower()
        if lowered == b"content-type":
            self.content_type = value
        elif lowered == b"content-encoding":
            self.encoding = value.strip().lower()
        elif lowered in (b"content-length", b"transfer-encoding"):
            self.framed = True
            if lowered == b"content-length" and value.strip().isdigit() and int(value) > MAX_ANSWER_BYTES:
                raise _TooLarge

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size > MAX_ANSWER_BYTES:
            raise _TooLarge
        self.body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.parser.get_status_code() < 200:  # an interim answer (100 Continue): the real one follows
            self._reset()
            self.received = True
            return
        self.reusable = self.parser.should_keep_alive()
        self._complete()

    # ours
    def _count(self, size: int) -> None:
        self.head_size += size
        if self.head_size > MAX_HEAD:
            raise ValueError("answer head too long")

    def _complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        content = b"".join(self.body)
        if content and self.encoding in (b"gzip", b"x-gzip", b"deflate"):
            try:
                content = _decoded(content, self.encoding)
            except (zlib.error, _TooLarge) as exc:
                waiter, self.waiter = None, waiter
                too_large = isinstance(exc, _TooLarge)
                self._fail("AnswerTooLarge" if too_large else "ProtocolError", self.parser.get_status_code())
                return
        answer = Answer(self.parser.get_status_code(), content, _charset(self.content_type))
        self._reset()
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def _fail(self, kind: str, status: int | None = None) -> None:
        waiter, self.waiter = self.waiter, None
        self.reusable = False
        if waiter is not None and not waiter.done():
            waiter.set_exception(Unreachable(kind, status))

    def time_out(self) -> None:
        self._fail("TimeoutError")
        self.abort()

    def abort(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.abort()


class Http1Pool:
    """`Pool` for HTTP/1.1 upstreams; `fallback` takes the requests it leaves (see the module's text)."""

    def __init__(self, fallback: Pool) -> None:
        self._fallback = fallback
        self._origins: dict[str, _Origin | None] = {}
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._tls: ssl.SSLContext | None = None
        # HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY, read once, as the aiohttp pool reads them
        self._proxies = environment_proxies()

    async def send(
        self, method: str, url: str, headers: list[tuple[str, str]], content: bytes | None, timeout: float
    ) -> Answer:
        split = _origin_end(url)
        try:
            origin = self._origins[url[:split]]
        except KeyError:
            origin = self._origins[url[:split]] = self._origin(url[:split]) if split else None
        target = url[split:].partition("#")[0] or "/"
        if origin is None or method == "HEAD" or _UNSAFE_TARGET.search(target):
            return await self._fallback.send(method, url, headers, content, timeout)
        if target[0] != "/":
            target = "/" + target  # "http://host?q=1": the path is empty, the target is "/?q=1"
        head = self._head(method, target, origin, headers, content)
        if head is None:
            return await self._fallback.send(method, url, headers, content, timeout)
        request = head if not content else head + content
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        connection = await self._connection(origin, deadline)
        try:
            return await self._exchange(connection, request, deadline)
        except Unreachable as exc:
            if not (exc.kind == "ConnectionLost" and connection.idle_since and method in RETRIED_ON_NEW_CONNECTION):
                raise
        # the server had closed the reused connection (an idle timeout racing this request): once more, afresh
        return await self._exchange(await self._connect(origin, deadline), request, deadline)

    async def _exchange(self, connection: _Connection, request: bytes, deadline: float) -> Answer:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Answer] = loop.create_future()
        connection.waiter = waiter
        timer = loop.call_at(deadline, connection.time_out)
        assert connection.transport is not None
        connection.transport.write(request)
        try:
            answer = await waiter
        except BaseException:  # cancelled (the invocation's timeout), timed out, or the answer failed
            connection.abort()
            raise
        finally:
            timer.cancel()
        if connection.reusable and not connection.closed:
            connection.idle_since = loop.time()
            self._idle.setdefault(connection.origin.key, []).append(connection)
            self._wake()
        else:
            connection.abort()
        return answer

    def _head(
        self, method: str, target: str, origin: _Origin, headers: list[tuple[str, str]], content: bytes | None
    ) -> bytes | None:
        """The request line and headers, or None for what only the fallback may send."""
        lines = [f"{method} {target} HTTP/1.1\r\nHost: {origin.host_header}\r\n"]
        given = set()
        for name, value in headers:
            if _UNSAFE_HEADER.search(name) or _UNSAFE_HEADER.search(value):
                return None
            given.add(name.lower())
            lines.append(f"{name}: {value}\r\n")
        if "host" in given or "content-length" in given or "transfer-encoding" in given:
            return None
        if "accept" not in given:
            lines.append("Accept: */*\r\n")
        if "accept-encoding" not in given:
            lines.append("Accept-Encoding: gzip, deflate\r\n")
        if "user-agent" not in given:
            lines.append(f"User-Agent: {USER_AGENT}\r\n")
        if content or method in _BODY_METHODS:
            lines.append(f"Content-Length: {len(content or b'')}\r\n")
        lines.append("\r\n")
        return "".join(lines).encode()

    def _origin(self, prefix: str) -> _Origin | None:
        """`scheme://host[:port]` as an origin this pool serves, or None (the fallback's, or not a URL)."""
        scheme, _, netloc = prefix.partition("://")
        scheme = scheme.lower()
        if scheme not in _DEFAULT_PORTS or "@" in netloc or not netloc.isascii():
            return None
        if netloc.startswith("["):
            host, _, rest = netloc[1:].partition("]")
            port_text = rest[1:] if rest.startswith(":") else rest
        else:
            host, _, port_text = netloc.partition(":")
        if not host or (port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536)):
            return None
        host = host.lower()
        if self._proxies and self._proxies.get(scheme) and not urllib.request.proxy_bypass(host):
            return None
        return _Origin(scheme, host, int(port_text) if port_text else _DEFAULT_PORTS[scheme])

    async def _connection(self, origin: _Origin, deadline: float) -> _Connection:
        loop = asyncio.get_running_loop()
        while True:
            idle = self._idle.get(origin.key)
            while idle:
                connection = idle.pop()  # the most recently used: the least likely to have been closed
                if not connection.closed and loop.time() - connection.idle_since < KEEP_IDLE_SECONDS:
                    return connection
                connection.abort()
            if self._open < MAX_CONNECTIONS:
                return await self._connect(origin, deadline)
            self._close_an_idle_connection()  # at the limit: one to another origin makes room once it has closed
            turn: asyncio.Future[None] = loop.create_future()
            self._waiting.append(turn)
            timer = loop.call_at(deadline, _expire, turn)
            try:
                await turn
            finally:
                timer.cancel()

    async def _connect(self, origin: _Origin, deadline: float) -> _Connection:
        loop = asyncio.get_running_loop()
        if origin.tls and self._tls is None:
            self._tls = tls_context()
        self._open += 1
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(self, origin),
                    origin.host,
                    origin.port,
                    ssl=self._tls if origin.tls else None,
                    server_hostname=origin.host if origin.tls else None,
                ),
                max(0.0, deadline - loop.time()),
            )
        except asyncio.TimeoutError:
            self._released()
            raise Unreachable("TimeoutError") from None
        except (OSError, ssl.SSLError, ValueError):
            self._released()
            raise Unreachable("ConnectError") from None
        except BaseException:
            self._released()
            raise
        return connection

    def _lost(self, connection: _Connection) -> None:
        idle = self._idle.get(connection.origin.key)
        if idle and connection in idle:
            idle.remove(connection)
        self._released()

    def _released(self) -> None:
        self._open -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return

    def _close_an_idle_connection(self) -> None:
        for connections in self._idle.values():
            if connections:
                connections.pop(0).abort()
                return

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.abort()
        self._idle.clear()
        await self._fallback.aclose()


def _expire(turn: asyncio.Future[None]) -> None:
    if not turn.done():
        turn.set_exception(Unreachable("TimeoutError"))


def _origin_end(url: str) -> int:
    """Where `scheme://host:port` ends in `url` (0: no scheme)."""
    start = url.find("://")
    if start <= 0:
        return 0
    end = len(url)
    for mark in "/?#":
        at = url.find(mark, start + 3)
        if 0 <= at < end:
            end = at
    return end


def _charset(content_type: bytes | None) -> str | None:
    if not content_type or b"charset" not in content_type.lower():
        return None
    for parameter in content_type.decode("latin-1").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


class _TooLarge(Exception):
    """An answer's body past MAX_ANSWER_BYTES, as sent or once decoded."""


def _decoded(content: bytes, encoding: bytes) -> bytes:
    if encoding != b"deflate":
        return _decompressed(content, 16 + zlib.MAX_WBITS)
    try:
        return _decompressed(content, zlib.MAX_WBITS)
    except zlib.error:  # deflate without its zlib wrapper, as some servers send it
        return _decompressed(content, -zlib.MAX_WBITS)


def _decompressed(content: bytes, wbits: int) -> bytes:
    """`content` decoded, never past MAX_ANSWER_BYTES: a few kilobytes of gzip can decode to gigabytes."""
    decoder = zlib.decompressobj(wbits)
    data = decoder.decompress(content, MAX_ANSWER_BYTES + 1)
    if len(data) > MAX_ANSWER_BYTES:
        raise _TooLarge
    if not decoder.eof:  # cut short, as zlib.decompress would say
        raise zlib.error("incomplete or truncated stream")
    return data


__all__ = ["Http1Pool"]
