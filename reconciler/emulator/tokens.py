"""The emulator's token endpoint logic: client credentials in, bearer tokens with a lifetime out."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from typing import Literal

TokenStatus = Literal["valid", "expired", "unknown"]


class TokenStore:
    def __init__(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        lifetime: float,
        clock: Callable[[], float] = time.monotonic,
        require_token: bool = False,
    ) -> None:
        self._client_id = client_id
        self.require_token = require_token
        self._client_secret = client_secret
        self.lifetime = lifetime
        self.clock = clock
        """Replaceable, so a test can expire tokens without waiting."""
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self.issued = 0

    @property
    def strict(self) -> bool:
        return self._client_id is not None

    def client_allowed(self, authorization: str | None) -> bool:
        """Checks `Basic base64(id:secret)`; without configured credentials any well-formed pair is allowed."""
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, colon, client_secret = decoded.partition(":")
        if not colon or not client_id:
            return False
        if self._client_id is None or self._client_secret is None:
            return True
        same_id = hmac.compare_digest(client_id.encode(), self._client_id.encode())
        same_secret = hmac.compare_digest(client_secret.encode(), self._client_secret.encode())
        return same_id and same_secret

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._expiry[token] = self.clock() + self.lifetime
            self.issued += 1
        return token

    def issued_tokens(self) -> list[str]:
        """Every token handed out so far (tests check that none leaks into logs)."""
        with self._lock:
            return list(self._expiry)

    def status(self, token: str) -> TokenStatus:
        with self._lock:
            expiry = self._expiry.get(token)
        if expiry is None:
            return "unknown"
        return "valid" if self.clock() < expiry else "expired"

    def accepts(self, authorization: str | None) -> tuple[bool, str]:
        """Whether an API request's Authorization is good enough, and why not."""
        if authorization is None:
            return (not (self.strict or self.require_token), "an Authorization: Bearer token is required")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return (False, "the Authorization header must be `Bearer <token>`")
        status = self.status(token)
        if status == "expired":
            return (False, "the access token has expired; get a new one")
        if status == "unknown" and self.strict:
            return (False, "the access token is not valid for this org")
        return (True, "")


__all__ = ["TokenStatus", "TokenStore"]
