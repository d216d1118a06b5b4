"""The canonical encoding behind every digest: orjson's fast path writes exactly the standard library's bytes,
so a digest written by an earlier version (in every managed tool's labels) still matches."""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.compile import (
    canonical_bytes,
    canonical_json,
    orjson_as_standard,
    orjson_floats_differ,
    sort_required,
)
from reconciler.load import LocatedDict, LocatedList

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(-1e-3, 1e-3)  # where the two encoders write other text
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@given(JSON)
def test_canonical_bytes_are_the_standard_librarys_text(value: Any) -> None:
    try:
        expected = canonical_json(value).encode()
    except UnicodeEncodeError:  # a lone surrogate: neither encoding takes it
        with pytest.raises(UnicodeEncodeError):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected


@pytest.mark.parametrize(
    "value",
    [1e-05, -1.5e-07, 0.0001, 1e16, 1e300, 5e-324, [True, 1, 1.0], {"b": None, "a": "0.00001 and 1e-5"}, 2**64],
)
def test_the_forms_orjson_writes_otherwise_are_the_standard_librarys(value: Any) -> None:
    assert canonical_bytes({"v": value}) == canonical_json({"v": value}).encode()


@pytest.mark.parametrize("option", [0, orjson.OPT_SORT_KEYS, orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS])
def test_a_null_standing_for_nan_is_never_taken_and_a_real_null_is(option: int) -> None:
    """The one fast path behind canonical_bytes, indented_json and request bodies: orjson writes NaN and the
    infinities as null, wherever they stand (the whole value, a list item, a map value), so such text is not
    the standard library's; a real null, or a string holding ':null', is."""
    for value in (math.nan, [1, math.inf], {"a": [None, -math.inf]}, {"a": {"b": math.nan}}):
        assert orjson_as_standard(value, option) is None
    for value in (None, [None, 1], {"a": None, "b": "x:null, [null"}):
        assert orjson_as_standard(value, option) == orjson.dumps(value, option=option)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_as_before(value: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_bytes({"minimum": value})


def test_sort_required_copies_only_what_it_sorts() -> None:
    ordered = {"type": "object", "properties": {"required": {"type": "string"}}, "required": ["a", "b"]}
    assert sort_required(ordered) is ordered
    unordered = {"allOf": [ordered, {"required": ["b", "a"]}], "properties": ordered["properties"]}
    result = sort_required(unordered)
    assert result == {"allOf": [ordered, {"required": ["a", "b"]}], "properties": ordered["properties"]}
    assert unordered["allOf"][1] == {"required": ["b", "a"]}, "the input is left as it was"
    assert result["properties"] is ordered["properties"]


@pytest.mark.parametrize(
    ("text", "differ"),
    [
        (b'{"v":1.5e-7}', True),
        (b'{"v": [\n    -2e-5\n  ]}', True),
        (b"[0.00001]", True),
        (b"1e-7", True),
        (b'{"id":"0b6f3c2e-123e-4567-8000-00000000000a"}', False),  # a uuid's `123e-4` is inside a word
        (b'{"v":1e+16,"w":"real-time"}', False),
    ],
)
def test_only_a_small_float_is_taken_for_one_orjson_writes_otherwise(text: bytes, differ: bool) -> None:
    assert orjson_floats_differ(text) is differ


def test_sort_required_reads_loaded_documents_and_any_mapping_alike() -> None:
    loaded = LocatedDict()
    loaded["required"] = LocatedList()
    loaded["required"].extend(["b", "a"])
    loaded["properties"] = MappingProxyType({"required": {"required": ["d", "c"]}})
    assert sort_required(loaded) == {"required": ["a", "b"], "properties": {"required": {"required": ["c", "d"]}}}
    in_order = LocatedDict()
    in_order["required"] = ["a"]
    assert sort_required(in_order) is in_order
    assert type(sort_required(MappingProxyType({"type": "object"}))) is dict
