"""Keep secrets out of logs and messages: Authorization headers, tokens, client secrets, token bodies.

The client logs through these helpers only; `Secrets` remembers every secret value the process has seen
(the client secret, a configured token, every token issued to it) so free text can be scrubbed too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
SENSITIVE_PARAMETERS = frozenset({"access_token", "client_secret", "token", "refresh_token", "code", "password"})


class Secrets:
    """A thread-safe set of secret values to scrub from any text before it is logged or raised."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self.add(*values)

    def add(self, *values: str | None) -> None:
        with self._lock:
            self._values.update(value for value in values if value and len(value) >= 4)

    def scrub(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Secrets(<{len(self._values)} values>)"


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: (REDACTED if name.lower() in SENSITIVE_HEADERS else value) for name, value in headers.items()}


def redact_url(url: str) -> str:
    """The URL without user info and with secret-looking query parameters replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(key, REDACTED if key.lower() in SENSITIVE_PARAMETERS else value) for key, value in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


__all__ = ["REDACTED", "Secrets", "redact_headers", "redact_url"]
