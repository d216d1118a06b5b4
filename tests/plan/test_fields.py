"""The field differ: dotted paths of what changed, whole lists, order kept where JSON Schema gives it meaning."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconciler.compile import canonical_json
from reconciler.plan.fields import field_changes
from reconciler.plan.model import MISSING, FieldChange

SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "string", "enum": ["x", "y"]}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}


def payload(**changes: Any) -> dict[str, Any]:
    return {"name": "t", "description": "Does it.", "schema": copy.deepcopy(SCHEMA), **changes}


def test_the_same_payload_has_no_changes_and_counts_its_leaves() -> None:
    assert field_changes(payload(), payload()) == ((), 7)


def test_required_order_is_no_change_enum_order_is_a_change_of_the_whole_list() -> None:
    reordered = payload()
    reordered["schema"]["required"] = ["b", "a"]
    assert field_changes(payload(), reordered)[0] == ()
    nested = [payload(), payload()]
    for item, order in zip(nested, (["a", "b"], ["b", "a"]), strict=True):
        item["schema"]["anyOf"] = [{"required": order}]
    assert field_changes(*nested)[0] == ()
    named = [payload(), payload()]  # a property named `required` is no keyword: its order counts
    for item, order in zip(named, (["a", "b"], ["b", "a"]), strict=True):
        item["schema"]["properties"]["required"] = {"enum": order}
    assert [c.path for c in field_changes(*named)[0]] == ["schema.properties.required.enum"]
    outside = [payload(labels={"required": "x"}), payload(labels={"required": "y"})]
    assert [c.path for c in field_changes(*outside)[0]] == ["labels.required"]
    swapped = payload()
    swapped["schema"]["properties"]["a"]["enum"] = ["y", "x"]
    assert field_changes(payload(), swapped) == (
        (FieldChange("schema.properties.a.enum", ["x", "y"], ["y", "x"]),),
        6,
    )


def test_added_removed_and_retyped_fields_each_have_their_path() -> None:
    after = payload(labels={"team": "a"})
    del after["description"]
    after["schema"]["properties"]["b"]["type"] = "number"
    assert field_changes(payload(), after)[0] == (
        FieldChange("description", "Does it.", MISSING),
        FieldChange("labels", MISSING, {"team": "a"}),
        FieldChange("schema.properties.b.type", "integer", "number"),
    )


def test_true_is_not_one_and_one_is_not_one_point_zero() -> None:
    assert field_changes({"x": 1}, {"x": True})[0] == (FieldChange("x", 1, True),)
    assert field_changes({"x": [1]}, {"x": [1.0]})[0] == (FieldChange("x", [1], [1.0]),)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["a", "b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("pqr"), inner, max_size=3),
    max_leaves=8,
)
PAYLOADS = st.dictionaries(st.sampled_from(["name", "labels", "context", "rateLimit"]), JSON, max_size=4)


@given(PAYLOADS, PAYLOADS)
def test_applying_the_changes_to_before_gives_after(before: dict[str, Any], after: dict[str, Any]) -> None:
    changes, unchanged = field_changes(before, after)
    result = copy.deepcopy(before)
    for change in changes:
        *parents, last = change.path.split(".")
        holder = result
        for part in parents:
            holder = holder[part]
        if change.after is MISSING:
            del holder[last]
        else:
            holder[last] = copy.deepcopy(change.after)
    assert result == after
    assert [c.path for c in changes] == sorted(c.path for c in changes)
    assert (changes == ()) == (canonical_json(before) == canonical_json(after))
    leaves = list(_leaves(after, ()))
    changed = [tuple(c.path.split(".")) for c in changes]
    covered = [leaf for leaf in leaves if leaf and any(c[: len(leaf)] == leaf or leaf[: len(c)] == c for c in changed)]
    assert unchanged == len(leaves) - len(covered)


def _leaves(value: Any, prefix: tuple[str, ...]) -> Any:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from _leaves(inner, (*prefix, key))
    else:
        yield prefix
