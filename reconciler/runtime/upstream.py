"""Sending one request to an upstream: a pool of keep-alive connections behind one call.

    pool = open_pool()                    # http1 with the `serve` extra (aiohttp and httptools), else httpx
    answer = await pool.send(method, url, headers, content, timeout)   -> Answer(status, content, charset)
    await pool.aclose()

Both pools behave alike, as the runtime's tests pin: no cookie is kept from one request to the next (one
caller's session must never ride with another's call), redirects are not followed (the runtime answers a 3xx
itself), the URL is sent exactly as built (already percent-encoded: no re-quoting), header values go out as
UTF-8, and TCP_NODELAY is set on every connection. A request that fails to reach the upstream or to get its
answer raises `Unreachable` naming the failure's type only (its text may hold the URL, which holds values).

Why not httpx first: measured against a loopback upstream at 32 requests in flight, httpx spent ~490 µs of CPU
per request (~420 µs at one), aiohttp ~60-70 µs (its HTTP parser is in C), the http1 pool ~12 µs (http1.py
says why it exists; it hands aiohttp what it does not do itself). httpx stays as the fallback so
`reconciler chat` and `reconciler test` run without the extra. A pool lives in the event loop of its first
request.
"""

from __future__ import annotations

import asyncio
import codecs
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Literal, Protocol

from reconciler.network import tls_context, uses_socks

Client = Literal["http1", "aiohttp", "httpx"]

MAX_CONNECTIONS = 256
HTTPX_POOLS = 8
MAX_HEADER_LINE = 65536
"""Longest status or header line accepted from an upstream (aiohttp's default, 8 KiB, is less than httpx's)."""
MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""The most bytes of one answer's body held, counted after gzip or deflate decoding: a larger answer (or a
small archive that decodes past it) is an error, not memory without bound. A tool's output goes to a model,
whose context holds far less."""


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes
    charset: str | None

    def text(self) -> str:
        charset = self.charset
        if self.content[:2] in _UTF16_MARKS:  # a byte order mark says the encoding, whatever the label (as
            charset = "utf-16"  # WHATWG's decode, which browsers follow); read as UTF-8, every letter is a pair
        try:
            return self.content.decode(charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know (the upstream's to name): read as UTF-8
            return self.content.decode("utf-8", errors="replace")


_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class Unreachable(Exception):
    """The request did not get an answer. `kind` is one of a few names that do not depend on the client:
    ConnectError (no connection could be made), TimeoutError, ConnectionLost (closed or reset mid-exchange),
    ProtocolError (an answer that is not HTTP, or a body cut short), InvalidURL, AnswerTooLarge (a body past
    MAX_ANSWER_BYTES). `status` is the status the answer came with, when one came before the failure."""

    def __init__(self, kind: str, status: int | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.status = status


class Pool(Protocol):
    async def send(
        self, method: str, url: str, headers: list[tuple[str, str]], content: bytes | None, timeout: float
    ) -> Answer: ...

    async def aclose(self) -> None: ...


def environment_proxies() -> dict[str, str]:
    """The proxy of each scheme (http, https) the environment names, read as httpx reads it, so every pool takes
    the same route: HTTP_PROXY / HTTPS_PROXY, else ALL_PROXY; `host:port` is an http:// proxy. A SOCKS proxy is
    left out here: while one is named, `open_pool` takes the httpx pool, which speaks it (socksio), so no call
    goes around it (reconciler.network refuses the schemes no pool speaks)."""
    found = urllib.request.getproxies()
    proxies: dict[str, str] = {}
    for scheme in ("http", "https"):
        url = found.get(scheme) or found.get("all")
        if not url:
            continue
        url = url if "://" in url else "http://" + url
        if url.partition("://")[0].lower() in ("http", "https"):
            proxies[scheme] = url
    return proxies


def available() -> Client:
    """The client a pool uses unless told otherwise: http1 when aiohttp (its fallback) and httptools can be
    imported, aiohttp when only it can, else httpx."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return "httpx"
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "aiohttp"
    return "http1"


def open_pool(client: Client | None = None) -> Pool:
    chosen = client or available()
    if chosen != "httpx" and uses_socks(urllib.request.getproxies()):
        chosen = "httpx"  # the only pool here that speaks SOCKS
    if chosen == "http1":
        from reconciler.runtime.http1 import Http1Pool

        return Http1Pool(_AiohttpPool())
    return _AiohttpPool() if chosen == "aiohttp" else _HttpxPool()


class _AiohttpPool:
    def __init__(self) -> None:
        self._session: Any = None

    def _open(self) -> Any:
        import aiohttp
        import yarl

        self._errors = (aiohttp.ClientError, asyncio.TimeoutError)
        self._timeout = aiohttp.ClientTimeout
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._url = yarl.URL
        # HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY, as httpx honours them; whether a host bypasses them, once
        # per host
        self._proxies = environment_proxies()
        self._proxy_of: dict[tuple[str, str], str | None] = {}
        return aiohttp.ClientSession(
            # aiohttp keeps every idle connection up to the limit, and sets TCP_NODELAY on each
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=0, ssl=tls_context()),
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("Content-Type",),  # a body without one goes without, as the binding built it
            # not trust_env: it reads ~/.netrc (in a thread) and the proxy variables on every request, a fifth
            # of the service's CPU; the proxies are read once below instead
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
        )

    async def send(
        self, method: str, url: str, headers: list[tuple[str, str]], content: bytes | None, timeout: float
    ) -> Answer:
        if self._session is None:
            self._session = self._open()
        limit = self._timeouts.get(timeout)
        if limit is None:
            limit = self._timeouts[timeout] = self._timeout(total=timeout)
        target = self._url(url, encoded=True)  # sent as built: re-quoting would change what the binding encoded
        proxy = self._proxy(target.scheme, target.host or "") if self._proxies else None
        try:
            async with self._session.request(
                method, target, headers=headers, data=content, allow_redirects=False, timeout=limit, proxy=proxy
            ) as response:
                if (response.content_length or 0) > MAX_ANSWER_BYTES:
                    raise Unreachable("AnswerTooLarge", response.status)
                try:
                    body = await _capped(response.content.iter_any(), response.status)
                except self._errors as exc:  # the status came: the body broke off, or did not decode
                    raise Unreachable(_aiohttp_kind(exc), response.status) from None
                return Answer(response.status, body, response.charset)
        except self._errors as exc:
            raise Unreachable(_aiohttp_kind(exc)) from None

    def _proxy(self, scheme: str, host: str) -> str | None:
        key = (scheme, host)
        if key not in self._proxy_of:
            chosen = self._proxies.get(scheme)
            self._proxy_of[key] = None if chosen is None or urllib.request.proxy_bypass(host) else chosen
        return self._proxy_of[key]

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class _HttpxPool:
    def __init__(self) -> None:
        self._clients: list[Any] = []
        self._turn = 0

    def _client(self) -> Any:
        """The next of HTTPX_POOLS clients, in turn. httpcore's pool scans all its connections, and for each idle
        one all of them again, twice per request: smaller pools taken in turn keep the same limits in total at a
        fraction of that cost."""
        import httpx

        if not self._clients:
            # one TLS context for all of them: each client would load the CA bundle itself (~40 ms apiece, the
            # slow first call `chat` and `test` saw); the system's store or SSL_CERT_FILE, not certifi's alone
            tls = tls_context()
            self._clients = [
                httpx.AsyncClient(
                    verify=tls,
                    limits=httpx.Limits(
                        max_connections=MAX_CONNECTIONS // HTTPX_POOLS, max_keepalive_connections=64 // HTTPX_POOLS
                    ),
                    follow_redirects=False,
                    # a jar that keeps nothing: one caller's session cookie must never ride with another's call
                    cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
                )
                for _ in range(HTTPX_POOLS)
            ]
        self._turn += 1
        return self._clients[self._turn % HTTPX_POOLS]

    async def send(
        self, method: str, url: str, headers: list[tuple[str, str]], content: bytes | None, timeout: float
    ) -> Answer:
        import httpx

        client = self._client()
        # UTF-8, not httpx's ASCII: a header value may be any text a header can carry (binding.py refuses the rest)
        encoded = [(name.encode(), value.encode()) for name, value in headers]
        request = client.build_request(method, httpx.URL(url), headers=encoded, content=content, timeout=timeout)
        try:
            response = await client.send(request, stream=True)
            try:
                body = await _capped(response.aiter_bytes(), response.status_code)
            except httpx.HTTPError as exc:  # the status came: the body broke off, or did not decode
                raise Unreachable(_httpx_kind(exc), response.status_code) from None
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise Unreachable(_httpx_kind(exc)) from None
        return Answer(response.status_code, body, response.charset_encoding)

    async def aclose(self) -> None:
        clients, self._clients = self._clients, []
        for client in clients:
            await client.aclose()


async def _capped(chunks: AsyncIterator[bytes], status: int) -> bytes:
    """An answer's body from its chunks (decoded as they arrive), refused once past MAX_ANSWER_BYTES."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise Unreachable("AnswerTooLarge", status)
    return bytes(body)


def _aiohttp_kind(exc: BaseException) -> str:
    import aiohttp

    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "TimeoutError"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "ConnectError"
    if isinstance(exc, aiohttp.InvalidURL):
        return "InvalidURL"
    if isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        return "ProtocolError"
    return "ConnectionLost"


def _httpx_kind(exc: BaseException) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "TimeoutError"
    if isinstance(exc, httpx.ConnectError):
        return "ConnectError"
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return "InvalidURL"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return "ProtocolError"
    return "ConnectionLost"


__all__ = [
    "MAX_ANSWER_BYTES",
    "Answer",
    "Client",
    "Pool",
    "Unreachable",
    "available",
    "environment_proxies",
    "open_pool",
]
