"""The diff, as a pure function of desired tools and a live list."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.compile import DIGEST_LABEL, OWNER_LABEL, digest
from reconciler.errors import PlanError
from reconciler.model import RateLimit, SourceLocation, Tool
from reconciler.plan import (
    MISSING,
    DesiredTool,
    FieldChange,
    PlanOptions,
    check_mass_delete,
    compute_plan,
    desired_payload,
)
from reconciler.state import TOOLS_FORM

OPTIONS = PlanOptions()


def tool(name: str = "check_inventory", **changes: Any) -> DesiredTool:
    fields: dict[str, Any] = {
        "name": name,
        "description": "Checks stock.",
        "endpoint": "https://tools.example.com/inventory",
        "schema": {
            "type": "object",
            "properties": {"sku": {"type": "string", "description": "SKU"}, "site": {"type": "string"}},
            "required": ["sku", "site"],
        },
        "location": SourceLocation("tools.d/a.yaml"),
    }
    fields.update(changes)
    return DesiredTool(Tool(**fields), "tools.d/a.yaml")


def live_from(desired: DesiredTool, *, version: int = 1, tool_id: str | None = None, **edits: Any) -> dict[str, Any]:
    """What the server holds after the reconciler wrote `desired`, then someone applied `edits`."""
    payload = desired_payload(desired, None, "reconciler")
    payload.update(edits)
    return {
        **payload,
        "id": tool_id or f"id-{desired.tool.name}",
        "version": version,
        "status": "active",
        "dateCreated": "2026-01-01T00:00:00Z",
        "dateModified": "2026-01-02T00:00:00Z",
        "selfUri": f"/api/v2/ai/assistant/tools/id-{desired.tool.name}",
    }


def plan(desired: list[DesiredTool], live: list[dict[str, Any]], options: PlanOptions = OPTIONS):  # type: ignore[no-untyped-def]
    return compute_plan(desired, [TOOLS_FORM.parse(raw, host="test") for raw in live], options, target="test")


def test_a_new_tool_is_created_with_ownership_labels() -> None:
    result = plan([tool()], [])
    [change] = result.changes
    assert change.action == "create"
    assert change.after is not None
    labels = change.after["labels"]
    assert labels[OWNER_LABEL] == "reconciler"
    assert labels["reconciler-source"] == "tools.d/a.yaml"
    assert labels[DIGEST_LABEL] == digest(change.after)
    assert result.summary == {
        "create": 1,
        "update": 0,
        "delete": 0,
        "adopt": 0,
        "kept": 0,
        "unchanged": 0,
        "unmanaged": 0,
    }


def test_what_the_server_adds_is_not_a_change() -> None:
    desired = tool()
    result = plan([desired], [live_from(desired, version=7)])
    assert result.is_empty
    assert result.unchanged == 1


def test_required_order_is_ignored_but_enum_order_is_not() -> None:
    desired = tool()
    reordered = live_from(desired)
    reordered["schema"] = {**reordered["schema"], "required": ["site", "sku"]}
    assert plan([desired], [reordered]).is_empty

    with_enum = tool(schema={"type": "object", "properties": {"size": {"type": "string", "enum": ["s", "m"]}}})
    live = live_from(with_enum)
    live["schema"] = {**live["schema"], "properties": {"size": {"type": "string", "enum": ["m", "s"]}}}
    [change] = plan([with_enum], [live]).changes
    assert change.fields == (FieldChange("schema.properties.size.enum", ["m", "s"], ["s", "m"]),)


def test_a_change_in_git_is_an_update_without_drift() -> None:
    old = tool()
    new = tool(description="Checks real-time stock.")
    [change] = plan([new], [live_from(old, version=3)]).changes
    assert change.action == "update"
    assert change.drift is False
    assert change.live_version == 3
    paths = [f.path for f in change.fields]
    assert paths == ["description", f"labels.{DIGEST_LABEL}"]
    assert change.fields[0] == FieldChange("description", "Checks stock.", "Checks real-time stock.")
    assert change.unchanged_fields > 0


def test_an_edit_outside_git_is_drift() -> None:
    desired = tool()
    edited = live_from(desired, description="Edited in the admin UI.")
    [change] = plan([desired], [edited]).changes
    assert change.drift is True
    assert change.fields[0] == FieldChange("description", "Edited in the admin UI.", "Checks stock.")


def test_fields_left_unset_keep_the_server_value() -> None:
    desired = tool()
    live = live_from(desired, rateLimit={"requestsPerMinute": 30})
    live["labels"] = {**live["labels"], DIGEST_LABEL: digest(live)}
    result = plan([desired], [live])
    assert result.is_empty
    assert desired_payload(desired, live, "reconciler")["rateLimit"] == {"requestsPerMinute": 30}


def test_partial_rate_limit_merges_with_the_live_one() -> None:
    desired = tool(rate_limit=RateLimit(requests_per_minute=60))
    live = live_from(tool(), rateLimit={"requestsPerMinute": 30, "burstSize": 5})
    [change] = plan([desired], [live]).changes
    assert [f for f in change.fields if f.path.startswith("rateLimit")] == [
        FieldChange("rateLimit.requestsPerMinute", 30, 60)
    ]


def test_ignore_changes_keeps_the_live_value() -> None:
    desired = tool(description="From git.", ignore_changes=("description",))
    live = live_from(tool(ignore_changes=("description",)), description="Tuned by the ops team.")  # in the UI
    assert plan([desired], [live]).is_empty


def test_an_unmanaged_tool_of_a_desired_name_is_adopted_never_duplicated() -> None:
    desired = tool()
    unmanaged = live_from(desired, version=4)
    unmanaged["labels"] = {"team": "legacy"}
    other = {**live_from(tool("someone_elses")), "labels": {}}
    result = plan([desired], [unmanaged, other])
    [change] = result.changes
    assert change.action == "adopt"
    assert change.id == "id-check_inventory"
    assert change.live_version == 4
    assert result.unmanaged == 1
    assert result.summary["adopt"] == 1


def test_a_tool_owned_by_another_repository_is_refused() -> None:
    desired = tool()
    foreign = live_from(desired)
    foreign["labels"] = {**foreign["labels"], OWNER_LABEL: "other-repo"}
    with pytest.raises(PlanError, match="managed by 'other-repo'"):
        plan([desired], [foreign])


def test_a_managed_tool_gone_from_tools_d_is_deleted_with_a_reason() -> None:
    kept, gone = tool("kept"), tool("gone")
    result = plan([kept], [live_from(kept), live_from(gone, version=2)])
    [change] = result.changes
    assert (change.action, change.name, change.reason, change.live_version) == (
        "delete",
        "gone",
        "no longer in tools.d",
        2,
    )


def test_protected_and_unpruned_tools_are_kept() -> None:
    protected = tool("precious", protected=True)
    plain = tool("plain")
    live = [live_from(protected), live_from(plain)]
    result = plan([], live)
    assert [(c.name, c.action) for c in result.changes] == [("plain", "delete"), ("precious", "keep")]
    assert "protected" in result.changes[1].reason
    no_prune = plan([], live, PlanOptions(prune=False))
    assert {c.action for c in no_prune.changes} == {"keep"}
    assert no_prune.is_empty


def test_tool_filter_limits_the_plan() -> None:
    a, b = tool("a"), tool("b")
    result = plan([a, b], [], PlanOptions(only=frozenset({"b"})))
    assert [c.name for c in result.changes] == ["b"]


def test_creates_and_updates_come_before_deletes() -> None:
    gone, changed, new = tool("gone"), tool("changed"), tool("new")
    result = plan([tool("changed", description="x"), new], [live_from(gone), live_from(changed)])
    assert [c.action for c in result.changes] == ["create", "update", "delete"]


@pytest.mark.parametrize(("managed", "deletes", "refused"), [(4, 1, False), (4, 2, True), (1, 1, True), (8, 2, False)])
def test_mass_delete_guard(managed: int, deletes: int, refused: bool) -> None:
    tools = [tool(f"t{i}") for i in range(managed)]
    result = plan(tools[deletes:], [live_from(t) for t in tools])
    assert result.count("delete") == deletes
    if refused:
        with pytest.raises(PlanError, match="--allow-mass-delete"):
            check_mass_delete(result, 0.25, allowed=False)
    else:
        check_mass_delete(result, 0.25, allowed=False)
    check_mass_delete(result, 0.25, allowed=True)


def test_removed_field_is_reported_as_missing_after() -> None:
    desired = tool(labels={})
    live = live_from(tool(labels={"team": "commerce"}))
    [change] = plan([desired], [live]).changes
    removed = [f for f in change.fields if f.path == "labels.team"]
    assert removed == [FieldChange("labels.team", "commerce", MISSING)]
    assert removed[0].kind == "remove"


_TYPES = ["string", "number", "integer", "boolean", "array", "object", "null"]


@st.composite
def _typed_schemas(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An object schema whose properties (and their items) have `type` lists, and the same schema with each
    list in another order."""
    properties, shuffled = {}, {}
    for index in range(draw(st.integers(1, 4))):
        types = draw(st.lists(st.sampled_from(_TYPES), min_size=1, max_size=4, unique=True))
        inner = draw(st.lists(st.sampled_from(_TYPES), min_size=1, max_size=3, unique=True))
        properties[f"p{index}"] = {"type": types, "items": {"type": inner}}
        shuffled[f"p{index}"] = {"type": draw(st.permutations(types)), "items": {"type": draw(st.permutations(inner))}}
    return {"type": "object", "properties": properties}, {"type": "object", "properties": shuffled}


@given(_typed_schemas())
def test_the_order_of_a_type_list_is_never_a_change(schemas: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Law: a `type` list names a set; written in any order, what the registry holds is no change to make."""
    written, reordered = schemas
    live = live_from(tool(schema=written))
    assert plan([tool(schema=reordered)], [live]).changes == ()
    assert plan([tool(schema=written)], [live]).changes == ()


def test_a_type_list_of_other_names_is_a_change() -> None:
    live = live_from(tool(schema={"type": "object", "properties": {"a": {"type": ["string", "null"]}}}))
    [change] = plan(
        [tool(schema={"type": "object", "properties": {"a": {"type": ["null", "integer"]}}})], [live]
    ).changes
    assert "schema.properties.a.type" in [f.path for f in change.fields]


def test_a_type_list_is_taken_in_live_order_beside_a_value_orjson_cannot_write() -> None:
    """The reorder first asks orjson whether a payload holds a type list at all; an integer past 64 bits (a
    `maximum` written out in full) makes orjson refuse, and the walk must still decide."""
    from reconciler.state.form import in_live_order

    desired = {"properties": {"n": {"type": ["null", "integer"], "maximum": 10**30}}}
    live = {"properties": {"n": {"type": ["integer", "null"], "maximum": 10**30}}, "description": "d"}
    assert in_live_order(desired, live) == {"properties": {"n": {"type": ["integer", "null"], "maximum": 10**30}}}
    plain = {"properties": {"n": {"type": "integer"}}}
    assert in_live_order(plain, live) is plain  # nothing to reorder: the payload itself, not a copy
