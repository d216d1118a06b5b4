"""What the two corpus harnesses share: a request an upstream received, read back the way openapi-core wants it,
and the comparisons of what was meant with what arrived.

`tests/runtime/conformance.py` holds the Runtime's request bindings to the shared corpus; `tests/emulator/
test_execute_corpus.py` holds the Data Actions templates the emulator renders to it. Both send to a loopback
upstream and ask openapi-core whether the original operation accepts what arrived.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from reconciler.model import Tool

KNOWN_FORMATS = frozenset(
    {"date", "date-time", "uuid", "email", "uri", "ipv4", "ipv6", "int32", "int64", "float", "double", "byte"}
    | {"binary", "password", "hostname", "regex", "uri-reference", "time", "duration", "idn-email", "iri"}
)
"""The formats openapi-core checks; others (Discord's `snowflake`) are annotations, as JSON Schema says."""


def utf8_headers(pairs: Iterable[tuple[str, str]]) -> Headers:
    """Headers as sent: http.server reads header bytes as latin-1, and the senders wrote UTF-8."""
    headers = Headers()
    for key, value in pairs:
        try:
            headers.add(key, value.encode("latin-1").decode("utf-8"))
        except UnicodeError:
            headers.add(key, value)
    return headers


class CapturedRequest:
    """A request the upstream received, as openapi-core's Request protocol wants it."""

    def __init__(
        self, host_url: str, method: str, target: str, headers: Headers, path: dict[str, Any], body: bytes
    ) -> None:
        raw_path, _, query = target.partition("?")
        cookies = [
            (key, unquote(value))
            for key, _, value in (p.partition("=") for p in (headers.get("Cookie") or "").split("; ") if "=" in p)
        ]
        self.host_url = host_url
        self.path = raw_path  # matched raw, so an encoded / stays inside its segment
        self.method = method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)),
            header=headers,
            cookie=ImmutableMultiDict(cookies),
            path=path,
        )
        self.body = body or None
        self.content_type = headers.get("Content-Type", "")


def path_values(tool: Tool, base: str, raw_path: str) -> dict[str, Any]:
    """The path parameters of `raw_path`, read against the tool's URL template."""
    template = urlsplit(str((tool.request or {})["url"]).removeprefix(base)).path
    names: list[str] = []

    def group(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"(?P<g{len(names) - 1}>[^/]*)"

    matched = re.fullmatch(re.sub(r"\\\{([^{}]+)\\\}", group, re.escape(template)), raw_path)
    return {} if matched is None else {n: unquote(matched.group(f"g{i}")) for i, n in enumerate(names)}


def formats_and_media(node: Any) -> tuple[set[str], set[str]]:
    """Every `format` and every media type a description (or a part of it) names."""
    formats: set[str] = set()
    media: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if isinstance(item.get("format"), str):
                formats.add(item["format"])
            if isinstance(item.get("content"), dict):
                media.update(str(key) for key in item["content"])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return formats, media


def same(expected: Any, actual: Any, *, added_keys: bool = False) -> bool | None:
    """True/False when comparable; None when openapi-core turned the value into another type (formats).
    `added_keys`: a map may hold keys beyond the expected ones (openapi-core's unmarshalling adds defaults)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual if isinstance(expected, bool) and isinstance(actual, bool) else None
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return bool(expected == actual)
    if type(expected) is not type(actual):
        return None
    if isinstance(expected, list):
        results = [same(e, a, added_keys=added_keys) for e, a in zip(expected, actual, strict=False)]
        return None if None in results else len(expected) == len(actual) and all(results)
    if isinstance(expected, dict):
        if not (set(expected) <= set(actual) if added_keys else set(expected) == set(actual)):
            return False
        results = [same(expected[k], actual[k], added_keys=added_keys) for k in expected]
        return None if None in results else all(results)
    return bool(expected == actual)
