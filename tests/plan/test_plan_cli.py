"""`reconciler plan` through the real CLI against a loopback emulator: what it says about tools it will not touch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import RunningEmulator

Run = Callable[..., Any]


@pytest.fixture
def org(repo: Path, start: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    emulator = start()
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", emulator.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "cli-token")
    return emulator


def write(repo: Path, name: str, *, protected: bool = False) -> None:
    (repo / "tools.d" / f"{name}.yaml").write_text(
        f"name: {name}\ndescription: Does {name}.\nendpoint: https://tools.example.com/{name}\n"
        + ("protected: true\n" if protected else ""),
        encoding="utf-8",
    )


def edit_in_the_ui(org: RunningEmulator, name: str, **fields: Any) -> None:
    base = f"{org.url}/api/v2/ai/assistant/tools"
    with httpx.Client(headers={"Authorization": "Bearer ui-token"}) as http:
        [tool] = http.get(base, params={"name": name}).json()["entities"]
        body = {k: v for k, v in tool.items() if k not in ("id", "status", "dateCreated", "dateModified", "selfUri")}
        assert http.put(f"{base}/{tool['id']}", json={**body, **fields}).status_code == 200


@pytest.mark.parametrize("why", ["protected", "no-prune"])
def test_a_tool_kept_out_of_tools_d_is_not_reported_as_drift_the_plan_would_undo(
    org: RunningEmulator, repo: Path, run: Run, why: str
) -> None:
    """A managed tool removed from tools.d but kept (protected, or pruning off) is no longer described by git:
    the plan changes nothing about it, yet an edit to it in the UI was announced as drift that "the plan below
    may undo", beside "No changes"."""
    write(repo, "kept", protected=why == "protected")
    for other in ("a", "b", "c", "d"):
        write(repo, other)
    assert run("apply", "--auto-approve").code == 0
    (repo / "tools.d" / "kept.yaml").unlink()
    edit_in_the_ui(org, "kept", description="Edited in the UI.")
    flags = ["--no-prune"] if why == "no-prune" else []

    result = run("plan", "--detailed-exitcode", *flags)
    assert result.code == 0, result.output
    assert "No changes" in result.out
    assert "outside of reconciler" not in result.out and "may undo" not in result.out
    markdown = run("plan", "--format", "markdown", *flags).out
    assert "(drift)" not in markdown and "outside of" not in markdown
    document = json.loads(run("plan", "--format", "json", *flags).out)
    [change] = document["changes"]
    assert (change["action"], change["drift"]) == ("keep", False)
    # the text plan says "1 managed tool kept"; a script reading the JSON summary is told so too
    assert document["summary"] == {
        "create": 0, "update": 0, "delete": 0, "adopt": 0, "kept": 1, "unchanged": 4, "unmanaged": 0
    }  # fmt: skip


SPEC = """openapi: 3.0.3
info: {title: Orders, version: '1'}
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      summary: Look up one order.
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        '200': {description: ok}
"""


def test_a_tool_rewritten_by_hand_loses_the_request_binding_of_its_openapi_past(
    org: RunningEmulator, repo: Path, run: Run
) -> None:
    """An OpenAPI-derived tool replaced by a hand-written one of the same name kept its live `request` binding
    (GET on the old upstream) through plan and apply, hidden among the unchanged attributes: whoever executes the
    tool by its binding went on calling the old API instead of the new endpoint."""
    (repo / "specs").mkdir()
    (repo / "specs" / "orders.yaml").write_text(SPEC, encoding="utf-8")
    (repo / "tools.d" / "orders.yaml").write_text(
        "source:\n  openapi: ../specs/orders.yaml\n  endpoint_base: https://orders.example.com\n", encoding="utf-8"
    )
    assert run("apply", "--auto-approve").code == 0
    [tool] = org.registry.all_tools()
    assert tool["request"]["method"] == "GET"

    (repo / "tools.d" / "orders.yaml").unlink()
    (repo / "tools.d" / "get_order.yaml").write_text(
        "name: getOrder\ndescription: Look up one order.\nendpoint: https://tools.example.com/getOrder\n"
        "parameters:\n  id: {type: string, description: Order id, required: true}\n",
        encoding="utf-8",
    )
    [change] = json.loads(run("plan", "--format", "json").out)["changes"]
    assert change["action"] == "update"
    [removed] = [f for f in change["fields"] if f["path"] == "request"]
    assert removed["kind"] == "remove"
    assert run("apply", "--auto-approve").code == 0
    [tool] = org.registry.all_tools()
    assert "request" not in tool and tool["executionEndpoint"] == "https://tools.example.com/getOrder"
    assert run("plan", "--detailed-exitcode").code == 0


def test_a_data_actions_plan_counts_actions_not_tools_in_every_format(
    org: RunningEmulator, repo: Path, run: Run
) -> None:
    """The text plan said "These managed actions were edited…" but, in the same output, "1 managed tool kept";
    the markdown comment said "This plan destroys 1 tool" and "1 managed tool was edited" of actions."""
    org.actions.add_integration("Reconciler Actions")
    settings = "target: data-actions\nintegration: Reconciler Actions\nmanaged_by: reconciler\n"
    (repo / "reconciler.yaml").write_text(settings, "utf-8")
    for name in ("gone", "b", "c", "d", "e"):
        write(repo, name)
    write(repo, "kept", protected=True)
    assert run("apply", "--auto-approve").code == 0
    (repo / "tools.d" / "gone.yaml").unlink()
    (repo / "tools.d" / "kept.yaml").unlink()
    [edited] = [action for action in org.actions.actions() if action["name"] == "b"]
    org.actions.put_raw(
        {**edited, "version": edited["version"] + 1, "config": {**edited["config"], "timeoutSeconds": 9}}
    )
    [other] = [action for action in org.actions.actions() if action["name"] == "c"]
    org.actions.put_raw(
        {**other, "id": "made-in-the-ui", "name": "by_hand", "contract": {"input": {"inputSchema": {}}}}
    )

    text = run("plan").out
    assert "1 unmanaged action in the registry left alone." in text
    assert "1 managed action kept instead of destroyed." in text
    markdown = run("plan", "--format", "markdown").out
    assert "This plan destroys 1 action: `gone`." in markdown
    assert "> 1 managed action was edited outside of git" in markdown
    assert " tool" not in markdown.replace("tools.d", "")


def test_a_key_with_a_dot_is_quoted_in_the_path_so_it_reads_as_one_key(
    org: RunningEmulator, repo: Path, run: Run
) -> None:
    """`labels.app.example.com/tier` and `schema.properties.page.size.type` read as nested keys (app → example →
    …, page → size) that do not exist, and a machine reading the JSON plan could not split the path; a key that is
    not a plain name is quoted, as Terraform addresses a map key: `labels["app.example.com/tier"]`."""
    tool = (
        "name: paged\ndescription: Pages.\nendpoint: https://tools.example.com/paged\n"
        "parameters:\n  page.size: {{type: {kind}, description: Page size}}\n"
        "labels: {{app.example.com/tier: {tier}, team: a}}\n"
    )
    (repo / "tools.d" / "paged.yaml").write_text(tool.format(kind="integer", tier="gold"), encoding="utf-8")
    created = " ".join(run("plan").out.split())  # the column the values are aligned to aside
    assert '+ labels["app.example.com/tier"] = "gold"' in created
    assert '+ schema.properties["page.size"].type = "integer"' in created
    assert run("apply", "--auto-approve").code == 0

    (repo / "tools.d" / "paged.yaml").write_text(tool.format(kind="number", tier="platinum"), encoding="utf-8")
    text = " ".join(run("plan").out.split())
    assert '~ labels["app.example.com/tier"] = "gold" -> "platinum"' in text
    assert '~ schema.properties["page.size"].type = "integer" -> "number"' in text
    [change] = json.loads(run("plan", "--format", "json").out)["changes"]
    assert {f["path"] for f in change["fields"]} >= {
        'labels["app.example.com/tier"]',
        'schema.properties["page.size"].type',
    }
    assert 'labels["app.example.com/tier"]' in run("plan", "--format", "markdown").out
