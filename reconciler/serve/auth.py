"""Who may call the tool service: callers presenting its secret, from `RECONCILER_SERVE_TOKEN`.

The secret is read from the environment, or from the file `RECONCILER_SERVE_TOKEN_FILE` names (a Docker or
Kubernetes secret mounted as a file), never from a flag (a flag's value is in `ps` and shell history). It is
accepted in the two forms a caller can send without code:
- `Authorization: Bearer <secret>` (a gateway, a proxy, curl, any HTTP client);
- `Authorization: Basic base64(<user>:<secret>)`: the **Basic Auth** credential type of a Genesys Cloud Web
  Services Data Actions integration, which the platform adds to every request of its actions by itself. The
  user name is not checked: it is not secret, and the platform's form asks for one.
Several secrets, separated by commas, are all accepted: a rotation adds the new one, moves the callers to it,
then drops the old one, with no moment where a replica refuses the calls of the other.

Every path needs it but `/healthz`, `/readyz` and `/metrics`: probes and scrapers carry no credentials (a
kubelet's probe cannot hold a secret but in the pod spec), and those answers hold no argument value, no output
and no credential, and call nothing. The comparison takes the same time wherever a wrong secret differs.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ConfigurationError

SECRET_VARIABLE = "RECONCILER_SERVE_TOKEN"
FILE_VARIABLE = "RECONCILER_SERVE_TOKEN_FILE"
MIN_LENGTH = 16
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
CHALLENGES = (b'Bearer realm="reconciler serve"', b'Basic realm="reconciler serve", charset="UTF-8"')
MISSING = (
    "this service needs its caller secret: send 'Authorization: Bearer <secret>', or Basic with the secret as "
    "the password (a Data Actions integration's Basic Auth credentials)"
)
WRONG = "the Authorization header does not carry this service's caller secret"


@dataclass(frozen=True)
class CallerAuth:
    """The secrets a caller may present (as bytes: compared as sent)."""

    secrets: tuple[bytes, ...]

    def admits(self, authorization: bytes | None) -> bool:
        """Whether the value of an `Authorization` header carries one of the secrets."""
        presented = _presented(authorization) if authorization else None
        if presented is None:
            return False
        # every secret compared, in constant time each: how long this takes says nothing of which one is near
        return sum(hmac.compare_digest(presented, secret) for secret in self.secrets) > 0


def caller_auth(environ: Mapping[str, str]) -> CallerAuth | None:
    """The callers `RECONCILER_SERVE_TOKEN` (or the file `RECONCILER_SERVE_TOKEN_FILE` names) admits; None when
    neither is set and the variable is empty (no authentication). ConfigurationError when both are set, the file
    cannot be read or is empty (a secret meant and not found: never served open), or a secret is too short to be
    one or cannot travel in a header; the message names the variable (and file), never the value."""
    file_name = environ.get(FILE_VARIABLE, "")
    if file_name:
        if environ.get(SECRET_VARIABLE, ""):
            raise ConfigurationError(f"{SECRET_VARIABLE} and {FILE_VARIABLE} are both set: keep one")
        source = f"{FILE_VARIABLE} ({file_name})"
        try:
            value = Path(file_name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise ConfigurationError(f"{source} cannot be read: {why}") from None
        if not value.strip():
            raise ConfigurationError(f"{source} is empty: write the secret into it (`openssl rand -hex 32`)")
    else:
        source, value = SECRET_VARIABLE, environ.get(SECRET_VARIABLE, "")
        if not value.strip():
            return None
    secrets = [part.strip() for part in value.strip().split(",")]
    for position, secret in enumerate(secrets, 1):
        which = f"{source} (secret {position} of {len(secrets)})" if len(secrets) > 1 else source
        if not secret:
            raise ConfigurationError(f"{which} is empty: separate secrets by single commas, without an empty one")
        if not all("!" <= c <= "~" for c in secret):
            raise ConfigurationError(
                f"{which} holds a space or a character outside printable ASCII, which an Authorization header "
                "cannot carry as is: generate one with `openssl rand -hex 32`"
            )
        if len(secret) < MIN_LENGTH:
            raise ConfigurationError(
                f"{which} is shorter than {MIN_LENGTH} characters, too short to keep callers out: generate one "
                "with `openssl rand -hex 32`"
            )
    return CallerAuth(tuple(secret.encode() for secret in secrets))


def _presented(authorization: bytes) -> bytes | None:
    scheme, _, credentials = authorization.strip().partition(b" ")
    credentials = credentials.strip()
    scheme = scheme.lower()
    if scheme == b"bearer":
        return credentials or None
    if scheme == b"basic":
        try:
            decoded = base64.b64decode(credentials, validate=True)
        except (binascii.Error, ValueError):
            return None
        _user, colon, password = decoded.partition(b":")
        return password if colon else None
    return None


__all__ = [
    "CHALLENGES",
    "FILE_VARIABLE",
    "MISSING",
    "OPEN_PATHS",
    "SECRET_VARIABLE",
    "WRONG",
    "CallerAuth",
    "caller_auth",
]
