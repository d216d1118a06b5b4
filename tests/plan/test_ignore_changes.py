"""`ignore_changes` through the real CLI against a loopback emulator, on both targets: a field it names is left
as the org has it, so an edit made to it outside git is neither a change nor drift, and apply writes nothing for
it; an edit to any other field is still drift."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emulator import RunningEmulator
from reconciler.model import RateLimit, SourceLocation, Tool
from reconciler.plan import DesiredTool, PlanOptions, compute_plan, desired_payload
from reconciler.state import TOOLS_FORM, DataActionsForm
from reconciler.state.data_actions import IGNORED_PATHS, ignored_paths
from reconciler.state.tools import IGNORABLE_FIELDS

Run = Callable[..., Any]
TOOL = """name: check_inventory
description: Checks stock.
endpoint: https://tools.example.com/inventory
parameters:
  sku: {{type: string, description: SKU, required: true}}
rate_limit: {{requests_per_minute: 60}}
{ignore}"""
INTEGRATION = "Reconciler Actions"


def write(repo: Path, ignore: str = "ignore_changes: [description, rate_limit]\n", tool: str = TOOL) -> None:
    (repo / "tools.d" / "a.yaml").write_text(tool.format(ignore=ignore), encoding="utf-8")


@pytest.fixture
def org(repo: Path, start: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    emulator = start()
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", emulator.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "cli-token")
    return emulator


def edit_in_the_ui(org: RunningEmulator, **fields: Any) -> dict[str, Any]:
    """What the admin UI does: read the tool, PUT it back with some fields changed and the version it read."""
    headers = {"Authorization": "Bearer ui-token"}
    base = f"{org.url}/api/v2/ai/assistant/tools"
    with httpx.Client(headers=headers) as http:
        [tool] = http.get(base).json()["entities"]
        body = {k: v for k, v in tool.items() if k not in ("id", "status", "dateCreated", "dateModified", "selfUri")}
        answer = http.put(f"{base}/{tool['id']}", json={**body, **fields})
        assert answer.status_code == 200, answer.text
        edited: dict[str, Any] = answer.json()
        return edited


def only_tool(org: RunningEmulator) -> dict[str, Any]:
    [tool] = org.registry.all_tools()
    return tool


def test_an_edit_to_an_ignored_field_is_no_change_and_no_drift(org: RunningEmulator, repo: Path, run: Run) -> None:
    write(repo)
    assert run("apply", "--auto-approve").code == 0
    edited = edit_in_the_ui(org, description="Tuned by the ops team.", rateLimit={"requestsPerMinute": 5})

    result = run("plan", "--detailed-exitcode")
    assert result.code == 0, result.output
    assert "No changes" in result.out and "outside" not in result.out
    assert run("plan", "--format", "json").out.count('"drift": true') == 0
    applied = run("apply", "--auto-approve")
    assert applied.code == 0, applied.output
    assert only_tool(org)["version"] == edited["version"]  # nothing was written

    write(repo, tool=TOOL.replace("Checks stock.", "Checks stock levels.").replace("SKU,", "Product code,"))
    assert run("apply", "--auto-approve").code == 0  # a change from git beside the edits in the UI
    after = only_tool(org)
    assert after["description"] == "Tuned by the ops team." and after["rateLimit"] == {"requestsPerMinute": 5}
    assert after["schema"]["properties"]["sku"]["description"] == "Product code"
    assert run("plan", "--detailed-exitcode").code == 0  # the digest written then leaves the plan clean


def test_an_edit_to_a_field_not_ignored_is_still_drift(org: RunningEmulator, repo: Path, run: Run) -> None:
    write(repo)
    assert run("apply", "--auto-approve").code == 0
    edit_in_the_ui(org, description="Tuned.", executionEndpoint="https://elsewhere.example.com/inventory")

    result = run("plan", "--detailed-exitcode")
    assert result.code == 2, result.output
    assert "check_inventory has changed outside of reconciler" in result.out
    [change] = json.loads(run("plan", "--format", "json").out)["changes"]
    assert change["drift"] is True
    assert [f["path"] for f in change["fields"]] == ["executionEndpoint"]  # the description is left as it is


def test_a_managed_tool_gone_from_tools_d_is_not_called_drifted_for_an_ignored_edit(
    org: RunningEmulator, repo: Path, run: Run
) -> None:
    write(repo)
    assert run("apply", "--auto-approve").code == 0
    edit_in_the_ui(org, description="Tuned.")
    (repo / "tools.d" / "a.yaml").unlink()
    [change] = json.loads(run("plan", "--format", "json").out)["changes"]
    assert (change["action"], change["drift"]) == ("delete", False)


def test_adding_and_removing_a_name_in_ignore_changes(org: RunningEmulator, repo: Path, run: Run) -> None:
    """Adding a name changes nothing in the org (as Terraform: the labels catch up with the next write), and an
    edit in the UI, before or after, is kept and is no drift; removing it gives the field back to git, which
    rewrites the labels so that the digest covers it again."""
    write(repo, ignore="")
    assert run("apply", "--auto-approve").code == 0
    write(repo, ignore="ignore_changes: [description]\n")
    assert run("plan", "--detailed-exitcode").code == 0
    edit_in_the_ui(org, description="Tuned.")
    assert run("plan", "--detailed-exitcode").code == 0

    write(repo, ignore="ignore_changes: [description]\n", tool=TOOL.replace("SKU,", "Product code,"))
    assert run("apply", "--auto-approve").code == 0  # the next write from git records the name
    assert only_tool(org)["labels"]["reconciler-ignore-changes"] == "description"
    edit_in_the_ui(org, description="Tuned again.")
    assert run("plan", "--detailed-exitcode").code == 0

    write(repo, ignore="", tool=TOOL.replace("SKU,", "Product code,"))
    [change] = json.loads(run("plan", "--format", "json").out)["changes"]
    assert (change["action"], change["drift"], change["reason"]) == ("update", False, "changed in tools.d")
    assert {f["path"] for f in change["fields"]} == {
        "description",
        "labels.reconciler-digest",
        "labels.reconciler-ignore-changes",
    }
    assert run("apply", "--auto-approve").code == 0
    assert only_tool(org)["description"] == "Checks stock."
    assert run("plan", "--detailed-exitcode").code == 0
    edit_in_the_ui(org, description="Tuned once more.")  # git owns it again: drift
    assert json.loads(run("plan", "--format", "json").out)["changes"][0]["drift"] is True


def test_an_edit_made_before_the_name_was_added_is_kept_and_not_called_drift(
    org: RunningEmulator, repo: Path, run: Run
) -> None:
    """The usual way in (and the state a tool applied by an earlier version is in): the ops team tuned a field in
    the UI, and the repository then declares it theirs."""
    write(repo, ignore="")
    assert run("apply", "--auto-approve").code == 0
    edited = edit_in_the_ui(org, description="Tuned.")
    write(repo, ignore="ignore_changes: [description]\n")
    result = run("plan", "--detailed-exitcode")
    assert result.code == 0, result.output
    assert run("apply", "--auto-approve").code == 0
    assert only_tool(org)["version"] == edited["version"] and only_tool(org)["description"] == "Tuned."


def test_an_export_keeps_ignore_changes_so_plan_on_it_is_empty(org: RunningEmulator, repo: Path, run: Run) -> None:
    """export promises that plan on its files is empty; a managed tool whose label names ignored fields was
    written without them, so the plan took the fields back from the UI's team."""
    write(repo)
    assert run("apply", "--auto-approve").code == 0
    edit_in_the_ui(org, description="Tuned by the ops team.")
    (repo / "tools.d" / "a.yaml").unlink()
    assert run("export", "--out", "tools.d").code == 0
    [exported] = (repo / "tools.d").iterdir()
    assert "ignore_changes:\n- description\n- rate_limit\n" in exported.read_text(encoding="utf-8")
    result = run("plan", "--detailed-exitcode")
    assert result.code == 0, result.output


@pytest.fixture
def actions_org(org: RunningEmulator, repo: Path) -> RunningEmulator:
    org.actions.add_integration(INTEGRATION)
    (repo / "reconciler.yaml").write_text(f"target: data-actions\nintegration: {INTEGRATION}\n", encoding="utf-8")
    return org


ACTION = TOOL.replace("rate_limit: {{requests_per_minute: 60}}\n", "")


def test_data_actions_an_edit_to_an_ignored_contract_is_no_change_and_no_drift(
    actions_org: RunningEmulator, repo: Path, run: Run
) -> None:
    """docs/data-actions.md: ignore_changes of `description` keeps the live `contract` whole."""
    write(repo, ignore="ignore_changes: [description]\n", tool=ACTION)
    assert run("apply", "--auto-approve").code == 0
    [action] = actions_org.actions.actions()
    schema = action["contract"]["input"]["inputSchema"]
    edited = {**schema, "description": "Tuned in the UI."}
    contract = {**action["contract"], "input": {"inputSchema": edited}}
    actions_org.actions.put_raw({**action, "contract": contract, "version": action["version"] + 1})

    result = run("plan", "--detailed-exitcode")
    assert result.code == 0, result.output
    assert run("apply", "--auto-approve").code == 0
    [after] = actions_org.actions.actions()
    assert after["version"] == action["version"] + 1  # nothing was written

    config = {**action["config"], "timeoutSeconds": 9}
    actions_org.actions.put_raw({**after, "config": config, "version": after["version"] + 1})
    [change] = json.loads(run("plan", "--format", "json").out)["changes"]
    assert change["drift"] is True  # the config is not ignored
    assert "config.timeoutSeconds" in {f["path"] for f in change["fields"]}


def test_data_actions_an_export_keeps_ignore_changes_so_plan_on_it_is_empty(
    actions_org: RunningEmulator, repo: Path, run: Run
) -> None:
    write(repo, ignore="ignore_changes: [description, endpoint]\n", tool=ACTION)
    assert run("apply", "--auto-approve").code == 0
    (repo / "tools.d" / "a.yaml").unlink()
    assert run("export", "--out", "tools.d").code == 0
    [exported] = (repo / "tools.d").iterdir()
    assert "ignore_changes:\n- description\n- endpoint\n" in exported.read_text(encoding="utf-8")
    result = run("plan", "--detailed-exitcode")
    assert result.code == 0, result.output


# The law, for any tool and any edit made outside git: edits to ignored fields only ⇒ an empty plan; an edit to a
# field that is not ignored ⇒ drift.

TOOLS_EDITS: dict[str, tuple[str, Any]] = {
    "description": ("description", st.text(min_size=1, max_size=20)),
    "endpoint": ("executionEndpoint", st.sampled_from(["https://a.example.com/x", "https://b.example.com/y"])),
    "schema": ("schema", st.just({"type": "object", "properties": {"q": {"type": "string"}}})),
    "output_schema": ("outputSchema", st.just({"type": "object", "properties": {"n": {"type": "integer"}}})),
    "context": ("context", st.none() | st.dictionaries(st.sampled_from(["u", "s"]), st.just("conversation.user_id"))),
    "rate_limit": (
        "rateLimit",
        st.none()
        | st.fixed_dictionaries({"requestsPerMinute": st.integers(1, 999)}, optional={"burstSize": st.integers(1, 9)}),
    ),
    "labels": ("labels", st.dictionaries(st.sampled_from(["team", "tier"]), st.sampled_from(["x", "y"]))),
    "request": (
        "request",
        st.none() | st.just({"method": "GET", "url": "https://c.example.com/{q}", "parameters": []}),
    ),
}
ORIGINAL = {
    "description": "Checks stock.",
    "executionEndpoint": "https://tools.example.com/inventory",
    "outputSchema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"},
}


def _desired(ignore: tuple[str, ...], *, context: bool, rate: bool, labels: bool) -> DesiredTool:
    tool = Tool(
        name="check_inventory",
        description="Checks stock.",
        endpoint="https://tools.example.com/inventory",
        schema={"type": "object", "properties": {"sku": {"type": "string", "description": "SKU"}}},
        location=SourceLocation("tools.d/a.yaml"),
        context={"user_id": "conversation.user_id"} if context else {},
        rate_limit=RateLimit(60, None) if rate else None,
        labels={"team": "commerce"} if labels else {},
        ignore_changes=ignore,
    )
    return DesiredTool(tool, "tools.d/a.yaml")


def _edited(written: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    live = dict(written)
    if key == "labels":  # the ownership labels stay: only the team's own labels are edited
        value = {**{k: v for k, v in written["labels"].items() if k.startswith(("managed-by", "reconciler-"))}, **value}
    if value is None:
        live.pop(key, None)
    else:
        live[key] = value
    return live


@settings(max_examples=150, deadline=None)
@given(data=st.data(), context=st.booleans(), rate=st.booleans(), labels=st.booleans())
def test_law_edits_to_ignored_fields_only_leave_the_plan_empty(
    data: st.DataObject, context: bool, rate: bool, labels: bool
) -> None:
    ignore = tuple(data.draw(st.lists(st.sampled_from([*TOOLS_EDITS, "parameters"]), unique=True, min_size=1)))
    item = _desired(ignore, context=context, rate=rate, labels=labels)
    # written when tools.d named these (some names may have been added since, and the labels not rewritten yet)
    earlier = data.draw(st.sampled_from([ignore, ignore[1:], ()]), label="named when written")
    written = desired_payload(_desired(earlier, context=context, rate=rate, labels=labels), None, "reconciler")
    live = {**written, "id": "t-1", "version": 3}
    for name in ignore:
        key, values = TOOLS_EDITS["schema" if name == "parameters" else name]
        live = _edited(live, key, data.draw(values, label=name))
    plan = compute_plan([item], [TOOLS_FORM.parse(live, host="law")], PlanOptions(), target="law")
    assert plan.is_empty, [(c.reason, c.fields) for c in plan.changes]

    kept = {IGNORABLE_FIELDS[name] for name in ignore}
    free = [name for name in ("description", "endpoint", "output_schema") if IGNORABLE_FIELDS[name] not in kept]
    if free:
        key = IGNORABLE_FIELDS[data.draw(st.sampled_from(free), label="not ignored")]
        live[key] = "https://edited.example.com/z" if key == "executionEndpoint" else f"Edited: {ORIGINAL[key]}"
        [change] = compute_plan([item], [TOOLS_FORM.parse(live, host="law")], PlanOptions(), target="law").changes
        assert change.drift and key in {f.path for f in change.fields}


ACTION_EDITS = {
    "contract": ("contract", "input", "inputSchema", "description"),
    "config": ("config", "request", "requestUrlTemplate"),
    "contract.output": ("contract", "output", "successSchema", "description"),
    "config.response": ("config", "response", "successTemplate"),
}


def _set(value: dict[str, Any], path: tuple[str, ...], new: Any) -> dict[str, Any]:
    copied = dict(value)
    copied[path[0]] = new if len(path) == 1 else _set(dict(copied.get(path[0]) or {}), path[1:], new)
    return copied


@settings(max_examples=100, deadline=None)
@given(
    ignore=st.lists(st.sampled_from(sorted(IGNORED_PATHS)), unique=True, min_size=1),
    text=st.text(min_size=1, max_size=20),
    added=st.integers(0, 2),
)
def test_law_data_actions_edits_to_ignored_fields_only_leave_the_plan_empty(
    ignore: list[str], text: str, added: int
) -> None:
    form = DataActionsForm(integration_id="i-1", category="Tools")
    item = _desired(tuple(ignore), context=False, rate=False, labels=False)
    # written when tools.d named the first names only (the others added since, the marker not rewritten yet)
    earlier = _desired(tuple(ignore[:-added] if added else ignore), context=False, rate=False, labels=False)
    written = dict(form.desired(earlier, None, "reconciler").content)
    live = {**written, "id": "a-1", "version": 3}
    for path in ignored_paths(ignore):
        live = _set(live, ACTION_EDITS[path], text)
    plan = compute_plan([item], [form.parse(live, host="law")], PlanOptions(), target="law", form=form)
    assert plan.is_empty, [(c.reason, c.fields) for c in plan.changes]
    if "contract" not in ignored_paths(ignore):
        live = _set(live, ACTION_EDITS["contract"], f"Edited: {text}")
        [change] = compute_plan([item], [form.parse(live, host="law")], PlanOptions(), target="law", form=form).changes
        assert change.drift
