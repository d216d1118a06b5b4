"""A value in a plan row is its JSON one-liner, whichever encoder writes it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan.render._shared import encode, printable


@given(st.text() | st.integers(-(2**80), 2**80) | st.booleans() | st.none() | st.floats(allow_nan=False))
def test_a_value_reads_as_the_standard_librarys_json_made_printable(value: Any) -> None:
    written = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str)
    assert encode(value) == printable(written)


def test_a_lone_surrogate_and_nested_values_keep_their_form() -> None:
    assert encode("a\ud800b") == '"a\ud800b"'
    assert encode({"b": [1, "x\n"], "a": True}) == '{"a": true, "b": [1, "x\\n"]}'
    assert encode("tab\there \u202e") == '"tab\\there \\u202e"'
