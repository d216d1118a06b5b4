"""How reconciler's HTTPS clients reach the network (the Genesys Cloud API client, and the runtime's upstream
pools that `serve`, `chat` and `test` use): the proxies the environment names, and the certificate authorities
to trust, read as curl, pip and httpx read them, so a machine set up for a corporate proxy and CA works as is.

- Proxies: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` (either case) and `NO_PROXY`. An `http://`, `https://`,
  `socks5://` or `socks5h://` proxy is spoken (SOCKS through httpx with socksio); any other scheme
  (`socks4://`, `ftp://`) is a ConfigurationError naming the variable, before anything is sent, not calls
  that fail one by one or go around the proxy. The value itself is never shown: it may hold a password.
- Certificate authorities: `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (exactly those, as curl and httpx take
  them; a path that is not there is a ConfigurationError naming the variable); otherwise the operating system's
  store, where an administrator adds a corporate CA: on macOS and Windows through truststore (Python's OpenSSL
  does not read the Keychain or the Windows store), on Linux OpenSSL's default paths, with certifi's bundle
  added there so a container without a CA store still verifies public hosts (httpx alone trusted certifi only).
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
from collections.abc import Mapping

from reconciler.errors import ConfigurationError

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
SOCKS_SCHEMES = ("socks5", "socks5h")


def proxy_scheme(url: str) -> str:
    """The scheme of a proxy variable's value (`host:port` alone is an http:// proxy, as curl and httpx read it)."""
    return url.partition("://")[0].lower() if "://" in url else "http"


def check_proxies(environ: Mapping[str, str] | None = None) -> None:
    """ConfigurationError naming the first proxy variable whose scheme no client here speaks."""
    found = os.environ if environ is None else environ
    for name in PROXY_VARIABLES:
        for variable in (name, name.lower()):
            value = found.get(variable, "").strip()
            if value and proxy_scheme(value) not in PROXY_SCHEMES:
                raise ConfigurationError(
                    f"{variable} names a {proxy_scheme(value)}:// proxy, which reconciler cannot speak (it speaks "
                    f"{', '.join(s + '://' for s in PROXY_SCHEMES)}); name one of those, or unset {variable}"
                )


def uses_socks(proxies: Mapping[str, str]) -> bool:
    """Whether a proxy of `urllib.request.getproxies()`'s kind (scheme → URL) is a SOCKS one."""
    return any(proxy_scheme(url) in SOCKS_SCHEMES for url in proxies.values() if url)


def tls_context() -> ssl.SSLContext:
    """The TLS context every HTTPS client here verifies servers with (see the module); built once per setting."""
    return _context(os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)


@functools.lru_cache(maxsize=4)
def _context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    if cafile is not None or capath is not None:
        for variable, path, kind in (("SSL_CERT_FILE", cafile, "file"), ("SSL_CERT_DIR", capath, "directory")):
            if path is not None and not (os.path.isfile(path) if kind == "file" else os.path.isdir(path)):
                raise ConfigurationError(
                    f"{variable}={path}: no such {kind}; name the certificate authorities to trust (PEM), or unset "
                    f"{variable} to trust the system's"
                )
        try:
            return ssl.create_default_context(cafile=cafile, capath=capath)
        except ssl.SSLError as exc:
            raise ConfigurationError(
                f"SSL_CERT_FILE={cafile}: holds no certificate OpenSSL can read ({exc.reason or exc}); name a PEM "
                "bundle of certificate authorities"
            ) from None
    if sys.platform in ("darwin", "win32"):
        try:
            import truststore
        except ImportError:  # installed with reconciler on these systems; a vendored copy may lack it
            pass
        else:
            return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context = ssl.create_default_context()
    import certifi

    context.load_verify_locations(cafile=certifi.where())
    return context


__all__ = ["PROXY_SCHEMES", "check_proxies", "proxy_scheme", "tls_context", "uses_socks"]
