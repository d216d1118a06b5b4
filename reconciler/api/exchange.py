"""One HTTP exchange: pace it, send it, count it, log it (secrets redacted), translate transport failures."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from reconciler.api.pacing import Pacer
from reconciler.api.redact import REDACTED, Secrets, redact_headers, redact_url
from reconciler.api.translate import Operation, correlation_id, network_error, retry_after

log = logging.getLogger("reconciler.api.http")
BODY_EXCERPT = 500


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
    ) -> None:
        self._max_retry_after = max_retry_after
        self._http = http
        self._stats = stats
        self._secrets = secrets
        self._pacer = pacer

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
    ) -> httpx.Response:
        """One request. Transport failures become NetworkError; HTTP statuses are returned as they are."""
        secret_body = data is not None
        if paced:
            self._pacer.acquire()
        started = time.perf_counter()
        try:
            response = self._http.request(
                operation.method, url, headers=dict(headers), params=params, json=json, data=data
            )
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
            text = REDACTED if operation.kind == "token" else self._secrets.scrub(response.text[:BODY_EXCERPT])
            log.debug("error body: %s", text)
        return response

    def _shown(self, url: str, params: Mapping[str, Any] | None) -> str:
        if params:
            url = str(httpx.URL(url, params=dict(params)))
        return self._secrets.scrub(redact_url(url))

    @staticmethod
    def _limits(response: httpx.Response) -> str:
        names = ("inin-ratelimit-allowed", "inin-ratelimit-count", "inin-ratelimit-reset")
        return " ".join(f"{name}={response.headers.get(name, '-')}" for name in names)


__all__ = ["ClientStats", "Exchanger"]
