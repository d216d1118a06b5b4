"""The laws the tools target holds, for Data Actions: plan → apply → plan is empty, under injected faults and
after an apply interrupted between the draft steps; updates keep the action's id; unmanaged actions are never
touched; an existing action is adopted by name; an edit in the UI shows as drift."""

from __future__ import annotations

from collections import Counter

import pytest

from reconciler.apply import apply_plan
from reconciler.emulator import EmulatorConfig, run_emulator
from reconciler.errors import ApiError
from reconciler.plan import Plan, PlanOptions, compute_plan
from reconciler.state import DesiredTool

from .conftest import INTEGRATION, Org, make_tool, open_org


def plan_of(org: Org, items: list[DesiredTool]) -> Plan:
    return compute_plan(items, org.target.list(), PlanOptions(), target="t", form=org.target.form)


def converge(org: Org, items: list[DesiredTool], runs: int = 8) -> int:
    """Plan and apply until the plan is empty, as a user reruns a failed apply; the number of applies."""
    for count in range(runs):
        try:
            plan = plan_of(org, items)
            if plan.is_empty:
                return count
            apply_plan(plan, org.target)
        except ApiError:
            continue  # a listing that ran out of retries: run again
    raise AssertionError(f"no empty plan after {runs} runs")


def test_create_update_delete_and_the_id_stays(org: Org) -> None:
    assert converge(org, [make_tool()]) == 1
    [created] = org.emulator.actions.actions()
    assert converge(org, [make_tool(description="Checks stock levels.")]) == 1
    [updated] = org.emulator.actions.actions()
    assert updated["id"] == created["id"]
    assert updated["version"] == created["version"] + 1
    assert updated["contract"]["input"]["inputSchema"]["description"] == "Checks stock levels."
    assert org.emulator.actions.drafts() == []
    assert converge(org, []) == 1
    assert org.emulator.actions.actions() == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_plan_apply_plan_converges_under_faults(seed: int) -> None:
    config = EmulatorConfig(fault_429=0.1, fault_5xx=0.1, fault_drop_after_commit=0.2, seed=seed)
    with run_emulator(config) as emulator, open_org(emulator) as org:
        first = [make_tool(f"tool_{i}") for i in range(6)]
        converge(org, first)
        second = [make_tool(f"tool_{i}", f"Changed {i}.") for i in range(4)] + [make_tool("tool_new")]
        converge(org, second)
        emulator.faults.clear()
        actions = emulator.actions.actions()
        assert Counter(a["name"] for a in actions) == Counter(d.tool.name for d in second)  # no duplicates
        assert emulator.actions.drafts() == []
        assert plan_of(org, second).is_empty


def test_an_update_interrupted_between_the_draft_steps_is_finished_next_run(org: Org) -> None:
    converge(org, [make_tool()])
    [action] = org.emulator.actions.actions()
    # an apply that died after patching the draft, before publishing it
    draft = org.client.create_draft(action["id"])
    changed = make_tool(description="Checks stock levels.")
    wanted = org.target.form.desired(changed, None, "reconciler").content
    body = {k: v for k, v in wanted.items() if k != "integrationId"}
    org.client.patch_draft(action["id"], {**body, "version": draft["version"]})
    [record] = org.target.list()
    assert record.draft

    plan = plan_of(org, [changed])
    assert [c.action for c in plan.changes] == ["update"]
    assert plan.warnings == (
        "action 'check_inventory' has an unpublished draft (an apply that was interrupted, or an edit in the UI); "
        "this apply replaces it",
    )
    assert not apply_plan(plan, org.target).failed
    assert org.emulator.actions.drafts() == []
    [after] = org.emulator.actions.actions()
    assert (after["id"], after["version"]) == (action["id"], action["version"] + 1)
    assert plan_of(org, [changed]).is_empty
    assert plan_of(org, [changed]).warnings == ()


@pytest.mark.parametrize("lost", ["draft", "patch", "publish"])
def test_a_lost_answer_during_the_draft_steps_is_looked_up_not_repeated_blindly(org: Org, lost: str) -> None:
    converge(org, [make_tool()])
    # the draft is a POST, the patch a PATCH, the publish the second POST: lose the answer of the chosen one
    if lost == "draft":
        org.emulator.faults.inject("drop_after_commit", methods=("POST",))
    elif lost == "patch":
        org.emulator.faults.inject("drop_after_commit", methods=("PATCH",))
    changed = [make_tool(description="Checks stock levels.")]
    plan = plan_of(org, changed)
    if lost == "publish":
        org.client.create_draft(plan.changes[0].id or "")  # the draft exists: the adapter's POST meets 409
        org.emulator.faults.inject("drop_after_commit", methods=("POST",))
    report = apply_plan(plan, org.target)
    assert [o.status for o in report.outcomes] == ["ok"], report.outcomes
    assert org.emulator.stats.dropped_connections == 1
    assert org.emulator.actions.drafts() == []
    assert len(org.emulator.actions.actions()) == 1
    assert plan_of(org, changed).is_empty


def test_a_draft_that_could_not_be_written_is_not_published(org: Org) -> None:
    """Every PATCH of the draft lost (the connection closed before it was processed): the apply published the
    draft as it was (the old content, one version up) and reported the update done."""
    converge(org, [make_tool()])
    [before] = org.emulator.actions.actions()
    changed = [make_tool(description="Checks stock levels.")]
    plan = plan_of(org, changed)
    org.emulator.faults.inject("drop", methods=("PATCH",), times=10)
    report = apply_plan(plan, org.target)
    [outcome] = report.outcomes
    assert outcome.status == "failed" and "run apply again" in str(outcome.error)
    assert org.emulator.actions.actions() == [before]  # nothing published
    org.emulator.faults.clear()
    assert [c.action for c in plan_of(org, changed).changes] == ["update"]
    assert not apply_plan(plan_of(org, changed), org.target).failed
    assert plan_of(org, changed).is_empty


def test_unmanaged_actions_are_never_touched_and_one_is_adopted_by_name(org: Org) -> None:
    other = org.emulator.actions.add_integration("Someone else's")
    contract = {"input": {"inputSchema": {"type": "object"}}, "output": {"successSchema": {"type": "object"}}}
    request = {"requestType": "GET", "requestUrlTemplate": "https://x.example.com"}
    mine = {"integrationId": org.integration_id, "category": INTEGRATION, "contract": contract,
            "config": {"request": request}}  # fmt: skip
    untouched = [
        org.emulator.actions.put_raw({**mine, "name": "handmade"}),
        org.emulator.actions.put_raw({**mine, "name": "check_inventory", "integrationId": other["id"]}),
    ]
    adoptable = org.emulator.actions.put_raw({**mine, "name": "check_inventory"})

    plan = plan_of(org, [make_tool()])
    assert [(c.action, c.id) for c in plan.changes] == [("adopt", adoptable["id"])]
    assert plan.unmanaged == 1  # `handmade`; the other integration's action is not this target's at all
    converge(org, [make_tool()])
    for before in untouched:
        assert org.emulator.actions.action(before["id"]) == before
    adopted = org.emulator.actions.action(adoptable["id"])
    assert adopted is not None and adopted["contract"]["input"]["inputSchema"]["id"].startswith("urn:reconciler:")
    assert plan_of(org, [make_tool()]).is_empty


def test_an_edit_in_the_ui_is_drift_apart_from_changes_in_git(org: Org) -> None:
    converge(org, [make_tool(), make_tool("track_order")])
    edited = next(a for a in org.emulator.actions.actions() if a["name"] == "check_inventory")
    edited = {**edited, "config": {**edited["config"], "timeoutSeconds": 30}}
    org.emulator.actions.put_raw(edited)
    plan = plan_of(org, [make_tool(), make_tool("track_order", "Tracks orders.")])
    by_name = {c.name: c for c in plan.changes}
    assert by_name["check_inventory"].drift and "edited outside" in by_name["check_inventory"].reason
    assert [f.path for f in by_name["check_inventory"].fields] == ["config.timeoutSeconds"]
    assert not by_name["track_order"].drift and by_name["track_order"].reason == "changed in tools.d"
