"""The laws of reconciliation, for random desired sets and random live states (hypothesis), over loopback.

- apply then plan is empty, and the registry holds each desired tool exactly once;
- unmanaged tools that tools.d does not name are untouched;
- a second apply does nothing;
- with faults injected, re-running apply converges to the same state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconciler.api import ToolsTarget
from reconciler.apply import apply_plan
from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
from reconciler.errors import ApiError
from reconciler.model import RateLimit, SourceLocation, Tool
from reconciler.plan import DesiredTool, PlanOptions, compute_plan, desired_payload, live_input
from reconciler.state import TOOLS_FORM, Record

from .conftest import client_for


def parse_tools(raw: list[dict[str, Any]]) -> list[Record]:
    return [TOOLS_FORM.parse(tool, host="test") for tool in raw]


NAMES = [f"tool_{i}" for i in range(8)]

tool_specs = st.fixed_dictionaries(
    {
        "description": st.sampled_from(["Checks stock.", "Looks up orders.", "Cancels things."]),
        "parameters": st.dictionaries(
            st.sampled_from(["sku", "site", "count"]), st.sampled_from(["string", "integer", "boolean"]), max_size=3
        ),
        "required": st.booleans(),
        "rate": st.none() | st.sampled_from([RateLimit(60, 10), RateLimit(120, None)]),
        "labels": st.dictionaries(st.sampled_from(["team", "tier"]), st.sampled_from(["x", "y"]), max_size=2),
        "context": st.sampled_from([{}, {"user": "conversation.user_id"}]),
        "protected": st.booleans(),
        "ignore": st.sampled_from([(), ("description",), ("rate_limit",)]),
    }
)
desired_sets = st.dictionaries(st.sampled_from(NAMES), tool_specs, max_size=6)
live_states = st.dictionaries(
    st.sampled_from(NAMES), st.tuples(st.sampled_from(["managed", "drifted", "unmanaged"]), tool_specs), max_size=6
)


def make_tool(name: str, spec: dict[str, Any]) -> DesiredTool:
    properties = {p: {"type": t, "description": p} for p, t in spec["parameters"].items()}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if spec["required"] and properties:
        schema["required"] = sorted(properties)
    tool = Tool(
        name=name,
        description=spec["description"],
        endpoint=f"https://tools.example.com/{name}",
        schema=schema,
        location=SourceLocation(f"tools.d/{name}.yaml"),
        context=spec["context"],
        rate_limit=spec["rate"],
        labels=spec["labels"],
        protected=spec["protected"],
        ignore_changes=spec["ignore"],
    )
    return DesiredTool(tool, f"tools.d/{name}.yaml")


def seed_live(emulator: RunningEmulator, live: dict[str, tuple[str, dict[str, Any]]]) -> None:
    emulator.registry.clear()
    for name, (kind, spec) in live.items():
        payload = desired_payload(make_tool(name, spec), None, "reconciler")
        if kind == "drifted":
            payload["description"] = "Edited in the admin UI."
        elif kind == "unmanaged":
            payload["labels"] = {
                k: v for k, v in payload["labels"].items() if not k.startswith(("managed", "reconciler"))
            }
        emulator.registry.put_raw(payload)


MARKER = ("reconciler-digest", "reconciler-ignore-changes")


def without_marker(payload: dict[str, Any]) -> dict[str, Any]:
    labels = {k: v for k, v in (payload.get("labels") or {}).items() if k not in MARKER}
    return {**payload, "labels": labels}


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(EmulatorConfig(seed=3)) as running:
        yield running


def snapshot(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(t["id"]): t for t in tools}


_SPEC: dict[str, Any] = {
    "description": "Checks stock.",
    "parameters": {},
    "required": False,
    "rate": None,
    "labels": {},
    "context": {},
    "protected": False,
    "ignore": (),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(desired_specs=desired_sets, live=live_states)
# a name added to ignore_changes, nothing else: no write, the marker catches up later (hypothesis found it)
@example(desired_specs={"tool_0": {**_SPEC, "ignore": ("description",)}}, live={"tool_0": ("managed", _SPEC)})
def test_apply_then_plan_is_empty(
    emulator: RunningEmulator, desired_specs: dict[str, dict[str, Any]], live: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    seed_live(emulator, live)
    desired = [make_tool(name, spec) for name, spec in sorted(desired_specs.items())]
    untouchable = {
        str(t["id"]): t
        for t in emulator.registry.all_tools()
        if "managed-by" not in (t.get("labels") or {}) and t["name"] not in desired_specs
    }
    with client_for(emulator) as client:
        plan = compute_plan(desired, ToolsTarget(client).list(), PlanOptions(), target="property")
        report = apply_plan(plan, ToolsTarget(client))
        assert not report.failed and not report.not_attempted

        after = client.list_tools()
        assert Counter(t["name"] for t in after if t["name"] in desired_specs) == Counter(list(desired_specs))
        written = {change.name for change in plan.actionable}
        for item in desired:
            [live_tool] = [t for t in after if t["name"] == item.tool.name]
            wanted = desired_payload(item, live_tool, "reconciler")
            got, expected = live_input(live_tool), {k: v for k, v in wanted.items() if v not in (None, {}, [])}
            if item.tool.name not in written:
                # names only added to ignore_changes write nothing, as Terraform (docs/apply.md): the marker
                # (digest, ignored names) catches up with the next write; everything else must already match
                got, expected = without_marker(got), without_marker(expected)
            assert got == expected
        for tool_id, tool in untouchable.items():
            assert snapshot(after)[tool_id] == tool

        second = compute_plan(desired, parse_tools(after), PlanOptions(), target="property")
        assert second.is_empty, [(c.action, c.name, c.fields) for c in second.actionable]
        assert apply_plan(second, ToolsTarget(client)).outcomes == ()
        assert snapshot(client.list_tools()) == snapshot(after)


@pytest.fixture(scope="module")
def faulty_emulator() -> Iterator[RunningEmulator]:
    config = EmulatorConfig(fault_429=0.15, fault_5xx=0.10, fault_drop_after_commit=0.15, seed=5)
    with run_emulator(config) as running:
        yield running


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(desired_specs=desired_sets, live=live_states)
def test_reruns_converge_whatever_faults_are_injected(
    faulty_emulator: RunningEmulator,
    desired_specs: dict[str, dict[str, Any]],
    live: dict[str, tuple[str, dict[str, Any]]],
) -> None:
    seed_live(faulty_emulator, live)
    desired = [make_tool(name, spec) for name, spec in sorted(desired_specs.items())]
    failed_runs = 0
    with client_for(faulty_emulator) as client:
        for _ in range(12):
            # A run is what `reconciler apply` does: list, plan, apply. Any of its calls may exhaust its
            # retries under these fault rates; the run then fails (exit 1) and the law is that re-running
            # converges, so a failed run is re-run, never excused.
            try:
                plan = compute_plan(desired, ToolsTarget(client).list(), PlanOptions(), target="property")
                if plan.is_empty:
                    break
                apply_plan(plan, ToolsTarget(client), parallelism=4)
            except ApiError:
                failed_runs += 1
    # Judged from the registry itself, not through the faulty wire.
    final = compute_plan(desired, parse_tools(faulty_emulator.registry.all_tools()), PlanOptions(), target="property")
    assert final.is_empty, (failed_runs, [(c.action, c.name, c.fields) for c in final.actionable])
    names = Counter(str(t["name"]) for t in faulty_emulator.registry.all_tools())
    assert all(count == 1 for count in names.values())
    assert set(desired_specs) <= set(names)
