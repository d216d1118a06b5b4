from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan.model import MISSING, Change, FieldChange, Plan
from reconciler.plan.render import plan_to_json, render_json
from reconciler.plan.render._shared import printable_json

CHANGE_KEYS = {"action", "name", "id", "drift", "reason", "before", "after", "fields"}
SUMMARY_KEYS = {"create", "update", "delete", "adopt", "kept", "unchanged", "unmanaged"}


def test_the_document_has_the_documented_keys(plans: dict[str, Plan]) -> None:
    document = json.loads(render_json(plans["full"]))
    assert set(document) == {"format_version", "target", "summary", "changes", "warnings"}
    assert document["format_version"] == 1
    assert document["target"] == plans["full"].target
    assert set(document["summary"]) == SUMMARY_KEYS
    assert document["summary"] == plans["full"].summary
    assert [c["action"] for c in document["changes"]] == ["create", "adopt", "update", "update", "delete", "keep"]
    for change in document["changes"]:
        assert set(change) == CHANGE_KEYS
        for field in change["fields"]:
            assert set(field) == {"path", "kind", "before", "after"}
    assert document["warnings"] == list(plans["full"].warnings)


def test_missing_becomes_null_and_kind_tells_it_from_a_null_value() -> None:
    fields = (FieldChange("a", MISSING, 1), FieldChange("b", 2, MISSING), FieldChange("c", None, 3))
    plan = Plan(changes=(Change(action="update", name="t", id="1", fields=fields),), target="t")
    assert plan_to_json(plan)["changes"][0]["fields"] == [
        {"path": "a", "kind": "add", "before": None, "after": 1},
        {"path": "b", "kind": "remove", "before": 2, "after": None},
        {"path": "c", "kind": "change", "before": None, "after": 3},
    ]


def test_output_is_sorted_indented_and_ends_in_a_newline(plans: dict[str, Plan]) -> None:
    text = render_json(plans["full"])
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert json.loads(text) == plan_to_json(plans["full"])


def test_plan_to_json_shares_nothing_with_the_plan(plans: dict[str, Plan]) -> None:
    plan = plans["full"]
    document = plan_to_json(plan)
    document["changes"][0]["after"]["labels"]["team"] = "changed"
    assert plan.changes[0].after is not None
    assert plan.changes[0].after["labels"]["team"] == "commerce"


def test_unsafe_characters_are_escaped_but_the_value_survives() -> None:
    name = "a\u202eb\x9bc\x1bd"
    text = render_json(Plan(changes=(Change(action="create", name=name),), target="t"))
    assert "\u202e" not in text
    assert "\x9b" not in text
    assert "\x1b" not in text
    assert json.loads(text)["changes"][0]["name"] == name


VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(-1e-3, 1e-3)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


@given(VALUES)
def test_the_json_plan_is_the_standard_librarys_text(after: Any) -> None:
    """Whichever encoder writes it, the document's bytes are those of json.dumps (sorted keys, indent 2)."""
    plan = Plan(changes=(Change(action="create", name="t", after={"v": after}),), target="t")
    expected = json.dumps(plan_to_json(plan), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    assert render_json(plan) == printable_json(expected) + "\n"


def test_nan_in_a_plan_is_refused_as_before() -> None:
    plan = Plan(changes=(Change(action="create", name="t", after={"minimum": math.nan}),), target="t")
    with pytest.raises(ValueError, match="JSON compliant"):
        render_json(plan)
