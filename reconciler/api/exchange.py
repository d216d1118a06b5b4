"""One HTTP exchange: pace it, send it, count it, log it (secrets redacted), translate transport failures."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from reconciler.api.pacing import Pacer
from reconciler.api.redact import REDACTED, Secrets, redact_headers, redact_url
from reconciler.api.translate import Operation, correlation_id, network_error, retry_after
from reconciler.api.waiting import SlowRequests
from reconciler.redaction import CUT

log = logging.getLogger("reconciler.api.http")
BODY_EXCERPT = 500
MAX_BODY = 64 * 1024 * 1024
"""Bytes of one answer we read; a larger one is a broken or hostile server (a page of 100 tools is ~1 MB)."""
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class ClientStats:
    """Thread-safe counters of what a client sent: every HTTP request (token requests included), by kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_kind: dict[str, int] = {}
        self._requests = 0
        self._responses_429 = 0
        self._failures = 0

    def record(self, kind: str, status: int | None) -> None:
        with self._lock:
            self._requests += 1
            self._by_kind[kind] = self._by_kind.get(kind, 0) + 1
            if status == 429:
                self._responses_429 += 1
            if status is None:
                self._failures += 1

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    @property
    def by_kind(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_kind)

    @property
    def responses_429(self) -> int:
        with self._lock:
            return self._responses_429

    @property
    def transport_failures(self) -> int:
        """Requests that got no HTTP answer at all."""
        with self._lock:
            return self._failures

    def __repr__(self) -> str:
        return f"ClientStats(requests={self.requests}, by_kind={self.by_kind}, responses_429={self.responses_429})"


class Exchanger:
    def __init__(
        self,
        http: httpx.Client,
        *,
        stats: ClientStats,
        secrets: Secrets,
        pacer: Pacer,
        max_retry_after: float = 60.0,
        deadline: float = 60.0,
        slow: SlowRequests | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_retry_after = max_retry_after
        self._http = http
        self._stats = stats
        self._secrets = secrets
        self._pacer = pacer
        self._deadline = deadline
        self._slow = slow
        self._clock = clock

    def send(
        self,
        operation: Operation,
        url: str,
        *,
        host: str,
        advice: str,
        headers: Mapping[str, str],
        paced: bool = True,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        authorize: Callable[[], str | None] | None = None,
    ) -> httpx.Response:
        """One request. Transport failures become NetworkError; HTTP statuses are returned as they are.

        `authorize` gives the Authorization header; it is asked after the pacer's wait, just before sending, so
        a short-lived token cannot expire while the request waits its turn."""
        secret_body = data is not None
        if paced:
            self._pacer.acquire()
        started = time.perf_counter()
        try:
            header = authorize() if authorize is not None else None
            if header:
                headers = {**headers, "Authorization": header}
            request = self._http.build_request(
                operation.method, url, headers=dict(headers), params=params, json=json, data=data
            )
            watching = self._slow.watch(f"{operation.method} {operation.subject} from {host}") if self._slow else None
            with watching or contextlib.nullcontext():
                response = self._receive(request)
        except httpx.TransportError as exc:
            if paced:
                self._pacer.release(None)
            self._stats.record(operation.kind, None)
            log.debug(
                "%s %s -> %s after %.0f ms",
                operation.method,
                self._shown(url, params),
                type(exc).__name__,
                (time.perf_counter() - started) * 1000,
            )
            raise network_error(exc, operation, host=host, secrets=self._secrets, advice=advice) from exc
        except BaseException:
            if paced:  # whatever went wrong, the slot must not stay taken
                self._pacer.release(None)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        wait = retry_after(response) if status == 429 else None
        if wait is not None:
            wait = min(wait, self._max_retry_after)
        if paced:
            self._pacer.release(response.headers, status, wait)
        self._stats.record(operation.kind, status)
        log.debug(
            "%s %s -> %d in %.0f ms (correlation id %s) request headers %s%s",
            operation.method,
            self._shown(url, params),
            status,
            elapsed,
            correlation_id(response) or "-",
            redact_headers(headers),
            " body " + REDACTED if secret_body else "",
        )
        if status == 429:
            shown = response.headers.get("retry-after", "-")
            log.debug("rate limited: Retry-After %s, %s", shown, self._limits(response))
        elif status >= 400:
            # scrubbed whole, then cut with the cut mark, which the CLI's scrubbing knows (redaction.CUT): a secret
            # straddling a bare cut would leave a head that no scrubbing can find
            text = REDACTED if operation.kind == "token" else _excerpt(self._secrets.scrub(response.text))
            log.debug("error body: %s", text)
        return response

    def _receive(self, request: httpx.Request) -> httpx.Response:
        """Send `request` and read its answer whole, within the overall deadline and MAX_BODY bytes: each read
        has the client's timeout, but a server that drip-feeds its body would pass every one of them."""
        ends = self._clock() + self._deadline
        response = self._http.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY:
                    raise httpx.ReadError(
                        f"the answer is larger than {MAX_BODY} bytes; stopped reading", request=request
                    )
                if self._clock() > ends:
                    raise httpx.ReadTimeout(
                        f"the whole answer took longer than {self._deadline:g} s; stopped reading", request=request
                    )
                chunks.append(chunk)
        finally:
            response.close()
        # the body is decoded already: the headers that described its encoding on the wire no longer apply
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks), request=request)

    def _shown(self, url: str, params: Mapping[str, Any] | None) -> str:
        if params:
            url = str(httpx.URL(url, params=dict(params)))
        return self._secrets.scrub(redact_url(url))

    @staticmethod
    def _limits(response: httpx.Response) -> str:
        names = ("inin-ratelimit-allowed", "inin-ratelimit-count", "inin-ratelimit-reset")
        return " ".join(f"{name}={response.headers.get(name, '-')}" for name in names)


def _excerpt(text: str) -> str:
    return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + CUT


__all__ = ["ClientStats", "Exchanger"]
