"""OpenAPI parameter serialization: a value → the text of a path segment, query pairs, a header or a cookie.

Styles as OpenAPI 3.x defines them (path `simple`/`label`/`matrix`, query `form`/`spaceDelimited`/
`pipeDelimited`/`deepObject`, header `simple`, cookie `form`), and Swagger 2.0's `collectionFormat`
(`csv`, `ssv`, `tsv`, `pipes`, `multi`). Defaults: path and header `simple`, query and cookie `form`, with
`explode` true for `form` only; a Swagger 2.0 array without `collectionFormat` is `csv` (the compiler writes it).

Every value is percent-encoded where it lands and the delimiters the style adds are not, so `a,b` inside an
element stays `a%2Cb` in a path or a query and cannot pass for two elements. Scalars are written as JSON writes
them (`true`, `1.5`), strings as they are.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

_COLLECTION_DELIMITERS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}
_STYLE_DELIMITERS = {"form": ",", "simple": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


def scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def encode(text: str) -> str:
    """Percent-encoding of everything but the unreserved characters (RFC 3986 §2.3)."""
    return quote(text, safe="")


def _style(binding: dict[str, Any], location: str) -> tuple[str, bool]:
    fmt = binding.get("collectionFormat")
    if isinstance(fmt, str):
        if fmt == "multi":
            return "form", True
        return {"ssv": "spaceDelimited", "pipes": "pipeDelimited", "tsv": "tabDelimited"}.get(fmt, "form"), False
    default = "simple" if location in ("path", "header") else "form"
    written = binding.get("style")
    style = written if isinstance(written, str) else default
    explode = binding.get("explode")
    return style, explode if isinstance(explode, bool) else style == "form"


def _delimiter(binding: dict[str, Any], style: str) -> str:
    fmt = binding.get("collectionFormat")
    if isinstance(fmt, str) and fmt in _COLLECTION_DELIMITERS:
        return _COLLECTION_DELIMITERS[fmt]
    return _STYLE_DELIMITERS.get(style, ",")


def collection_field(value: Any, binding: dict[str, Any]) -> Any:
    """A Swagger 2.0 `formData` array as the one field its `collectionFormat` makes of it (`a,b` for `csv`,
    `1|2` for `pipes`); `multi`, and a value of any other parameter, stays as it is: one field per item. A form
    field's value is encoded whole where it lands, so (as Swagger 2.0 defines it) nothing escapes a delimiter
    inside an item."""
    fmt = binding.get("collectionFormat")
    if isinstance(value, list) and isinstance(fmt, str) and fmt in _COLLECTION_DELIMITERS:
        return _COLLECTION_DELIMITERS[fmt].join(scalar(item) for item in value)
    return value


def _flat(value: dict[str, Any], join: str, pair: str, enc: Any) -> str:
    if pair == ",":
        return join.join(f"{enc(key)},{enc(scalar(item))}" for key, item in value.items())
    return join.join(f"{enc(key)}{pair}{enc(scalar(item))}" for key, item in value.items())


def path_segment(name: str, value: Any, binding: dict[str, Any]) -> str:
    """The text that replaces `{name}` in the URL template, percent-encoded (`/` cannot split a segment)."""
    style, explode = _style(binding, "path")
    if style == "label":
        prefix, join = ".", "." if explode else ","
        if isinstance(value, list):
            return prefix + join.join(encode(scalar(item)) for item in value)
        if isinstance(value, dict):
            return prefix + _flat(value, join, "=" if explode else ",", encode)
        return prefix + encode(scalar(value))
    if style == "matrix":
        key = encode(name)
        if isinstance(value, list):
            if explode:
                return "".join(f";{key}={encode(scalar(item))}" for item in value)
            return f";{key}=" + ",".join(encode(scalar(item)) for item in value)
        if isinstance(value, dict):
            if explode:
                return "".join(f";{encode(k)}={encode(scalar(item))}" for k, item in value.items())
            return f";{key}=" + _flat(value, ",", ",", encode)
        return f";{key}={encode(scalar(value))}"
    if isinstance(value, list):
        return ",".join(encode(scalar(item)) for item in value)
    if isinstance(value, dict):
        return _flat(value, ",", "=" if explode else ",", encode)
    return encode(scalar(value))


def query_pairs(name: str, value: Any, binding: dict[str, Any]) -> list[str]:
    """`key=value` pieces of the query string, each percent-encoded, in order."""
    if isinstance(value, (list, dict)) and not value:
        return []  # an empty list or object is undefined in RFC 6570: the parameter is left out
    style, explode = _style(binding, "query")
    key = encode(name)
    if style == "deepObject" and isinstance(value, dict):
        return [f"{encode(f'{name}[{k}]')}={encode(scalar(item))}" for k, item in value.items()]
    if isinstance(value, list):
        if explode:
            return [f"{key}={encode(scalar(item))}" for item in value]
        delimiter = encode(_delimiter(binding, style)) if style != "form" else ","
        return [f"{key}=" + delimiter.join(encode(scalar(item)) for item in value)]
    if isinstance(value, dict):
        if explode:
            return [f"{encode(k)}={encode(scalar(item))}" for k, item in value.items()]
        delimiter = encode(_delimiter(binding, style)) if style != "form" else ","  # `R%20100%20G%20200`
        return [f"{key}=" + _flat(value, delimiter, delimiter, encode)]
    return [f"{key}={encode(scalar(value))}"]


def header_value(value: Any, binding: dict[str, Any]) -> str:
    """`simple` style, not encoded: a header carries text as it is (the caller refuses what it cannot carry)."""
    _, explode = _style(binding, "header")
    if isinstance(value, list):
        return ",".join(scalar(item) for item in value)
    if isinstance(value, dict):
        return _flat(value, ",", "=" if explode else ",", str)
    return scalar(value)


def cookie_pairs(name: str, value: Any, binding: dict[str, Any]) -> list[str]:
    """`name=value` pieces of the Cookie header; values and an object's keys percent-encoded (a `;` or a space
    cannot end them)."""
    if isinstance(value, (list, dict)) and not value:
        return []
    _, explode = _style(binding, "cookie")
    if isinstance(value, list):
        if explode:
            return [f"{name}={encode(scalar(item))}" for item in value]
        return [f"{name}=" + ",".join(encode(scalar(item)) for item in value)]
    if isinstance(value, dict):
        if explode:
            # each key names a cookie: encoded like the values, so `; admin` or a line break stays in its name
            return [f"{encode(k)}={encode(scalar(item))}" for k, item in value.items()]
        return [f"{name}=" + _flat(value, ",", ",", encode)]
    return [f"{name}={encode(scalar(value))}"]


__all__ = ["cookie_pairs", "encode", "header_value", "path_segment", "query_pairs", "scalar"]
