"""The law, for any desired set and any starting integration: plan → apply → plan is empty, the second apply
sends nothing, every desired action exists once, unmanaged actions are left exactly as they were, and each
action that was updated kept its id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply import apply_plan
from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
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
