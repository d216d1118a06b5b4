"""The law, for any desired set and any starting integration: plan → apply → plan is empty, the second apply
sends nothing, every desired action exists once, unmanaged actions are left exactly as they were, and each
action that was updated kept its id. Under injected faults (429, 5xx, answers lost after the write), re-running
apply converges to the same end, with no action twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply import apply_plan
from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
from reconciler.errors import ApiError
from reconciler.model import SourceLocation, Tool
from reconciler.plan import PlanOptions, compute_plan
from reconciler.state import DesiredTool

from .conftest import Org, open_org

NAMES = [f"action_{i}" for i in range(6)]
specs = st.fixed_dictionaries(
    {
        "description": st.sampled_from(["Checks stock.", "Looks up orders.", 'Päckchen & "quotes" ${x}']),
        "parameters": st.dictionaries(
            st.sampled_from(["sku", "site", "count"]), st.sampled_from(["string", "integer", "boolean"]), max_size=3
        ),
        "context": st.sampled_from([{}, {"user_id": "conversation.user_id"}]),
        "timeout": st.none() | st.sampled_from([5.0, 30.0]),
        "secure": st.booleans(),
        "protected": st.booleans(),
    }
)
desired_sets = st.dictionaries(st.sampled_from(NAMES), specs, max_size=5)
live_states = st.dictionaries(
    st.sampled_from(NAMES), st.tuples(st.sampled_from(["managed", "drifted", "unmanaged", "draft"]), specs), max_size=5
)


def make(name: str, spec: dict[str, Any]) -> DesiredTool:
    properties = {p: {"type": t, "description": p} for p, t in spec["parameters"].items()}
    tool = Tool(
        name=name,
        description=spec["description"],
        endpoint=f"https://tools.example.com/{name}",
        schema={"type": "object", "properties": properties},
        location=SourceLocation(f"tools.d/{name}.yaml"),
        context=spec["context"],
        timeout=spec["timeout"],
        secure=spec["secure"],
        protected=spec["protected"],
    )
    return DesiredTool(tool, f"tools.d/{name}.yaml")


@pytest.fixture(scope="module")
def org() -> Iterator[Org]:
    with run_emulator(EmulatorConfig(seed=5)) as emulator, open_org(emulator) as opened:
        yield opened


def seed(org: Org, live: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    emulator: RunningEmulator = org.emulator
    emulator.actions.store.clear("action")
    emulator.actions.store.clear("draft")
    seeded = {}
    for name, (kind, spec) in live.items():
        content = dict(org.target.form.desired(make(name, spec), None, "reconciler").content)
        if kind == "unmanaged":
            schema = content["contract"]["input"]["inputSchema"]
            content["contract"] = {
                **content["contract"],
                "input": {"inputSchema": {k: v for k, v in schema.items() if k != "id"}},
            }
        elif kind == "drifted":
            content["category"] = "Moved in the UI"
        seeded[name] = emulator.actions.put_raw(content)
        if kind == "draft":
            emulator.actions.put_raw({**seeded[name], "category": "A draft"}, draft=True)
    return seeded


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(desired_specs=desired_sets, live=live_states)
def test_plan_apply_plan_is_empty_from_any_start(
    org: Org, desired_specs: dict[str, dict[str, Any]], live: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    seeded = seed(org, live)
    desired = [make(name, spec) for name, spec in sorted(desired_specs.items())]
    plan = compute_plan(desired, org.target.list(), PlanOptions(), target="p", form=org.target.form)
    report = apply_plan(plan, org.target)
    assert not report.failed, report.failed

    after = {a["name"]: a for a in org.emulator.actions.actions()}
    for name in desired_specs:
        assert name in after
        if name in seeded:
            assert after[name]["id"] == seeded[name]["id"]  # updated in place, never recreated
    for name, (kind, _) in live.items():
        if kind == "unmanaged" and name not in desired_specs:
            assert after[name] == seeded[name]
    second = compute_plan(desired, org.target.list(), PlanOptions(), target="p", form=org.target.form)
    assert second.is_empty, [(c.action, c.name, [f.path for f in c.fields]) for c in second.changes]
    assert apply_plan(second, org.target).outcomes == ()


@pytest.fixture(scope="module")
def faulty() -> Iterator[Org]:
    config = EmulatorConfig(fault_429=0.1, fault_5xx=0.1, fault_drop_after_commit=0.15, seed=7)
    with run_emulator(config) as emulator, open_org(emulator) as opened:
        yield opened


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(desired_specs=desired_sets, live=live_states)
def test_reruns_converge_whatever_faults_are_injected(
    faulty: Org, desired_specs: dict[str, dict[str, Any]], live: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    """As `reconciler apply` run again after a failed run: list, plan, apply, until the plan is empty. Any call
    may run out of retries under these fault rates (the run then fails, exit 1); the law is that re-running
    converges, so a failed run is run again, never excused."""
    seeded = seed(faulty, live)
    desired = [make(name, spec) for name, spec in sorted(desired_specs.items())]
    failed_runs = 0
    for _ in range(12):
        try:
            plan = compute_plan(desired, faulty.target.list(), PlanOptions(), target="p", form=faulty.target.form)
            if plan.is_empty:
                break
            apply_plan(plan, faulty.target)
        except ApiError:
            failed_runs += 1
    # Judged from the emulator's store itself, not through the faulty wire.
    stored = faulty.emulator.actions.actions()
    live_records = [faulty.target.form.parse(raw, host="store") for raw in stored]
    final = compute_plan(desired, live_records, PlanOptions(), target="p", form=faulty.target.form)
    assert final.is_empty, (failed_runs, [(c.action, c.name, [f.path for f in c.fields]) for c in final.changes])
    names = Counter(str(a["name"]) for a in stored)
    assert all(count == 1 for count in names.values()), names
    assert set(desired_specs) <= set(names)
    after = {a["name"]: a for a in stored}
    for name in desired_specs:
        if name in seeded:
            assert after[name]["id"] == seeded[name]["id"]  # updated in place, never recreated
