"""export then plan is empty: shorthand parameters, full schemas, and tools compiled from OpenAPI sources."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.emulator import RunningEmulator
from reconciler.export import tool_document
from reconciler.load.interpolate import interpolate

Run = Callable[..., Any]

SHORTHAND = """name: lookup
description: Looks things up; costs $5 and says ${literally}.
endpoint: https://tools.example.com/lookup
parameters:
  q: {type: string, description: Query, required: true}
  limit: {type: integer, description: How many, minimum: 1, maximum: 50, default: 10}
context: {user: conversation.user_id}
rate_limit: {requests_per_minute: 30, burst_size: 5}
labels: {team: search}
protected: true
""".replace("${literally}", "$${literally}")
FULL_SCHEMA = """name: book
description: Books a slot.
endpoint: https://tools.example.com/book
schema:
  type: object
  properties:
    slot: {oneOf: [{type: string, format: date-time}, {type: integer}], description: When}
    people: {type: array, items: {type: object, properties: {name: {type: string}}}}
  required: [slot]
  additionalProperties: false
"""
SOURCE = """source:
  openapi: ../specs/orders.yaml
  endpoint_base: https://orders.example.com/v1
  name_prefix: orders_
"""
SPEC = """openapi: 3.0.3
info: {title: Orders, version: "1"}
servers: [{url: https://ignored.example.com}]
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      summary: Get one order.
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: verbose, in: query, schema: {type: boolean}}
    put:
      operationId: updateOrder
      summary: Change an order.
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {note: {type: string}, quantity: {type: integer, nullable: true}}
"""


def test_export_round_trip(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    (repo / "tools.d" / "lookup.yaml").write_text(SHORTHAND)
    (repo / "tools.d" / "book.yaml").write_text(FULL_SCHEMA)
    (repo / "tools.d" / "orders.yaml").write_text(SOURCE)
    (repo / "specs").mkdir()
    (repo / "specs" / "orders.yaml").write_text(SPEC)
    applied = run("apply", "--auto-approve")
    assert applied.code == 0, applied.err
    assert {t["name"] for t in emulator.registry.all_tools()} == {
        "lookup",
        "book",
        "orders_getOrder",
        "orders_updateOrder",
    }

    exported = run("export", "--out", "exported")
    assert exported.code == 0, exported.err
    files = sorted(p.name for p in (repo / "exported").iterdir())
    assert files == ["book.yaml", "lookup.yaml", "orders_getOrder.yaml", "orders_updateOrder.yaml"]
    lookup = yaml.safe_load((repo / "exported" / "lookup.yaml").read_text())
    assert lookup["parameters"]["q"] == {"type": "string", "description": "Query", "required": True}
    assert lookup["protected"] is True
    assert lookup["description"] == "Looks things up; costs $5 and says $${literally}."
    assert "schema" in yaml.safe_load((repo / "exported" / "book.yaml").read_text())
    order = yaml.safe_load((repo / "exported" / "orders_updateOrder.yaml").read_text())
    assert order["request"]["method"] == "PUT"
    assert order["request"]["url"] == "https://orders.example.com/v1/orders/{id}"

    (repo / "tools.d" / "lookup.yaml").unlink()
    (repo / "tools.d" / "book.yaml").unlink()
    (repo / "tools.d" / "orders.yaml").unlink()
    plan = run("plan", "exported", "--detailed-exitcode", "--format", "json")
    assert plan.code == 0, plan.out + plan.err
    assert json.loads(plan.out)["summary"]["unchanged"] == 4


def test_export_refuses_to_overwrite_and_json_lists_the_registry(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    (repo / "tools.d" / "lookup.yaml").write_text(SHORTHAND)
    assert run("apply", "--auto-approve").code == 0
    by_hand = emulator.registry.put_raw(
        {
            "name": "by_hand",
            "description": "d",
            "executionEndpoint": "https://x",
            "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
        }
    )
    (repo / "clash").mkdir()
    (repo / "clash" / "lookup.yaml").write_text(SHORTHAND.replace("name: lookup", "name: other"))
    refused = run("export", "--out", "clash")
    assert refused.code == 1
    assert "already exist" in refused.err and "--force" in refused.err
    listing = run("export", "--format", "json")
    summary = {item["name"]: item for item in json.loads(listing.out)}
    assert summary["lookup"]["managed"] is True
    assert summary["by_hand"] == {
        "name": "by_hand",
        "id": by_hand["id"],
        "version": 1,
        "status": "active",
        "managed": False,
        "parameters": ["a"],
    }
    everything = run("export", "--all", "--out", "adopt")
    assert everything.code == 0
    assert sorted(p.name for p in (repo / "adopt").iterdir()) == ["by_hand.yaml", "lookup.yaml"]
    adoption = run("plan", "adopt", "--format", "json")
    assert json.loads(adoption.out)["summary"]["adopt"] == 1


@pytest.mark.parametrize(
    "sensitive",
    [
        {"PARTNER_KEY": "k3y-with-${brace"},  # a secret that holds `${`
        {"SHORT_ONE": "abcdef", "LONGER_ONE": "xxabcdefxx"},  # one secret inside another
        {"LONG_SECRET": "s3cret-value-long", "OTHER_SECRET": "ONG_SECRET"},  # one inside the other's name
    ],
)
def test_exported_files_hold_no_secret_and_load_back_to_the_live_values(sensitive: dict[str, str]) -> None:
    live = {
        "id": "t1",
        "name": "partner",
        "description": "Calls ${literal} with " + " and ".join(sensitive.values()),
        "executionEndpoint": "https://tools.example.com/x?key=" + next(iter(sensitive.values())),
        "schema": {"type": "object", "properties": {}},
    }
    document = tool_document(live, sensitive)
    written = yaml.safe_dump(document)
    # what the file says once escapes are read, apart from the variables' names, which may hold anything
    references = re.sub(r"\$\{[A-Z_]+\}", "", written).replace("$${", "${")
    assert not any(value in references for value in sensitive.values())
    diagnostics: list[Any] = []
    loaded = interpolate(yaml.safe_load(written), "partner.yaml", sensitive, diagnostics, {})
    assert diagnostics == []
    assert (loaded["description"], loaded["endpoint"]) == (live["description"], live["executionEndpoint"])


def test_export_beside_existing_files_writes_only_what_is_missing(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    (repo / "tools.d" / "everything.yaml").write_text(SHORTHAND)  # `lookup`, in a file of another name
    assert run("apply", "--auto-approve").code == 0
    emulator.registry.put_raw(
        {"name": "by_hand", "description": "d", "executionEndpoint": "https://x.example.com", "schema": {}}
    )
    exported = run("export", "--all", "--out", "tools.d")
    assert exported.code == 0, exported.err
    assert sorted(p.name for p in (repo / "tools.d").iterdir()) == ["by_hand.yaml", "everything.yaml"]
    assert "Left 1 tool already defined in tools.d/ as they are: lookup." in exported.err
    assert (repo / "tools.d" / "everything.yaml").read_text() == SHORTHAND
    validated = run("validate")
    assert validated.code == 0, validated.output  # no duplicate names
    assert json.loads(run("plan", "--format", "json").out)["summary"]["adopt"] == 1


def test_the_local_registry_is_the_repositorys_whatever_out_says(
    repo: Path, run: Run, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No org configured: export reads the registry that plan and apply wrote, not a new one beside --out."""
    (repo / "tools.d" / "lookup.yaml").write_text(SHORTHAND)
    assert run("apply", "--auto-approve").code == 0
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "adopted"
    exported = run("export", "--out", str(elsewhere))
    assert exported.code == 0, exported.err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["lookup.yaml"]
    assert not (elsewhere / ".reconciler").exists() and not (elsewhere.parent / ".reconciler").exists()
    planned = run("plan", str(elsewhere), "--detailed-exitcode")
    assert planned.code == 0, planned.output  # the same registry: nothing to change


def test_export_all_leaves_out_what_another_repository_manages(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    """`export --all` wrote a file for a tool another repository manages (another `managed_by`): plan then
    refused the whole export ("exists in the registry managed by 'team-b'"). Such a tool is named, with whose
    it is, not written; what is unmanaged is still exported to adopt."""
    (repo / "reconciler.yaml").write_text("managed_by: team-b\n", encoding="utf-8")
    (repo / "tools.d" / "lookup.yaml").write_text(SHORTHAND, encoding="utf-8")
    assert run("apply", "--auto-approve").code == 0
    emulator.registry.put_raw({"name": "by_hand", "description": "Made by hand.",
        "executionEndpoint": "https://tools.example.com/by_hand", "schema": {"type": "object"}})  # fmt: skip
    (repo / "reconciler.yaml").write_text("managed_by: team-a\n", encoding="utf-8")
    (repo / "tools.d" / "lookup.yaml").unlink()
    result = run("export", "--all", "--out", "tools.d", "--force")
    assert result.code == 0, result.output
    assert "Not exported: 1 tool another repository manages" in result.err
    assert "lookup (managed by 'team-b')" in result.err
    assert sorted(p.name for p in (repo / "tools.d").iterdir()) == ["by_hand.yaml"]
    plan = json.loads(run("plan", "--format", "json").out)
    assert [(c["name"], c["action"]) for c in plan["changes"]] == [("by_hand", "adopt")]


def test_export_without_all_names_the_unmanaged_tools_it_left_out(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    """The README's adoption step said `export --out tools.d` (no --all): on an org nobody manages yet it wrote
    nothing and said "Exported 0 tools to tools.d/ (0 unmanaged)", as if the org were empty."""
    emulator.registry.put_raw({"name": "by_hand", "description": "Made by hand.",
        "executionEndpoint": "https://tools.example.com/by_hand", "schema": {"type": "object"}})  # fmt: skip
    result = run("export", "--out", "tools.d")
    assert result.code == 0, result.output
    assert "Exported 0 tools to tools.d/ (0 unmanaged)." in result.err
    assert (
        "Left out 1 tool no reconciler manages yet (by_hand): `reconciler export --all` writes them too, "
        "to adopt them." in result.err
    )
    assert list((repo / "tools.d").iterdir()) == []
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "**Adopting an existing org**: `reconciler export --all --out tools.d`" in readme


def _by_hand(emulator: RunningEmulator, name: str) -> None:
    emulator.registry.put_raw({"name": name, "description": "Made by hand.",
        "executionEndpoint": f"https://tools.example.com/{name}", "schema": {"type": "object"}})  # fmt: skip


def test_export_tool_adopts_one_live_tool_and_leaves_the_others(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    """Adopting one tool (Terraform's `import` of one resource) took `export --all`, which wrote every unmanaged
    tool of the org into tools.d, to be deleted again by hand. `--tool NAME` writes only the tools named, managed
    or not (naming one is asking for it), and plan then adopts exactly that one."""
    (repo / "tools.d" / "lookup.yaml").write_text(SHORTHAND, encoding="utf-8")
    assert run("apply", "--auto-approve").code == 0
    for name in ("by_hand", "other_one", "third"):
        _by_hand(emulator, name)
    result = run("export", "--tool", "by_hand", "--tool", "third", "--out", "tools.d")
    assert result.code == 0, result.output
    assert sorted(p.name for p in (repo / "tools.d").iterdir()) == ["by_hand.yaml", "lookup.yaml", "third.yaml"]
    assert "Exported 2 tools to tools.d/ (2 unmanaged)." in result.err
    assert "Left out" not in result.err  # the tools not named were not asked for
    plan = json.loads(run("plan", "--format", "json").out)
    assert sorted((c["name"], c["action"]) for c in plan["changes"]) == [("by_hand", "adopt"), ("third", "adopt")]
    assert plan["summary"]["unmanaged"] == 1  # other_one is left alone

    summary = json.loads(run("export", "--tool", "other_one", "--format", "json").out)
    assert [(item["name"], item["managed"]) for item in summary] == [("other_one", False)]


def test_export_tool_that_is_not_live_is_refused_before_writing(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _by_hand(emulator, "by_hand")
    result = run("export", "--tool", "by_hnad", "--tool", "by_hand", "--out", "tools.d")
    assert result.code == 1
    assert "error: --tool by_hnad: no such tool in the registry; did you mean by_hand?" in result.err
    assert "Traceback" not in result.output
    assert list((repo / "tools.d").iterdir()) == []


def test_export_out_of_the_repository_reads_the_repositorys_config_whether_the_folder_exists_or_not(
    repo: Path, run: Run, emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`export --out` a folder outside any repository read the repository's reconciler.yaml while that folder did
    not exist, and the folder's own (none: the defaults) once it did: `mkdir review && reconciler export --out
    review` used another `managed_by` (or target) than the same command without the mkdir, and wrote "Exported
    0 tools". A folder in no repository takes the configuration of the current directory's, existing or not."""
    (repo / "reconciler.yaml").write_text("managed_by: team-a\n", encoding="utf-8")
    (repo / "tools.d" / "lookup.yaml").write_text(SHORTHAND, encoding="utf-8")
    assert run("apply", "--auto-approve").code == 0
    fresh, made = tmp_path_factory.mktemp("review") / "tools", tmp_path_factory.mktemp("made-first")
    for out in (fresh, made):
        result = run("export", "--out", str(out))
        assert result.code == 0, result.output
        assert "Exported 1 tool " in result.err, result.err
        assert sorted(p.name for p in out.iterdir()) == ["lookup.yaml"]


def test_adopting_a_tool_made_elsewhere_changes_only_what_docs_gitops_names(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    """docs/gitops.md said the ownership label is the one difference after `export`; a tool made without
    `$schema` or `outputSchema` (by hand, by another tool) also gets those, and the page now says so."""
    _by_hand(emulator, "by_hand")
    assert run("export", "--tool", "by_hand", "--out", "tools.d").code == 0
    plan = json.loads(run("plan", "--format", "json").out)
    [change] = plan["changes"]
    assert change["action"] == "adopt"
    roots = {field["path"].split(".")[0] for field in change["fields"]}
    schema_paths = {field["path"] for field in change["fields"] if field["path"].startswith("schema.")}
    assert roots <= {"labels", "outputSchema", "schema"}
    assert schema_paths <= {"schema.$schema", "schema.properties"}
    page = " ".join((Path(__file__).resolve().parents[2] / "docs" / "gitops.md").read_text(encoding="utf-8").split())
    assert "the schema's `$schema` and `properties`, a permissive `outputSchema`" in page
