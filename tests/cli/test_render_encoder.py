"""The indented JSON writer behind render, plan --format json and saved plans: orjson where it writes the same
bytes, the standard library otherwise; the text is the standard library's either way."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.cli.render import encode
from reconciler.compile import indented_json

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-7, 1.5e-05, -2.5e-10, 0.0001, 1e16, 1e-4]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)


def standard(value: Any, ensure_ascii: bool = False) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=ensure_ascii)


@given(JSON)
def test_the_fast_encoder_writes_what_the_standard_library_writes(value: Any) -> None:
    assert encode(value) == standard(value)


@given(JSON)
def test_the_ascii_form_saved_plans_use_is_the_standard_librarys(value: Any) -> None:
    text = indented_json(value, ensure_ascii=True)
    assert text == standard(value, ensure_ascii=True)
    assert text.isascii()


def test_what_orjson_refuses_or_writes_otherwise_goes_to_the_standard_library() -> None:
    for value in (
        {"big": 2**70},
        {"s": "\ud800 lone surrogate"},
        {"small": 1.5e-7},
        {"é": "ü"},
        {"del": "\x7f"},
        {1: "int key"},
    ):
        assert encode(value) == standard(value)
        assert indented_json(value, ensure_ascii=True) == standard(value, ensure_ascii=True)


def test_nan_is_written_as_the_standard_library_does_or_refused_when_asked() -> None:
    assert encode({"x": math.nan}) == standard({"x": math.nan})  # orjson alone would write null
    with pytest.raises(ValueError, match="Out of range float"):
        indented_json({"x": math.inf}, allow_nan=False)
