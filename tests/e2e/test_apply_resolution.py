"""How apply settles a write whose answer was lost or refused, against scripted faults of the emulator."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.api import ToolsClient, ToolsTarget, resolve_target
from reconciler.apply import MAX_ATTEMPTS, apply_plan
from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
from reconciler.emulator.config import READ_SCOPE
from reconciler.model import SourceLocation, Tool
from reconciler.plan import DesiredTool, Plan, PlanOptions, compute_plan

from .conftest import client_for


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(EmulatorConfig()) as running:
        yield running


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[ToolsClient]:
    with client_for(emulator) as c:
        yield c


def desired(description: str = "Checks stock.", name: str = "check_inventory") -> list[DesiredTool]:
    tool = Tool(
        name=name,
        description=description,
        endpoint="https://tools.example.com/inventory",
        schema={"type": "object", "properties": {"sku": {"type": "string", "description": "SKU"}}},
        location=SourceLocation("tools.d/a.yaml"),
    )
    return [DesiredTool(tool, "tools.d/a.yaml")]


def plan_for(client: ToolsClient, items: list[DesiredTool]) -> Plan:
    return compute_plan(items, ToolsTarget(client).list(), PlanOptions(), target="t")


def outcome_of(plan: Plan, client: ToolsClient) -> Any:
    [outcome] = apply_plan(plan, ToolsTarget(client)).outcomes
    return outcome


def test_a_create_whose_answer_was_lost_is_found_by_name_not_repeated(
    emulator: RunningEmulator, client: ToolsClient
) -> None:
    emulator.faults.inject("drop_after_commit", methods=("POST",))
    outcome = outcome_of(plan_for(client, desired()), client)
    assert (outcome.status, outcome.note) == ("ok", "created; the answer was lost and the tool found by name")
    assert [t["name"] for t in emulator.registry.all_tools()] == ["check_inventory"]


def test_a_create_that_was_never_committed_is_tried_again(emulator: RunningEmulator, client: ToolsClient) -> None:
    emulator.faults.inject("drop", methods=("POST",))
    outcome = outcome_of(plan_for(client, desired()), client)
    assert outcome.status == "ok"
    assert len(emulator.registry.all_tools()) == 1


@pytest.mark.parametrize("refused", [MAX_ATTEMPTS - 1, MAX_ATTEMPTS])
def test_a_create_refused_before_it_was_processed_is_tried_up_to_the_attempt_budget(
    emulator: RunningEmulator, client: ToolsClient, refused: int
) -> None:
    assert MAX_ATTEMPTS == 5  # docs/apply.md promises it
    # a 503 to a POST may have committed: each time the tool is looked for by name, then created again
    emulator.faults.inject("503", times=refused, methods=("POST",))
    outcome = outcome_of(plan_for(client, desired()), client)
    if refused < MAX_ATTEMPTS:
        assert outcome.status == "ok"
        assert [t["name"] for t in emulator.registry.all_tools()] == ["check_inventory"]
    else:
        assert (outcome.status, outcome.error) == ("failed", f"no answer after {MAX_ATTEMPTS} attempts to create it")
        assert emulator.registry.all_tools() == []


def test_a_name_taken_since_the_plan_fails_that_create(emulator: RunningEmulator, client: ToolsClient) -> None:
    plan = plan_for(client, desired())
    emulator.registry.put_raw(
        {
            "name": "check_inventory",
            "description": "Someone else's.",
            "executionEndpoint": "https://x",
            "schema": {"type": "object"},
        }
    )
    outcome = outcome_of(plan, client)
    assert outcome.status == "failed"
    assert "different tool of this name" in outcome.error
    assert outcome.correlation_id


def test_an_update_whose_answer_was_lost_is_read_back(emulator: RunningEmulator, client: ToolsClient) -> None:
    apply_plan(plan_for(client, desired()), ToolsTarget(client))
    emulator.faults.inject("drop_after_commit", methods=("PUT",))
    outcome = outcome_of(plan_for(client, desired("Checks real-time stock.")), client)
    assert (outcome.status, outcome.note) == ("ok", "updated; the answer was lost and the result read back")
    [tool] = emulator.registry.all_tools()
    assert (tool["description"], tool["version"]) == ("Checks real-time stock.", 2)


def test_an_update_against_a_moved_version_fails_without_writing(
    emulator: RunningEmulator, client: ToolsClient
) -> None:
    apply_plan(plan_for(client, desired()), ToolsTarget(client))
    plan = plan_for(client, desired("Checks real-time stock."))
    [tool] = emulator.registry.all_tools()
    emulator.registry.put_raw({**tool, "description": "Edited meanwhile.", "version": 2})
    outcome = outcome_of(plan, client)
    assert outcome.status == "failed"
    assert "version 2, planned against 1" in outcome.error
    assert emulator.registry.all_tools()[0]["description"] == "Edited meanwhile."


def test_a_delete_of_a_tool_already_gone_is_done(emulator: RunningEmulator, client: ToolsClient) -> None:
    apply_plan(plan_for(client, desired()), ToolsTarget(client))
    plan = plan_for(client, [])
    emulator.registry.clear()
    outcome = outcome_of(plan, client)
    assert (outcome.status, outcome.written) == ("ok", False)  # another writer deleted it: this run claims nothing
    assert outcome.note == "already gone (deleted by another writer); this run wrote nothing"


def test_deletes_are_held_back_when_a_write_failed(emulator: RunningEmulator, client: ToolsClient) -> None:
    old = desired()[0]
    apply_plan(plan_for(client, [old]), ToolsTarget(client))
    renamed = DesiredTool(Tool(**{**old.tool.__dict__, "name": "inventory_check"}), old.source)
    plan = plan_for(client, [renamed])
    assert [c.action for c in plan.changes] == ["create", "delete"]
    emulator.faults.inject("503", times=50, methods=("POST",))
    report = apply_plan(plan, ToolsTarget(client))
    assert [o.status for o in report.outcomes] == ["failed", "not_attempted"]
    assert [t["name"] for t in emulator.registry.all_tools()] == ["check_inventory"]


def test_a_refusal_of_one_tool_holds_back_nothing_else(emulator: RunningEmulator, client: ToolsClient) -> None:
    plan = plan_for(client, desired(name="a_tool") + desired(name="b_tool"))
    emulator.registry.put_raw(
        {"name": "a_tool", "description": "Someone else's.", "executionEndpoint": "https://x", "schema": {}}
    )
    report = apply_plan(plan, ToolsTarget(client), parallelism=1)
    assert [(o.change.name, o.status) for o in report.outcomes] == [("a_tool", "failed"), ("b_tool", "ok")]


@pytest.mark.parametrize("refusal", ["missing scope", "wrong credentials"])
def test_a_refusal_every_write_would_meet_holds_back_the_writes_not_yet_sent(refusal: str) -> None:
    """A client without `ai:tool:write` (403), or whose credentials stopped working (401), is refused for
    every write: after the first refusal, the rest are held back rather than sent to be refused too."""
    strict = {"client_id": "apply-client", "client_secret": "apply-secret"}
    config = EmulatorConfig(scopes=(READ_SCOPE,)) if refusal == "missing scope" else EmulatorConfig(**strict)
    with run_emulator(config) as running:
        good = {"GENESYS_CLOUD_CLIENT_ID": "apply-client", "GENESYS_CLOUD_CLIENT_SECRET": "apply-secret"}
        with client_for(running, **good) as reader:
            plan = plan_for(reader, [item for i in range(4) for item in desired(name=f"tool_{i}")])
        writer = client_for(running, **({} if refusal == "missing scope" else {"GENESYS_CLOUD_ACCESS_TOKEN": "stale"}))
        with writer:
            report = apply_plan(plan, ToolsTarget(writer), parallelism=4)
        assert [o.status for o in report.outcomes] == ["failed"] + ["not_attempted"] * 3
        status = 403 if refusal == "missing scope" else 401
        assert all(o.error == f"held back: the API refused create tool_0 ({status})" for o in report.not_attempted)
        first = report.outcomes[0].error or ""
        assert ("`ai:tool:write` scope" if status == 403 else "refused the credentials (401)") in first
        assert running.stats.by_status.get(status) == 1  # one write refused, none sent after it
        assert running.registry.all_tools() == []


def test_a_name_refused_as_taken_that_no_listed_tool_holds_says_so() -> None:
    """A registry that compares names without case (or hides another owner's tool) answers 409 to a create
    whose name no listed tool has: 'a different tool of this name appeared since the plan; plan again' sent the
    user round a loop, since every plan plans the same create."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(200, {"entities": [], "next_page_token": None})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(409, {"message": "a tool named 'Check_Inventory' already exists", "code": "tool.name.exists"})

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = resolve_target(
            {"GENESYS_CLOUD_API_URL": f"http://127.0.0.1:{server.server_address[1]}", "GENESYS_CLOUD_ACCESS_TOKEN": "t"}
        )
        assert target is not None
        with ToolsClient(target) as client:
            outcome = outcome_of(plan_for(client, desired()), client)
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.status == "failed"
    assert "lists no tool of exactly this name" in outcome.error
    assert "since the plan" not in outcome.error
