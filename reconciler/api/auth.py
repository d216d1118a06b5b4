"""Authentication: no credentials, an access token used as is, or the client credentials grant (DESIGN §4).

A client-credentials token is fetched on first use, shared by every thread, refreshed shortly before it
expires, and dropped after a 401 so the next attempt fetches a new one (the retry loop allows that once).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import httpx
import orjson

from reconciler.api.redact import Secrets
from reconciler.api.target import ACCESS_TOKEN_VARIABLES, CLIENT_ID_VARIABLES, CLIENT_SECRET_VARIABLES, Target
from reconciler.errors import AuthenticationError

log = logging.getLogger("reconciler.api.auth")

TOKEN_PATH = "/oauth/token"
DEFAULT_LIFETIME = 86400.0
REFRESH_MARGIN = 60.0
"""Refresh this long before expiry (at most a tenth of the token's lifetime)."""

PostToken = Callable[[str, dict[str, str], dict[str, str]], httpx.Response]
"""(url, headers, form) → a 2xx response; failures raise typed errors."""


class Auth(Protocol):
    advice: str
    """What to do when the API answers 401."""

    def header(self) -> str | None: ...

    def refreshable(self) -> bool: ...

    def invalidate(self, header: str | None) -> None: ...


class NoAuth:
    advice = (
        f"set {ACCESS_TOKEN_VARIABLES[0]}, or {CLIENT_ID_VARIABLES[0]} and {CLIENT_SECRET_VARIABLES[0]} "
        "(with GENESYS_CLOUD_REGION)"
    )

    def header(self) -> str | None:
        return None

    def refreshable(self) -> bool:
        return False

    def invalidate(self, header: str | None) -> None:
        return None


class StaticToken:
    def __init__(self, token: str, variable: str) -> None:
        self._header = f"Bearer {token}"
        self.advice = (
            f"the access token in {variable} was refused (expired or for another org?): get a new one, "
            f"or use client credentials ({CLIENT_ID_VARIABLES[0]} / {CLIENT_SECRET_VARIABLES[0]})"
        )

    def header(self) -> str | None:
        return self._header

    def refreshable(self) -> bool:
        return False

    def invalidate(self, header: str | None) -> None:
        return None

    def __repr__(self) -> str:
        return "StaticToken([redacted])"


class ClientCredentialsAuth:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_url: str,
        advice: str,
        post: PostToken,
        secrets: Secrets,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        self._basic = f"Basic {basic}"
        secrets.add(basic, client_secret)
        self._secrets = secrets
        self._token_url = token_url
        self._post = post
        self._clock = clock
        self._lock = threading.Lock()
        self._header: str | None = None
        self._refresh_at = 0.0
        self.advice = advice
        self.fetched = 0
        """How many tokens were fetched (for tests)."""

    def header(self) -> str | None:
        with self._lock:
            if self._header is None or self._clock() >= self._refresh_at:
                self._fetch()
            return self._header

    def refreshable(self) -> bool:
        return True

    def invalidate(self, header: str | None) -> None:
        with self._lock:
            if header is None or header == self._header:
                self._header = None

    def _fetch(self) -> None:
        started = self._clock()
        response = self._post(
            self._token_url,
            {"Authorization": self._basic, "Content-Type": "application/x-www-form-urlencoded"},
            {"grant_type": "client_credentials"},
        )
        try:
            body = orjson.loads(response.content)  # no NaN or lone surrogate reaches a header
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME)
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError(
                f"the token endpoint {self._token_url} answered without an access token; "
                "check GENESYS_CLOUD_LOGIN_URL / GENESYS_CLOUD_REGION"
            ) from None
        self._secrets.add(token)
        self._header = f"Bearer {token}"
        self._refresh_at = started + lifetime - min(REFRESH_MARGIN, lifetime / 10)
        self.fetched += 1
        log.debug("auth: new access token [redacted], valid for %.0f s", lifetime)

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth({self._token_url!r}, [redacted])"


def make_auth(target: Target, *, post: PostToken, secrets: Secrets, clock: Callable[[], float]) -> Auth:
    credentials = target.credentials
    if credentials is None:
        return NoAuth()
    secrets.add(*credentials.secrets)
    if credentials.access_token is not None:
        return StaticToken(credentials.access_token, credentials.token_variable)
    assert credentials.client_id is not None and credentials.client_secret is not None
    region = f"GENESYS_CLOUD_REGION ({target.region})" if target.region else "GENESYS_CLOUD_LOGIN_URL"
    advice = f"check {credentials.id_variable} and {credentials.secret_variable}, and that {region} is the org's region"
    return ClientCredentialsAuth(
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        token_url=f"{target.login_url}{TOKEN_PATH}",
        advice=advice,
        post=post,
        secrets=secrets,
        clock=clock,
    )


__all__ = ["Auth", "ClientCredentialsAuth", "NoAuth", "StaticToken", "make_auth"]
