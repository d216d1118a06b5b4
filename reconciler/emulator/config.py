"""The emulator's settings and its request counters."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Paging = Literal["token", "nexturi"]
READ_SCOPE = "ai:tool:read"
WRITE_SCOPE = "ai:tool:write"


@dataclass(frozen=True)
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0
    """0: an ephemeral port, read it from `RunningEmulator.url`."""
    state_file: Path | None = None
    """Where the registry persists (a SQLite database, one transaction per write; a JSON state file of an
    earlier version found here is migrated once, and kept as `<name>.migrated`); None keeps it in memory."""
    legacy_state_file: Path | None = None
    """A JSON state file of an earlier version, migrated into `state_file` when that does not exist yet."""
    rate_limit: int | None = None
    """Requests allowed per `rate_window` seconds (token and /openapi.json requests do not count); None: no limit."""
    rate_window: float = 1.0
    latency_ms: float = 0.0
    """Added before every request is handled."""
    fault_429: float = 0.0
    """Probability that an API request is answered 429 (with Retry-After) although the limit is not reached."""
    fault_5xx: float = 0.0
    """Probability that an API request is answered 502, 503 or 504 without being processed."""
    fault_drop_after_commit: float = 0.0
    """Probability that a write is committed and the connection then closed without an answer."""
    paging: Paging = "token"
    client_id: str | None = None
    """With a client id and secret the token endpoint requires them and only tokens it issued are accepted;
    without, any credentials get a token and any bearer token (or none) is accepted."""
    client_secret: str | None = field(default=None, repr=False)
    require_token: bool = False
    """Without client credentials, still answer a request with no bearer token 401 (as `reconciler emulator`
    does: a client that forgot its token must fail here as it would against an org)."""
    token_lifetime: float = 86400.0
    default_page_size: int = 25
    max_parameters: int = 10
    max_description_length: int = 255
    default_rate_limit: Mapping[str, Any] | None = None
    """A `rateLimit` the server fills in when a ToolInput leaves it out (the platform's default); None: none."""
    scopes: tuple[str, ...] = (READ_SCOPE, WRITE_SCOPE)
    """What the caller's role grants: a list or read without `ai:tool:read`, or a write without
    `ai:tool:write`, is answered 403 `missing.permissions` (a read-only client, as a pull-request job has)."""
    seed: int | None = None
    """Seeds the fault dice, for reproducible runs."""
    log_requests: bool = True
    """Log each request served at DEBUG on the `reconciler.emulator` logger."""

    def __post_init__(self) -> None:
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("the emulator needs both a client id and a client secret, or neither")
        for name in ("fault_429", "fault_5xx", "fault_drop_after_commit"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} is a probability between 0 and 1, not {value}")
        unknown = sorted(set(self.scopes) - {READ_SCOPE, WRITE_SCOPE})
        if unknown:
            raise ValueError(f"unknown scope {unknown[0]!r}; the Tools API has {READ_SCOPE} and {WRITE_SCOPE}")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1 request per window")

    @property
    def strict_auth(self) -> bool:
        return self.client_id is not None


class EmulatorStats:
    """Thread-safe counters of what the emulator served, for tests and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._by_method: dict[str, int] = {}
        self._by_status: dict[int, int] = {}
        self._dropped = 0

    def request(self, method: str) -> None:
        with self._lock:
            self._requests += 1
            self._by_method[method] = self._by_method.get(method, 0) + 1

    def response(self, status: int) -> None:
        with self._lock:
            self._by_status[status] = self._by_status.get(status, 0) + 1

    def dropped(self) -> None:
        with self._lock:
            self._dropped += 1

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    @property
    def by_method(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_method)

    @property
    def by_status(self) -> dict[int, int]:
        with self._lock:
            return dict(self._by_status)

    @property
    def responses_429(self) -> int:
        with self._lock:
            return self._by_status.get(429, 0)

    @property
    def dropped_connections(self) -> int:
        with self._lock:
            return self._dropped

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._by_method.clear()
            self._by_status.clear()
            self._dropped = 0

    def __repr__(self) -> str:
        return (
            f"EmulatorStats(requests={self.requests}, by_method={self.by_method}, by_status={self.by_status}, "
            f"dropped={self.dropped_connections})"
        )


__all__ = ["EmulatorConfig", "EmulatorStats", "Paging"]
