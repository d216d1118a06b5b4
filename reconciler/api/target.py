"""Which org to talk to and how to authenticate, from the environment (DESIGN §4).

Credentials, first found wins: an access token (used as is), else an OAuth client (client credentials grant)
with a region. The CX-as-Code names are accepted too. `GENESYS_CLOUD_API_URL` / `GENESYS_CLOUD_LOGIN_URL`
override the hosts: `https://`, or `http://` to this machine (a local emulator); `http://` to another host only
with `RECONCILER_ALLOW_INSECURE_HTTP=1`, since the token or the client secret then crosses the network in clear
text. Nothing configured means no target: the CLI then uses the local registry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from reconciler.api.regions import DEFAULT_REGION, REGIONS, region_domain
from reconciler.errors import ConfigurationError

ACCESS_TOKEN_VARIABLES = ("GENESYS_CLOUD_ACCESS_TOKEN", "GENESYSCLOUD_ACCESS_TOKEN")
CLIENT_ID_VARIABLES = ("GENESYS_CLOUD_CLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_ID")
CLIENT_SECRET_VARIABLES = ("GENESYS_CLOUD_CLIENT_SECRET", "GENESYSCLOUD_OAUTHCLIENT_SECRET")
REGION_VARIABLES = ("GENESYS_CLOUD_REGION", "GENESYSCLOUD_REGION")
API_URL_VARIABLE = "GENESYS_CLOUD_API_URL"
LOGIN_URL_VARIABLE = "GENESYS_CLOUD_LOGIN_URL"
INSECURE_HTTP_VARIABLE = "RECONCILER_ALLOW_INSECURE_HTTP"


@dataclass(frozen=True)
class Credentials:
    """An access token used as is, or an OAuth client. `repr` never shows the token or the secret.

    The `*_variable` fields name where each value came from, so messages can say which variable to fix.
    """

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    id_variable: str = CLIENT_ID_VARIABLES[0]
    secret_variable: str = CLIENT_SECRET_VARIABLES[0]
    token_variable: str = ACCESS_TOKEN_VARIABLES[0]

    def __post_init__(self) -> None:
        if self.access_token is None and (self.client_id is None or self.client_secret is None):
            raise ValueError("Credentials need an access token, or a client id and a client secret")

    @property
    def uses_client_credentials(self) -> bool:
        return self.access_token is None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never appear in output."""
        return tuple(value for value in (self.client_secret, self.access_token) if value)


@dataclass(frozen=True)
class Target:
    """An org's API and login base URLs, a description safe to print, and the credentials (never printed)."""

    api_url: str
    login_url: str
    description: str
    credentials: Credentials | None
    region: str | None = None

    @property
    def api_host(self) -> str:
        return urlsplit(self.api_url).netloc

    @property
    def login_host(self) -> str:
        return urlsplit(self.login_url).netloc


def _first(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return None


def is_loopback(url: str) -> bool:
    """Whether `url` names this machine (localhost or a loopback address): a local emulator, never an org."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _insecure_http_allowed(environ: Mapping[str, str]) -> bool:
    return environ.get(INSECURE_HTTP_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def _base_url(variable: str, value: str, environ: Mapping[str, str]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{variable} must be an http(s) URL such as https://api.mypurecloud.de")
    if parts.username or parts.password:
        raise ConfigurationError(f"{variable} must not carry credentials; use the credential variables instead")
    host = parts.hostname.lower()
    if parts.scheme == "http" and any(host == d or host.endswith(f".{d}") for d in REGIONS.values()):
        # the org speaks https only; over http the secret or token would cross the network in clear text
        raise ConfigurationError(f"{variable} must use https for a Genesys Cloud host: https://{parts.netloc}")
    if parts.scheme == "http" and not is_loopback(value) and not _insecure_http_allowed(environ):
        # every call carries the bearer token, the token request the client secret: readable by anyone on the path
        raise ConfigurationError(
            f"{variable} is http:// to {parts.netloc}, which is not this machine: the access token or client secret "
            f"would cross the network in clear text. Use https://, or, for a `reconciler emulator --allow-remote` "
            f"on a network you trust, set {INSECURE_HTTP_VARIABLE}=1"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _credentials(environ: Mapping[str, str]) -> Credentials | None:
    token = _first(environ, ACCESS_TOKEN_VARIABLES)
    if token is not None:
        return Credentials(access_token=token[1], token_variable=token[0])
    client_id = _first(environ, CLIENT_ID_VARIABLES)
    secret = _first(environ, CLIENT_SECRET_VARIABLES)
    if client_id is not None and secret is not None:
        return Credentials(
            client_id=client_id[1], client_secret=secret[1], id_variable=client_id[0], secret_variable=secret[0]
        )
    if client_id is not None:
        missing = CLIENT_SECRET_VARIABLES[0] if client_id[0] == CLIENT_ID_VARIABLES[0] else CLIENT_SECRET_VARIABLES[1]
        raise ConfigurationError(
            f"{client_id[0]} is set but {missing} is not: set both (client credentials), "
            f"or {ACCESS_TOKEN_VARIABLES[0]}, or neither to use the local registry"
        )
    if secret is not None:
        missing = CLIENT_ID_VARIABLES[0] if secret[0] == CLIENT_SECRET_VARIABLES[0] else CLIENT_ID_VARIABLES[1]
        raise ConfigurationError(
            f"{secret[0]} is set but {missing} is not: set both (client credentials), "
            f"or {ACCESS_TOKEN_VARIABLES[0]}, or neither to use the local registry"
        )
    return None


def resolve_target(environ: Mapping[str, str]) -> Target | None:
    """The org the environment points at, or None when neither credentials nor URL overrides are set.

    Raises ConfigurationError for an unknown region (listing the valid ones), half-given client credentials,
    or a malformed URL override.
    """
    credentials = _credentials(environ)
    api_override = _first(environ, (API_URL_VARIABLE,))
    login_override = _first(environ, (LOGIN_URL_VARIABLE,))
    if credentials is None and api_override is None and login_override is None:
        return None
    region_setting = _first(environ, REGION_VARIABLES)
    region_variable, region = region_setting or (REGION_VARIABLES[0], DEFAULT_REGION)

    if api_override is not None:
        api = _base_url(*api_override, environ)
        login = _base_url(*login_override, environ) if login_override is not None else api
        return Target(api_url=api, login_url=login, description=api, credentials=credentials)

    domain = region_domain(region, variable=region_variable)
    login = _base_url(*login_override, environ) if login_override is not None else f"https://login.{domain}"
    return Target(
        api_url=f"https://api.{domain}",
        login_url=login,
        description=f"region {region.strip().lower()} (api.{domain})",
        credentials=credentials,
        region=region.strip().lower(),
    )


__all__ = [
    "ACCESS_TOKEN_VARIABLES",
    "API_URL_VARIABLE",
    "CLIENT_ID_VARIABLES",
    "CLIENT_SECRET_VARIABLES",
    "INSECURE_HTTP_VARIABLE",
    "LOGIN_URL_VARIABLE",
    "REGION_VARIABLES",
    "Credentials",
    "Target",
    "is_loopback",
    "resolve_target",
]
