"""A change's path as the plan writes it: the fast way for plain keys writes what the key-by-key way writes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan.model import address, step

keys = st.one_of(
    st.from_regex(r"[A-Za-z0-9_$-]{1,8}", fullmatch=True),
    st.sampled_from(["a.b", "", ".", "app.example.com/tier", "x y", "é", '"', "a..b"]),
    st.text(max_size=6),
)


@given(st.lists(keys, max_size=6))
def test_an_address_quotes_exactly_the_keys_that_are_not_plain_names(path: list[str]) -> None:
    assert address(path) == "".join(step(key, first=index == 0) for index, key in enumerate(path))


def test_a_key_with_a_dot_reads_as_one_key() -> None:
    assert address(["labels", "app.example.com/tier"]) == 'labels["app.example.com/tier"]'
    assert address(["labels", "a.b", "c"]) == 'labels["a.b"].c'
    assert address(["schema", "properties", "sku", "type"]) == "schema.properties.sku.type"
