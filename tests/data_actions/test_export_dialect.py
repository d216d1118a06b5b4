"""The law behind exporting an action's contract into a tool file: the draft-04 schema the compiler wrote, read
back into draft 2020-12 (`to_2020`), is valid 2020-12 and compiles into the very same draft-04 schema."""

from __future__ import annotations

from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.compile.data_actions.dialect import to_draft04
from reconciler.export_actions import to_2020

numbers = st.integers(-5, 5)
leaves = st.one_of(
    st.fixed_dictionaries({"type": st.just("string")}, optional={"minLength": st.integers(0, 3)}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["number", "integer"])},
        optional={"minimum": numbers, "maximum": numbers, "exclusiveMinimum": numbers, "exclusiveMaximum": numbers},
    ),
    st.builds(lambda value: {"const": value}, st.sampled_from(["a", 1, True])),
    st.builds(lambda f: {"type": "integer", "format": f}, st.sampled_from(["int32", "int64"])),
)


def _nested(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    names = st.sampled_from(["a", "b", "c"])
    return st.one_of(
        st.builds(
            lambda props, deps: {"type": "object", "properties": props, **deps},
            st.dictionaries(names, children, min_size=1, max_size=3),
            st.one_of(
                st.just({}),
                st.builds(lambda n: {"dependentRequired": {n: ["a"]}}, names),
                st.builds(lambda n, s: {"dependentSchemas": {n: s}}, names, children),
            ),
        ),
        st.builds(
            lambda prefix, rest: {"type": "array", "prefixItems": prefix, **rest},
            st.lists(children, min_size=1, max_size=2),
            st.one_of(st.just({}), st.builds(lambda s: {"items": s}, st.booleans() | children)),
        ),
        st.builds(lambda item: {"type": "array", "items": item}, children),
        st.builds(lambda parts: {"anyOf": parts}, st.lists(children, min_size=1, max_size=2)),
        st.builds(lambda inner: {"not": inner}, children),
    )


schemas = st.recursive(leaves, _nested, max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(schemas)
def test_a_contract_read_back_into_a_tool_file_compiles_into_the_same_contract(schema: dict[str, Any]) -> None:
    draft04 = to_draft04(schema, {})
    back = to_2020(draft04)
    jsonschema.Draft202012Validator.check_schema(back)
    assert to_draft04(back, {}) == draft04
