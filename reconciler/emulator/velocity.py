"""Velocity, as Data Actions run it: airspeed (a Python Velocity engine) with the platform's `$esc` tool and
input values that print the way Java prints them.

The platform's templates see Java objects: `true`, not `True`; a list prints as `[a, b]` and a map as `{k=v}`;
`$input.rawRequest` is the whole input as JSON. `JavaValue.wrap` gives airspeed values that behave so.
`$esc` implements what Data Actions templates use (DESIGN §8):

- `uriEncode(s)`: percent-encoding of everything but RFC 3986's unreserved characters, UTF-8 (a space is `%20`,
  `/` is `%2F`);
- `url(s)` (and `urlFormEncode`): Java's `URLEncoder` form encoding (a space is `+`);
- `jsonString(s)`: the inside of a JSON string literal (quotes, backslashes and control characters escaped);
- `d`, `h`, `b`, `q`, `s`, `e`: a dollar, hash, backslash, double quote, single quote and exclamation mark.

Like Velocity's EscapeTool, a method given null returns null (and the reference then prints as written).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

import airspeed


class JavaBoolean:
    """A boolean that prints as Java's (`true`/`false`) and tests as Python's."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return self.value

    def __str__(self) -> str:
        return "true" if self.value else "false"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JavaBoolean):
            return self.value == other.value
        return isinstance(other, bool) and self.value == other

    def __hash__(self) -> int:
        return hash(self.value)


class JavaString(str):
    """A string with Java's `length()` (templates test `"$!{x.length()}"` to tell `""` from null)."""

    def length(self) -> int:
        return len(self)


class JavaList(list[Any]):
    def __str__(self) -> str:
        return "[" + ", ".join(_text(item) for item in self) + "]"


class JavaMap(dict[str, Any]):
    def __str__(self) -> str:
        return "{" + ", ".join(f"{key}={_text(value)}" for key, value in self.items()) + "}"


def _text(value: Any) -> str:
    return "null" if value is None else str(value)


def wrap(value: Any) -> Any:
    """A JSON value as the template sees it."""
    if isinstance(value, bool):
        return JavaBoolean(value)
    if isinstance(value, Mapping):
        return JavaMap({str(key): wrap(item) for key, item in value.items()})
    if isinstance(value, list):
        return JavaList(wrap(item) for item in value)
    if isinstance(value, str):
        return JavaString(value)
    return value


def input_map(inputs: Mapping[str, Any]) -> JavaMap:
    """`$input`: the inputs, and `rawRequest`, the input as JSON."""
    wrapped = wrap(inputs)
    assert isinstance(wrapped, JavaMap)
    wrapped["rawRequest"] = json.dumps(inputs, ensure_ascii=False, separators=(",", ":"))
    return wrapped


class EscapeTool:
    """`$esc`."""

    d, h, b, q, s, e = "$", "#", "\\", '"', "'", "!"

    @staticmethod
    def uriEncode(value: Any) -> str | None:
        return None if value is None else quote(str(value), safe="-_.~")

    @staticmethod
    def url(value: Any) -> str | None:
        return None if value is None else quote_plus(str(value), safe="-_.*")

    urlFormEncode = url

    @staticmethod
    def jsonString(value: Any) -> str | None:
        return None if value is None else json.dumps(str(value), ensure_ascii=False)[1:-1]


@lru_cache(maxsize=512)
def _template(text: str) -> Any:
    return airspeed.Template(text)


class TemplateError(Exception):
    """A template Velocity cannot parse or run."""


def render(template: str, namespace: Mapping[str, Any]) -> str:
    try:
        result = _template(template).merge({"esc": EscapeTool(), **namespace})
    except airspeed.TemplateError as exc:
        raise TemplateError(str(exc)) from None
    return str(result)


__all__ = [
    "EscapeTool",
    "JavaBoolean",
    "JavaList",
    "JavaMap",
    "JavaString",
    "TemplateError",
    "input_map",
    "render",
    "wrap",
]
