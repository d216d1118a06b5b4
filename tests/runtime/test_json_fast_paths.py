"""The runtime reads and writes JSON by orjson where it gives what the standard library gives (jsonread.py,
binding._json): the same values and the same bytes, for any JSON value."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.runtime.binding import _json
from reconciler.runtime.core import _host_port
from reconciler.runtime.jsonread import read_json

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=300)
@given(VALUES)
def test_reading_gives_what_json_loads_gives(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert _same(read_json(text), json.loads(text))


@settings(max_examples=300)
@given(VALUES)
def test_a_json_body_is_the_bytes_json_dumps_writes(value: Any) -> None:
    try:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 body can carry it, either way
        with pytest.raises(UnicodeEncodeError):
            _json(value)
        return
    assert _json(value) == expected


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://a.com", "a.com:80"),
        ("http://a.con", "a.con:80"),  # a prefix of the other's origin: keys must not be shared
        ("http://a.com/x?y=1", "a.com:80"),
        ("https://a.com:8443/x?y=/z", "a.com:8443"),
        ("http://a.com?r=/x", "a.com:80"),
        ("http://u:p@b.org:81/", "b.org:81"),
        ("http://[::1]:9/x", "::1:9"),
    ],
)
def test_the_breakers_key_is_the_host_and_port(url: str, key: str) -> None:
    assert (_host_port(url), _host_port(url)) == (key, key)  # the second from the memo


def _json_like_bytes() -> st.SearchStrategy[bytes]:
    """JSON, broken JSON and bytes: valid texts with a piece cut out or put in, and the usual suspects."""
    valid = VALUES.map(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    pieces = st.sampled_from(
        [b"NaN", b"Infinity", b"-Infinity", b"\\ud800", b"\xed\xa0\x80", b"1e400", b"\x00", b"\xef\xbb\xbf", b"{"]
    )

    def spliced(draw: Any) -> bytes:
        text = draw(valid)
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        return text[:at] + draw(pieces | st.binary(max_size=3)) + text[at + cut :]

    return valid | st.composite(spliced)() | st.binary(max_size=40) | pieces


@settings(max_examples=1000)
@given(_json_like_bytes())
def test_reading_anything_gives_what_json_loads_gives_or_refuses_it_too(data: bytes) -> None:
    try:
        expected = json.loads(data)
    except (ValueError, RecursionError):
        with pytest.raises((ValueError, RecursionError)):
            read_json(data)
        return
    assert _same(read_json(data), expected)
