"""Which values are secret, and how to keep them out of any text: one registry of every sensitive value in play.

A value is sensitive when it is the value of a variable named like a secret (`*SECRET*`, `*TOKEN*`, …) or
listed under `sensitive_variables`, or when the registry holds it where credentials go (URL user info, a query
parameter named like a key). The CLI collects them all in one `Redactor` as it learns them (environment,
reconciler.yaml, the variables tools.d read, the live tools) and passes every line it prints or writes
through it, so a value caught nowhere else (a server's 422 echoing the payload, a diagnostic quoting an
endpoint) is still caught at the last step. Scrubbing also matches the forms output formats escape a value
into (JSON, HTML, percent-encoding, GitHub workflow commands), since a secret written as `a\\"b` is the same
secret.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

import orjson

REDACTED = "(sensitive)"
OWN_CREDENTIAL_VARIABLES = (
    "GENESYS_CLOUD_CLIENT_SECRET",
    "GENESYSCLOUD_OAUTHCLIENT_SECRET",
    "GENESYS_CLOUD_ACCESS_TOKEN",
    "GENESYSCLOUD_ACCESS_TOKEN",
)
"""The reconciler's own credentials (api/target.py reads them): they go to the registry and its login server only,
never into a tool, whose fields every reader of the org's tools, and the model, sees."""
SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "PRIVATE")
"""A variable whose name holds one of these is sensitive without being listed."""

_SECRET_PARAMETER_ENDINGS = ("key", "token", "secret", "password", "passwd", "pwd", "signature", "sig", "credential")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_TEMPLATE = re.compile(r"\{[^{}]*\}|^\$")
"""A value that is a template (`{key}`, `${input.key}`, `$input.key`) stands for a credential; it is not one."""


def named_like_secret(variable: str) -> bool:
    upper = variable.upper()
    return any(word in upper for word in SECRET_WORDS)


def secret_parameter(name: str) -> bool:
    """A URL query parameter whose value is a credential (`key`, `api_key`, `access_token`, `sig`, …)."""
    plain = re.sub(r"[^a-z]", "", name.lower())
    return plain.endswith(_SECRET_PARAMETER_ENDINGS) or plain.endswith(
        tuple(e + "s" for e in _SECRET_PARAMETER_ENDINGS)
    )


def credentials_in(value: Any) -> set[str]:
    """Values held where credentials go, in any string of `value` (JSON data): the password of a URL's user
    info, and the values of query parameters named like secrets. Used on live tools, whose secrets may come
    from a variable this run does not know (a tool removed from tools.d, a key rotated since)."""
    urls: set[str] = set()  # a live tool's content repeats its raw form: each string once
    found: set[str] = set()
    for item in value if type(value) is list else [value]:
        if _may_hold_credentials(item):
            _scan(item, urls, found)
    for text in urls:
        for url in _URL.findall(text):
            if "@" in url or "?" in url:  # else it has neither user info nor a query: nothing to find
                found.update(_url_credentials(url))
    return {secret for secret in found if secret and secret != REDACTED and not _TEMPLATE.search(secret)}


def _url_credentials(url: str) -> Iterator[str]:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return
    if password:
        yield password
        yield unquote(password)
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if secret_parameter(name):
            yield value
    raw = dict(pair.partition("=")[::2] for pair in parts.query.split("&"))
    for name, value in raw.items():  # the undecoded form too: that is how it is written in the endpoint
        if secret_parameter(name) and value:
            yield value


def _may_hold_credentials(value: Any) -> bool:
    """False when no string of `value` has an `@` or a `?` and no key is `headers`: then it holds no URL user
    info, no query and no headers map, and is not walked. Told from its JSON text, written in C (a plan reads
    every live tool, and most have neither): orjson escapes neither character, nor any letter of `headers`.
    What orjson refuses (a key that is not a string, a Mapping that is not a dict) is walked."""
    try:
        text = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return True
    return b"@" in text or b"?" in text or b'"headers"' in text


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-auth-token"})


def _scan(value: Any, urls: set[str], found: set[str]) -> None:
    """One walk of `value` (with a stack, not recursion: a plan reads every live tool through it) for the
    strings, keys too, that may hold a URL (into `urls`), and the values of credential headers in any `headers`
    map (into `found`: a Data Action's `config.request.headers` may carry `Authorization: Bearer …` as written
    in the UI), with the token after its scheme. Inside a headers map only URLs are looked for."""
    stack = [value]
    headers: list[Any] = []  # the headers maps met, walked for URLs afterwards
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "://" in item:
                urls.add(item)
        elif isinstance(item, dict) or isinstance(item, Mapping):  # noqa: SIM101 - dict first: the fast check
            for key, inner in item.items():
                text = key if type(key) is str else str(key)
                if "://" in text:
                    urls.add(text)
                if type(inner) is str:  # most values: looked at here, not pushed and popped
                    if "://" in inner:
                        urls.add(inner)
                elif key == "headers" and isinstance(inner, Mapping):
                    found.update(_header_values(inner))
                    headers.append(inner)
                else:
                    stack.append(inner)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    urls.update(_strings(headers))


def _header_values(headers: Mapping[Any, Any]) -> Iterator[str]:
    for name, text in headers.items():
        if isinstance(text, str) and (str(name).lower() in _SECRET_HEADERS or secret_parameter(str(name))):
            yield text
            scheme, _, token = text.partition(" ")
            if token and scheme.isalpha():
                yield token.strip()


def _strings(value: Any) -> list[str]:
    """The strings of `value` (keys too) that may hold a URL."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "://" in item:
                found.append(item)
        elif isinstance(item, dict) or isinstance(item, Mapping):  # noqa: SIM101 - dict first: the fast check
            stack.extend(str(key) for key in item)
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Control characters (line breaks included) and bidi controls, as the plan escapes them (plan/render/_shared.py)."""


def one_line(text: str) -> str:
    """`text` safe to print as one line of a terminal or a CI log, its control and bidi characters as \\u
    escapes (the form findings are printed in; here, so that scrubbing knows the form)."""
    return _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


_NOT_NAME = re.compile(r"[^a-zA-Z0-9_-]")


def encodings(secret: str) -> set[str]:
    """`secret` as output formats may write it: raw, JSON-escaped (ASCII or not), as Python quotes it in a
    message (`!r`), HTML-escaped, percent-encoded, escaped for a GitHub workflow command, on one line, and made
    into a tool name (each character a name cannot hold as `_`: a `name_prefix` written `${SECRET}`)."""
    forms = {
        secret,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
        one_line(secret),
        _NOT_NAME.sub("_", secret.strip()),
        html.escape(secret),
        html.escape(secret, quote=False),
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        secret.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"),
    }
    return {form for form in forms if form}


SHORT = 6
"""A value shorter than this is hidden where it stands alone, not inside a longer word or number: a
three-letter value would otherwise blank out ordinary text, and `ab1` inside `tab12` is not that value."""

UNLISTED_MINIMUM = 8
"""A variable that is only *named* like a secret, and that nothing in the run reads, counts when its value has at
least this many characters: `SOME_TOKEN_TTL=1` or `SECRET_SCANNING=true` are flags, not credentials, and
hiding every `1` would make a plan unreadable. Listed and read variables count whatever their length."""


def _alternative(form: str) -> str:
    text = re.escape(form)
    if len(form) >= SHORT:
        return text
    after = r"(?!\w)" if re.match(r"\w", form[-1]) else ""
    if not re.match(r"\w", form[0]):
        return text + after
    # "not after a word character", written after the first character so that every alternative still starts
    # with a literal and the engine can skip ahead to candidates (10x faster on long outputs)
    first = re.escape(form[0])
    return first + rf"(?<!\w{first})" + re.escape(form[1:]) + after


def _alternation(forms: Iterable[str]) -> re.Pattern[str] | None:
    unique = sorted({form for form in forms if form}, key=lambda s: (-len(s), s))
    return re.compile("|".join(_alternative(form) for form in unique)) if unique else None


def value_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """The secrets as they are (for data, before any encoding), longest first, so a secret holding another is
    replaced whole, in one pass that never rewrites its own marker."""
    return _alternation(secrets)


def pattern_for(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """The secrets in every form an output format may write them in (for finished text)."""
    return _alternation(form for secret in secrets if secret for form in encodings(secret))


CUT = "…"
"""What a message puts where it cuts a long value short (`'abcdefgh…' (111 characters)`). A tool name too long
for the name rule is cut short too, and ends in `_` and 8 hex digits of its digest instead."""
CUT_PREFIX = 8
"""A secret cut short is hidden from this many characters on: its head is as much a secret as the whole."""


_DIGEST_MARK = re.compile(r"_[0-9a-f]{8}(?![0-9A-Za-z])")


def _may_be_cut(text: str) -> bool:
    """Whether `text` holds a cut mark at all. Most texts hold none, and these scans cost a fifteenth of the cut
    pattern's (which tries its heads at every position): every printed line passes through here."""
    return CUT in text or ("\\" in text and "\\u2026" in text) or _DIGEST_MARK.search(text) is not None


class _CutPattern:
    """Forms of the secrets cut short by a message: a head of at least CUT_PREFIX characters of a form, right
    before the cut mark (a closing quote may come between), or before the digest that ends a shortened name."""

    def __init__(self, forms: Iterable[str]) -> None:
        self._forms = sorted({form for form in forms if len(form) > CUT_PREFIX}, key=lambda s: (-len(s), s))
        heads = sorted({re.escape(form[:CUT_PREFIX]) for form in self._forms})
        longest = max((len(form) for form in self._forms), default=0)
        # the shortest run from a head to the mark (or to the mark as ASCII JSON writes it, \u2026), or to a digest
        mark = f"['\"]?(?:{CUT}|\\\\u2026)|_[0-9a-f]{{8}}(?![0-9A-Za-z])"
        self._pattern = re.compile(f"(?:{'|'.join(heads)})[^{CUT}]{{0,{longest}}}?(?={mark})") if heads else None

    def scrub(self, text: str) -> str:
        if self._pattern is None or not _may_be_cut(text):
            return text
        return self._pattern.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        cut = match.group()
        return REDACTED if any(form.startswith(cut) for form in self._forms) else cut


class Redactor:
    """The sensitive values known so far; thread-safe, values are only ever added."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._cut = _CutPattern(())
        self.add(*values)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], listed: Iterable[str] = ()) -> Redactor:
        """The values of the variables `listed`, and of every variable named like a secret (see
        `UNLISTED_MINIMUM`)."""
        names = set(listed)
        return cls(
            value
            for name, value in environ.items()
            if name in names or (named_like_secret(name) and len(value) >= UNLISTED_MINIMUM)
        )

    def add(self, *values: str | None) -> None:
        with self._lock:
            new = {value for value in values if value} - self._values
            if new:
                self._values |= new
                self._pattern = pattern_for(self._values)
                self._cut = _CutPattern(form for value in self._values for form in encodings(value))

    def add_environment(self, environ: Mapping[str, str], names: Iterable[str]) -> None:
        self.add(*(environ.get(name) for name in names))

    def values(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._values))

    def scrub(self, text: str) -> str:
        with self._lock:
            pattern, cut = self._pattern, self._cut
        return text if pattern is None else cut.scrub(pattern.sub(REDACTED, text))

    def __repr__(self) -> str:
        return f"Redactor(<{len(self._values)} values>)"


__all__ = [
    "OWN_CREDENTIAL_VARIABLES",
    "REDACTED",
    "SECRET_WORDS",
    "Redactor",
    "credentials_in",
    "encodings",
    "named_like_secret",
    "one_line",
    "pattern_for",
    "secret_parameter",
    "value_pattern",
]
