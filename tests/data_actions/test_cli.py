"""The real CLI with `target: data-actions`, against a loopback emulator named by GENESYS_CLOUD_API_URL."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from tests.emulator.upstream_helpers import running_upstream

from .conftest import INTEGRATION

TOOL = """name: check_inventory
description: {description}
endpoint: https://tools.example.com/inventory
parameters:
  sku: {{type: string, description: SKU, required: true}}
"""


@pytest.fixture
def org(repo: Path, start: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    emulator = start()
    emulator.actions.add_integration(INTEGRATION)
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", emulator.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "cli-token")
    settings = f"target: data-actions\nintegration: {INTEGRATION}\nmanaged_by: reconciler\n"
    (repo / "reconciler.yaml").write_text(settings, encoding="utf-8")
    write(repo, "Checks stock.")
    return emulator


def write(repo: Path, description: str) -> None:
    (repo / "tools.d" / "a.yaml").write_text(TOOL.format(description=description), encoding="utf-8")


def test_plan_apply_plan_through_the_cli(org: RunningEmulator, repo: Path, run: Callable[..., Any]) -> None:
    result = run("plan", "--detailed-exitcode")
    assert result.code == 2, result.output
    assert result.err.splitlines()[0] == f"target: data actions on {org.url}"
    assert f"integration: {INTEGRATION} (" in result.err.splitlines()[1]
    assert "contract.input.inputSchema.title" in result.out
    assert '+ action "check_inventory" {' in result.out
    applied = run("apply", "--auto-approve", "--audit-log", "audit.jsonl")
    assert applied.code == 0, applied.output
    [entry] = [json.loads(line) for line in (repo / "audit.jsonl").read_text().splitlines()]
    assert (entry["action"], entry["outcome"], entry["version_after"]) == ("create", "ok", 1)
    assert entry["target"].startswith("data actions of integration ")
    assert run("plan", "--detailed-exitcode").code == 0

    write(repo, "Checks stock levels.")
    plan = json.loads(run("plan", "--format", "json").out)
    [change] = plan["changes"]
    assert change["action"] == "update" and not change["drift"]
    assert run("apply", "--auto-approve").code == 0
    [action] = org.actions.actions()
    assert action["version"] == 2 and org.actions.drafts() == []


def test_a_saved_plan_is_applied_exactly_and_refused_when_stale(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    assert run("apply", "--auto-approve").code == 0
    write(repo, "Checks stock levels.")
    assert run("plan", "--out", "plan.json").code == 0
    [action] = org.actions.actions()
    org.actions.put_raw({**action, "version": action["version"] + 1, "category": "moved in the UI"})
    refused = run("apply", "plan.json")
    assert refused.code == 1
    assert (
        "plan is stale" in refused.err and "check_inventory: version 2 in the registry, 1 when planned" in refused.err
    )

    assert run("plan", "--out", "plan.json").code == 0
    assert run("apply", "plan.json").code == 0
    assert run("plan", "--detailed-exitcode").code == 0


def test_a_saved_plan_is_stale_when_an_action_it_does_not_change_was_edited(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    other = TOOL.format(description="Reserves stock.").replace("check_inventory", "reserve_stock")
    (repo / "tools.d" / "b.yaml").write_text(other, encoding="utf-8")
    assert run("apply", "--auto-approve").code == 0
    write(repo, "Checks stock levels.")
    assert run("plan", "--out", "plan.json").code == 0
    [action] = [action for action in org.actions.actions() if action["name"] == "reserve_stock"]
    org.actions.put_raw({**action, "version": action["version"] + 1, "category": "moved in the UI"})

    refused = run("apply", "plan.json")

    assert refused.code == 1
    assert "reserve_stock: changed since the plan (version 2 in the registry, 1 when planned)" in refused.err
    assert [a["version"] for a in org.actions.actions() if a["name"] == "check_inventory"] == [1]


def test_a_draft_left_by_an_interrupted_apply_is_replaced_after_tools_d_was_reverted(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """An apply wrote a draft of new content and died before publishing it; the change was then reverted in git.
    The published action matches tools.d, but the draft stays in the UI, where anyone can publish the reverted
    content with one click. DESIGN §8: the next run finishes or replaces such a draft; plan said only "the
    published one matches tools.d" and apply left it there."""
    assert run("apply", "--auto-approve").code == 0
    [action] = org.actions.actions()
    write(repo, "Checks stock levels.")
    interrupted = json.loads(run("plan", "--format", "json").out)["changes"][0]["after"]
    org.actions.put_raw({**action, **interrupted, "id": action["id"], "version": action["version"]}, draft=True)
    write(repo, "Checks stock.")  # reverted in git

    plan = run("plan", "--detailed-exitcode", "--format", "json")
    text = run("plan")
    applied = run("apply", "--auto-approve")

    assert plan.code == 2, plan.output
    [change] = json.loads(plan.out)["changes"]
    assert (change["action"], change["name"], change["fields"]) == ("update", "check_inventory", [])
    assert any("unpublished draft" in w and "this apply replaces it" in w for w in json.loads(plan.out)["warnings"])
    assert "# (an unpublished draft holds other content; apply replaces it with tools.d's)" in text.out, text.out
    assert applied.code == 0, applied.output
    assert org.actions.drafts() == []
    [after] = org.actions.actions()
    assert after["id"] == action["id"]
    assert after["contract"]["input"]["inputSchema"]["description"] == "Checks stock."
    assert run("plan", "--detailed-exitcode").code == 0


def test_an_integration_that_is_not_there_is_an_error_that_says_so(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    (repo / "reconciler.yaml").write_text("target: data-actions\nintegration: Nowhere\n", encoding="utf-8")
    result = run("plan")
    assert result.code == 1
    assert "integration 'Nowhere': no integration of that name or id in this org" in result.err
    assert "Traceback" not in result.output
    (repo / "reconciler.yaml").write_text("target: data-actions\n", encoding="utf-8")
    result = run("plan")
    assert result.code == 1 and "target data-actions needs `integration:` too" in result.err


@pytest.mark.parametrize("case", ["missing", "ambiguous", "wrong type"])
def test_an_integration_that_cannot_be_used_is_an_error_at_its_line(
    org: RunningEmulator, repo: Path, run: Callable[..., Any], case: str
) -> None:
    """The lookup of `integration:` happens in the org, after reconciler.yaml is read: its errors named no line
    of reconciler.yaml (only the file), where every other error of that file names the line of its key."""
    if case == "ambiguous":
        twin = {**org.actions.integrations()[0], "id": "00000000-0000-0000-0000-0000000000aa"}
        org.actions.store.put("integration", twin)
        name, said = INTEGRATION, f"integration '{INTEGRATION}': 2 integrations have that name; give its id instead ("
    elif case == "wrong type":
        org.actions.add_integration("Zendesk", integration_type="zendesk-data-actions")
        name, said = "Zendesk", "integration 'Zendesk' is of type 'zendesk-data-actions', not Web Services Data "
    else:
        name, said = (
            "Nowhere",
            (
                "integration 'Nowhere': no integration of that name or id in this org (its Web Services Data Actions "
                f"integrations: {INTEGRATION}); create a "
            ),
        )
    (repo / "reconciler.yaml").write_text(
        f"# the org's integration\ntarget: data-actions\nmanaged_by: team-a\nintegration: {name}\n", encoding="utf-8"
    )
    for command in ("plan", "apply", "export"):
        result = run(command, *(("--auto-approve",) if command == "apply" else ()))
        assert result.code == 1, result.output
        assert f"reconciler.yaml:4:1: error: {said}" in result.err, result.err
        assert "Traceback" not in result.output
    assert org.actions.actions() == []


def test_the_cli_process_works_offline_against_the_local_registry(repo: Path) -> None:
    """No credentials: the embedded local registry, which holds the integration reconciler.yaml names."""
    (repo / "reconciler.yaml").write_text(f"target: data-actions\nintegration: {INTEGRATION}\n", encoding="utf-8")
    write(repo, "Checks stock.")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYS", "GENESYSCLOUD"))}

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "reconciler", *argv]
        return subprocess.run(command, cwd=repo, env=environ, capture_output=True, text=True, timeout=120, check=False)

    applied = cli("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert applied.stderr.splitlines()[0] == "target: data actions on local registry (.reconciler/registry.db)"
    assert cli("plan", "--detailed-exitcode").returncode == 0


def test_export_writes_definitions_that_plan_finds_unchanged(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    (repo / "tools.d" / "b.yaml").write_text(
        "name: track_order\ndescription: Tracks an order.\nendpoint: https://tools.example.com/track\n"
        "parameters:\n  order_id: {type: string, description: Order, required: true}\n"
        "context:\n  user_id: conversation.user_id\ntimeout: 12\nsecure: true\nprotected: true\n",
        encoding="utf-8",
    )
    assert run("apply", "--auto-approve").code == 0
    handmade = {
        "name": "handmade",
        "category": INTEGRATION,
        "integrationId": org.actions.integrations()[0]["id"],
        "contract": {"input": {"inputSchema": {"type": "object"}}, "output": {"successSchema": {"type": "object"}}},
        "config": {"request": {"requestType": "GET", "requestUrlTemplate": "https://x.example.com/${input.q}"}},
    }
    org.actions.put_raw(handmade)

    result = run("export", "--all", "--out", "exported")
    assert result.code == 0, result.output
    assert "Not exported: 1 action no tool definition can express as they are" in result.err
    assert "handmade" in result.err
    assert sorted(p.name for p in (repo / "exported").iterdir()) == ["check_inventory.yaml", "track_order.yaml"]
    exported = (repo / "exported" / "track_order.yaml").read_text()
    assert "timeout: 12" in exported and "secure: true" in exported and "protected: true" in exported
    assert "user_id: conversation.user_id" in exported
    for path in (repo / "tools.d").iterdir():
        path.unlink()
    for path in (repo / "exported").iterdir():
        path.rename(repo / "tools.d" / path.name)
    assert run("plan", "--detailed-exitcode").code == 0


def test_the_guards_hold_on_this_target(org: RunningEmulator, repo: Path, run: Callable[..., Any]) -> None:
    """protected actions are kept, a plan deleting every managed action is refused, `--tool` plans one name."""
    (repo / "tools.d" / "b.yaml").write_text(
        TOOL.format(description="Tracks.").replace("check_inventory", "track_order") + "protected: true\n",
        encoding="utf-8",
    )
    assert run("apply", "--auto-approve").code == 0
    write(repo, "Checks stock levels.")
    only = json.loads(run("plan", "--format", "json", "--tool", "track_order").out)
    assert only["changes"] == []
    (repo / "tools.d" / "a.yaml").unlink()
    (repo / "tools.d" / "b.yaml").unlink()
    refused = run("apply", "--auto-approve")
    assert refused.code == 1 and "deletes 1 of 2 managed actions" in refused.err
    kept = json.loads(run("plan", "--format", "json").out)
    assert sorted((c["name"], c["action"]) for c in kept["changes"]) == [
        ("check_inventory", "delete"),
        ("track_order", "keep"),
    ]
    assert run("apply", "--auto-approve", "--allow-mass-delete").code == 0
    assert [a["name"] for a in org.actions.actions()] == ["track_order"]


def test_the_emulator_process_serves_a_named_integration(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reconciler emulator --integration NAME`, then plan and apply against it as against an org."""
    command = [sys.executable, "-m", "reconciler", "emulator", "--integration", INTEGRATION]
    process = subprocess.Popen(
        command, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:"), url
        monkeypatch.setenv("GENESYS_CLOUD_API_URL", url)
        monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "local")
        (repo / "reconciler.yaml").write_text(f"target: data-actions\nintegration: {INTEGRATION}\n", encoding="utf-8")
        write(repo, "Checks stock.")
        assert run("apply", "--auto-approve").code == 0
        assert run("plan", "--detailed-exitcode").code == 0
    finally:
        process.terminate()
        process.communicate(timeout=20)


ORDERS = """openapi: 3.0.3
info: {title: Orders, version: "1"}
servers: [{url: "https://api.example.com/v1"}]
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      summary: Reads one order.
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: verbose, in: query, schema: {type: boolean}}
      responses:
        "200":
          description: The order.
          content: {application/json: {schema: {type: object, properties: {id: {type: string}}}}}
"""


def test_a_get_action_reads_back_as_written(org: RunningEmulator, repo: Path, run: Callable[..., Any]) -> None:
    """The platform shows a GET's request template as `${input.rawRequest}` (a GET sends no body): one compiled
    with an empty template read back changed, and every plan proposed the same update again."""
    (repo / "tools.d" / "orders.yaml").write_text(ORDERS, encoding="utf-8")
    assert run("apply", "--auto-approve").code == 0
    [action] = [a for a in org.actions.actions() if a["name"] == "getOrder"]
    assert action["config"]["request"]["requestTemplate"] == "${input.rawRequest}"
    assert action["contract"]["input"]["inputSchema"]["additionalProperties"] is False
    assert run("plan", "--detailed-exitcode").code == 0


def test_a_get_with_a_body_is_refused_at_its_line(org: RunningEmulator, repo: Path, run: Callable[..., Any]) -> None:
    """A Data Action never sends a GET's body: such an operation would silently lose its body's inputs."""
    with_body = ORDERS.replace(
        "      responses:",
        "      requestBody:\n"
        "        content: {application/json: {schema: {type: object, properties: {note: {type: string}}}}}\n"
        "      responses:",
    )
    (repo / "tools.d" / "orders.yaml").write_text(with_body, encoding="utf-8")
    result = run("validate")
    assert result.code == 1, result.output
    refusal = "'getOrder' cannot become a Data Action: parameter 'note': a Data Action sends no body with a GET"
    assert f"tools.d/orders.yaml:6:5: error: {refusal}" in result.out
    assert "Traceback" not in result.output
    assert run("plan").code == 1
    assert [a["name"] for a in org.actions.actions()] == []


def test_ignore_changes_output_schema_keeps_the_live_output_contract(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """`output_schema` is one of the fields `ignore_changes` takes; on this target it was silently not kept."""

    def write_kept(description: str) -> None:
        (repo / "tools.d" / "a.yaml").write_text(
            TOOL.format(description=description)
            + "output_schema: {type: object, properties: {level: {type: integer}}}\nignore_changes: [output_schema]\n",
            encoding="utf-8",
        )

    write_kept("Checks stock.")
    assert run("apply", "--auto-approve").code == 0
    [action] = org.actions.actions()
    edited = {"type": "object", "properties": {"level": {"type": "integer"}, "note": {"type": "string"}}}
    org.actions.put_raw({**action, "contract": {**action["contract"], "output": {"successSchema": edited}}})
    write_kept("Checks stock levels.")  # a change from git beside the edit in the UI
    assert run("apply", "--auto-approve").code == 0
    [action] = org.actions.actions()
    assert action["contract"]["output"]["successSchema"] == edited
    assert action["contract"]["input"]["inputSchema"]["description"] == "Checks stock levels."


SECURED = ORDERS.replace(
    "paths:",
    "components:\n  securitySchemes:\n    key: {type: apiKey, in: header, name: X-Api-Key}\n"
    "    login: {type: http, scheme: basic}\nsecurity: [{key: []}]\npaths:",
)


def test_credentials_an_action_does_not_send_are_a_warning_at_the_requirement(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """An operation needing an API key compiled into an action that never sends it (only Basic Auth credentials
    of the integration are added by the platform): every call failed at run time, and validate said nothing."""
    (repo / "tools.d" / "orders.yaml").write_text(SECURED, encoding="utf-8")
    result = run("validate")
    assert result.code == 0, result.output
    warning = (
        "tools.d/orders.yaml:8:1: warning: 'getOrder' needs credentials (key: an API key in the header "
        "'X-Api-Key') that its Data Action does not send"
    )
    assert warning in result.out
    (repo / "tools.d" / "orders.yaml").write_text(SECURED.replace("[{key: []}]", "[{login: []}, {}]"), "utf-8")
    assert "needs credentials" not in run("validate").out


def test_an_export_is_written_in_the_tool_files_dialect(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """The contract's draft-04 keywords (boolean exclusive bounds, tuple `items`, `dependencies`) were exported
    as they are, into a file whose schemas are draft 2020-12: `validate` refused the export, and `plan` too."""
    (repo / "tools.d" / "a.yaml").write_text(
        "name: price_check\ndescription: Checks a price.\nendpoint: https://tools.example.com/price\n"
        "schema:\n  type: object\n  required: [amount]\n  properties:\n"
        "    range: {type: object, properties: {lo: {type: number}, hi: {type: number}}, dependentRequired: "
        "{hi: [lo]}, description: Range}\n"
        "    amount: {type: number, exclusiveMinimum: 0, maximum: 10, description: Amount}\n"
        "    code: {const: EUR, description: Currency}\n"
        "    pair: {type: array, prefixItems: [{type: string}, {type: integer}], items: false, description: Pair}\n",
        encoding="utf-8",
    )
    assert run("apply", "--auto-approve").code == 0
    assert run("export", "--out", "exported").code == 0
    exported = (repo / "exported" / "price_check.yaml").read_text()
    assert "exclusiveMinimum: 0" in exported and "prefixItems:" in exported and "dependentRequired:" in exported
    (repo / "tools.d" / "a.yaml").unlink()
    (repo / "exported" / "price_check.yaml").rename(repo / "tools.d" / "price_check.yaml")
    validated = run("validate")
    assert validated.code == 0, validated.output
    assert run("plan", "--detailed-exitcode").code == 0


def test_an_input_named_raw_request_is_refused_where_a_template_reads_it(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """`$input.rawRequest` is the platform's whole input as JSON: a query parameter of that name was sent as the
    JSON of every input instead of its own value."""
    raw = ORDERS.replace("{name: verbose, in: query", "{name: rawRequest, in: query")
    (repo / "tools.d" / "orders.yaml").write_text(raw, encoding="utf-8")
    result = run("validate")
    assert result.code == 1, result.output
    assert "tools.d/orders.yaml:6:5: error: 'getOrder' cannot become a Data Action: parameter 'rawRequest': an " in (
        result.out
    )
    assert "Traceback" not in result.output


def test_what_a_tool_accepts_beside_its_parameters_its_action_accepts_too(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """A hand-written tool posts its whole input: `additionalProperties: {type: string}` was narrowed to `false`
    in the contract, so every call with an extra string was refused by the platform."""
    (repo / "tools.d" / "a.yaml").write_text(
        "name: tag_order\ndescription: Tags an order.\nendpoint: https://tools.example.com/tag\n"
        "schema:\n  type: object\n  properties: {order: {type: string, description: Order}}\n"
        "  additionalProperties: {type: string, maxLength: 20}\n",
        encoding="utf-8",
    )
    assert run("apply", "--auto-approve").code == 0
    [action] = org.actions.actions()
    assert action["contract"]["input"]["inputSchema"]["additionalProperties"] == {"type": "string", "maxLength": 20}
    assert run("plan", "--detailed-exitcode").code == 0
    assert run("export", "--out", "exported").code == 0
    assert "additionalProperties:" in (repo / "exported" / "tag_order.yaml").read_text()


def test_export_all_of_an_action_named_in_the_ui(org: RunningEmulator, repo: Path, run: Callable[..., Any]) -> None:
    """Actions made in the UI have names like "Get Weather", which no tool name may be: `export --all` wrote a
    file of it that validate refused, where it promises files that plan finds unchanged."""
    assert run("apply", "--auto-approve").code == 0
    [mine] = org.actions.actions()
    contract = mine["contract"]["input"]["inputSchema"]
    handmade = {
        **{k: v for k, v in mine.items() if k not in ("id", "version")},
        "name": "Get Weather",
        "contract": {
            **mine["contract"],
            "input": {"inputSchema": {**{k: v for k, v in contract.items() if k != "id"}, "title": "Get Weather"}},
        },
    }
    org.actions.put_raw(handmade)
    result = run("export", "--all", "--out", "exported")
    assert result.code == 0, result.output
    assert "Get Weather (its name is not a tool name" in result.err
    assert sorted(p.name for p in (repo / "exported").iterdir()) == ["check_inventory.yaml"]
    for path in (repo / "tools.d").iterdir():
        path.unlink()
    for path in (repo / "exported").iterdir():
        path.rename(repo / "tools.d" / path.name)
    assert run("validate").code == 0


def test_the_order_of_required_in_a_contract_is_no_change(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """DESIGN §5: the order of `required` means nothing. A contract read back with its `required` in another
    order (as a server may keep it) was planned as the same update on every run."""
    (repo / "tools.d" / "a.yaml").write_text(
        TOOL.format(description="Checks stock.")
        + "  site: {type: string, description: Site, required: true}\ncontext:\n  user_id: conversation.user_id\n",
        encoding="utf-8",
    )
    assert run("apply", "--auto-approve").code == 0
    [action] = org.actions.actions()
    schema = action["contract"]["input"]["inputSchema"]
    assert len(schema["required"]) == 3
    org.actions.put_raw({**action, "contract": {**action["contract"], "input": {"inputSchema": {
        **schema, "required": schema["required"][::-1]}}}})  # fmt: skip
    assert run("plan", "--detailed-exitcode").code == 0


def test_a_delete_resent_after_its_answer_was_lost_is_this_runs_own_in_the_audit_log(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """A DELETE is safe to resend, so the client sends it again when its answer is lost; the second answer is
    404 because the first one landed. apply credited that delete to another writer ("this run wrote nothing")
    and the audit log said `written: false` for this run's own delete."""
    (repo / "tools.d" / "b.yaml").write_text(
        TOOL.format(description="Tracks.").replace("check_inventory", "track_order"), encoding="utf-8"
    )
    assert run("apply", "--auto-approve").code == 0
    (repo / "tools.d" / "b.yaml").unlink()
    org.faults.inject("drop_after_commit", methods=("DELETE",))
    result = run("apply", "--auto-approve", "--allow-mass-delete", "--audit-log", "audit.jsonl")
    assert result.code == 0, result.output
    assert org.stats.dropped_connections == 1
    assert "another writer" not in result.output
    [record] = [json.loads(line) for line in (repo / "audit.jsonl").read_text().splitlines()]
    assert (record["action"], record["name"], record["outcome"]) == ("delete", "track_order", "ok")
    assert record["written"] is not False  # this run's own DELETE made it (or cannot tell): never "another writer"
    assert [a["name"] for a in org.actions.actions()] == ["check_inventory"]
    assert run("plan", "--detailed-exitcode").code == 0


def test_export_all_of_an_action_in_another_category_leaves_it_where_it_is(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """A tool file has no category: an action of another category exported with `--all` became a file whose
    adoption moved the action into this repository's category (a change the user never asked for). Export
    must write only what keeps each action as it is: such an action is named, with the reason, not written."""
    for name in ("billing_lookup", "stock_lookup"):
        (repo / "tools.d" / f"{name}.yaml").write_text(TOOL.format(description="Looks.").replace(
            "check_inventory", name), encoding="utf-8")  # fmt: skip
    assert run("apply", "--auto-approve").code == 0
    for action in org.actions.actions():  # made by hand: no marker; one of them in another category
        if action["name"] != "check_inventory":
            (repo / "tools.d" / f"{action['name']}.yaml").unlink()
            schema = {k: v for k, v in action["contract"]["input"]["inputSchema"].items() if k != "id"}
            category = "Billing" if action["name"] == "billing_lookup" else action["category"]
            org.actions.put_raw({**action, "category": category, "contract": {
                **action["contract"], "input": {"inputSchema": schema}}})  # fmt: skip
    result = run("export", "--all", "--out", "exported")
    assert result.code == 0, result.output
    assert (
        f"billing_lookup (its category 'Billing' is not this repository's '{INTEGRATION}', and a tool file "
        "cannot keep another" in result.err
    )
    assert sorted(p.name for p in (repo / "exported").iterdir()) == ["check_inventory.yaml", "stock_lookup.yaml"]
    for path in (repo / "tools.d").iterdir():
        path.unlink()
    for path in (repo / "exported").iterdir():
        path.rename(repo / "tools.d" / path.name)
    plan = json.loads(run("plan", "--format", "json").out)
    assert [(c["name"], c["action"]) for c in plan["changes"]] == [("stock_lookup", "adopt")]
    [adoption] = plan["changes"]
    assert [f["path"] for f in adoption["fields"]] == ["contract.input.inputSchema.id"]  # only the marker
    assert run("apply", "--auto-approve").code == 0
    assert run("plan", "--detailed-exitcode").code == 0
    assert {a["name"]: a["category"] for a in org.actions.actions()}["billing_lookup"] == "Billing"
    # A managed action moved in the UI is still written (leaving its file out would make plan delete it); plan
    # shows the move as drift, to be put back.
    [managed] = [a for a in org.actions.actions() if a["name"] == "check_inventory"]
    org.actions.put_raw({**managed, "category": "Moved in the UI"})
    assert run("export", "--out", "again").code == 0
    assert (repo / "again" / "check_inventory.yaml").is_file()
    [drift] = json.loads(run("plan", "--format", "json").out)["changes"]
    assert (drift["name"], drift["drift"]) == ("check_inventory", True)
    assert "category" in [f["path"] for f in drift["fields"]]


def test_export_all_leaves_out_what_another_repository_manages(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """`export --all` wrote a file for an action another repository manages (another `managed_by`): plan then
    refused the whole export ("exists in the registry managed by 'team-b'"). Such an action is named, with
    whose it is, not written."""
    config = f"target: data-actions\nintegration: {INTEGRATION}\n"
    (repo / "reconciler.yaml").write_text(config + "managed_by: team-b\n", encoding="utf-8")
    assert run("apply", "--auto-approve").code == 0
    (repo / "reconciler.yaml").write_text(config + "managed_by: team-a\n", encoding="utf-8")
    (repo / "tools.d" / "a.yaml").unlink()
    result = run("export", "--all", "--out", "exported")
    assert result.code == 0, result.output
    assert "Not exported: 1 tool another repository manages" in result.err
    assert "check_inventory (managed by 'team-b')" in result.err
    assert not (repo / "exported").exists() or list((repo / "exported").iterdir()) == []
    assert run("plan", "--detailed-exitcode").code == 0


def test_a_missing_integration_names_ten_of_those_that_would_do(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    for i in range(12):
        org.actions.add_integration(f"Team {i:02d}")
    (repo / "reconciler.yaml").write_text("target: data-actions\nintegration: Nowhere\n", encoding="utf-8")
    result = run("plan")
    assert result.code == 1
    assert f"integrations: {INTEGRATION}, Team 00, Team 01, " in result.err
    assert ", Team 08 and 3 more); create a " in result.err


def test_a_draft_identical_to_the_published_action_is_no_change(
    org: RunningEmulator, repo: Path, run: Callable[..., Any]
) -> None:
    """A draft that holds what is published (opened in the UI and left; an apply interrupted right after it made
    the draft) was planned as an update "an unpublished draft holds other content", and apply published it: a
    version bump for nothing, on every action that had one. plan reads a draft's content when there is a draft."""
    assert run("apply", "--auto-approve").code == 0
    [action] = org.actions.actions()
    org.actions.create_draft(action["id"])

    plan = run("plan", "--detailed-exitcode", "--format", "json")
    applied = run("apply", "--auto-approve")

    assert plan.code == 0, plan.output
    assert json.loads(plan.out)["changes"] == []
    assert applied.code == 0, applied.output
    [after] = org.actions.actions()
    assert after["version"] == action["version"]
    write(repo, "Checks stock levels.")  # a real change still goes through the draft, and publishes it
    assert run("apply", "--auto-approve").code == 0
    assert [a["version"] for a in org.actions.actions()] == [action["version"] + 1]
    assert org.actions.drafts() == []


def test_the_emulator_process_gives_its_integration_basic_auth_credentials(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The serve + Data Actions flow on a laptop: the platform adds an integration's Basic Auth credentials to
    every request of its actions, and `reconciler serve` requires its secret. Only tests could give the emulator's
    integration credentials; `--integration-user` does, with the password from the environment (never argv)."""
    password = "s3cret-caller-password-0123"
    command = [
        *(sys.executable, "-m", "reconciler", "emulator"),
        *("--integration", INTEGRATION, "--integration-user", "genesys"),
    ]
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", "RECONCILER_EMULATOR_INTEGRATION_PASSWORD": password}
    process = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with running_upstream() as upstream:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
            assert url.startswith("http://127.0.0.1:"), url
            monkeypatch.setenv("GENESYS_CLOUD_API_URL", url)
            monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "local")
            settings = f"target: data-actions\nintegration: {INTEGRATION}\n"
            (repo / "reconciler.yaml").write_text(settings, encoding="utf-8")
            tool = TOOL.format(description="Checks stock.").replace("https://tools.example.com", upstream.url)
            (repo / "tools.d" / "a.yaml").write_text(tool, encoding="utf-8")
            assert run("apply", "--auto-approve").code == 0
            actions = httpx.get(f"{url}/api/v2/integrations/actions", headers={"Authorization": "Bearer local"})
            [action] = actions.json()["entities"]
            executed = httpx.post(
                f"{url}/api/v2/integrations/actions/{action['id']}/execute",
                headers={"Authorization": "Bearer local"},
                json={"sku": "A-1"},
                timeout=60,
            )
        finally:
            process.terminate()
            out, err = process.communicate(timeout=60)
    assert executed.status_code == 200, executed.text
    [received] = upstream.received
    assert received.header("Authorization") == "Basic " + base64.b64encode(f"genesys:{password}".encode()).decode()
    assert f"integration {INTEGRATION!r}: Basic Auth user 'genesys'" in err
    assert password not in out + err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("--integration", INTEGRATION, "--integration-user", "genesys"), "RECONCILER_EMULATOR_INTEGRATION_PASSWORD"),
        (("--integration-user", "genesys"), "--integration-user gives the credentials of each --integration"),
    ],
)
def test_integration_credentials_without_a_password_or_an_integration_are_refused(
    run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], said: str
) -> None:
    monkeypatch.delenv("RECONCILER_EMULATOR_INTEGRATION_PASSWORD", raising=False)
    result = run("emulator", *argv)
    assert result.code == 1
    assert said in result.err and "Traceback" not in result.err


def test_hand_written_tools_and_openapi_operations_of_other_hosts_in_one_integration_are_a_warning(
    repo: Path, run: Callable[..., Any]
) -> None:
    """The platform sends an integration's Basic Auth credentials with every request of its actions: a serve
    caller secret would reach the OpenAPI operations' upstream (and its password the tool service). validate
    said nothing; it warns once, at the `integration:` line, naming the hosts (`--strict` fails on it)."""
    (repo / "reconciler.yaml").write_text(f"target: data-actions\nintegration: {INTEGRATION}\n", encoding="utf-8")
    write(repo, "Checks stock.")  # https://tools.example.com
    (repo / "tools.d" / "orders.yaml").write_text(ORDERS, encoding="utf-8")  # https://api.example.com

    mixed = run("validate")
    strict = run("validate", "--strict")
    (repo / "tools.d" / "a.yaml").unlink()
    alone = run("validate", "--strict")

    assert mixed.code == 0, mixed.output
    [line] = [line for line in mixed.out.splitlines() if "Basic Auth" in line]
    assert line.startswith("reconciler.yaml:2:1: warning: integration 'Reconciler Actions' holds the actions of")
    assert "hand-written tools (https://tools.example.com: check_inventory)" in line
    assert "OpenAPI operations (https://api.example.com: getOrder)" in line
    assert strict.code == 1
    assert alone.code == 0, alone.output
