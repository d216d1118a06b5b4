"""render's encoder: orjson where it can, the standard library where orjson refuses, the same text either way."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconciler.cli.render import encode

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text() | st.floats(0.5, 1e6, allow_nan=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)


def standard(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@given(JSON)
def test_the_fast_encoder_writes_what_the_standard_library_writes(value: Any) -> None:
    assert encode(value) == standard(value)


def test_what_orjson_refuses_goes_to_the_standard_library() -> None:
    for value in ({"big": 2**70}, {"s": "\ud800 lone surrogate"}):
        assert encode(value) == standard(value)
