"""`outputSchema` on the tools target, as a user meets it: render, plan → apply → plan, a changed answer in the
OpenAPI description, the upgrade from a registry written without it, and export → plan."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.compile import DIGEST_LABEL, digest
from reconciler.emulator import Registry, RunningEmulator

Run = Callable[..., Any]
DIALECT = "https://json-schema.org/draft/2020-12/schema"

SOURCE = """source:
  openapi: ../specs/orders.yaml
  endpoint_base: https://orders.example.com/v1
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
      responses:
        "200":
          description: The order.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Order"}
        "404": {description: No such order.}
    delete:
      operationId: cancelOrder
      summary: Cancel an order.
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "204": {description: Cancelled.}
components:
  schemas:
    Order:
      type: object
      required: [id, status]
      properties:
        id: {type: string}
        status: {type: string, enum: [open, paid]}
        total: {type: number}
"""
HAND_WRITTEN = """name: lookup
description: Looks things up.
endpoint: https://tools.example.com/lookup
parameters:
  q: {type: string, description: Query, required: true}
"""
ORDER = {
    "$schema": DIALECT,
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "paid"]},
        "total": {"type": "number"},
    },
}
ANY_OBJECT = {"$schema": DIALECT, "type": "object"}


def _write(repo: Path, spec: str = SPEC) -> None:
    (repo / "tools.d" / "orders.yaml").write_text(SOURCE, encoding="utf-8")
    (repo / "tools.d" / "lookup.yaml").write_text(HAND_WRITTEN, encoding="utf-8")
    (repo / "specs").mkdir(exist_ok=True)
    (repo / "specs" / "orders.yaml").write_text(spec, encoding="utf-8")


def test_render_sends_the_success_schema_and_a_permissive_object_where_there_is_none(repo: Path, run: Run) -> None:
    _write(repo)
    registry = run("render")
    assert registry.code == 0, registry.err
    by_name = {payload["name"]: payload for payload in json.loads(registry.out)}
    assert by_name["getOrder"]["outputSchema"] == ORDER
    assert by_name["cancelOrder"]["outputSchema"] == ANY_OBJECT  # a 204: no JSON answer
    assert by_name["lookup"]["outputSchema"] == ANY_OBJECT  # hand-written, no output_schema

    openai = run("render", "--format", "openai")
    assert openai.code == 0, openai.err
    assert "outputSchema" not in openai.out and "status" not in openai.out  # the function form has no output


def test_plan_apply_plan_is_empty_against_the_local_registry(repo: Path, run: Run) -> None:
    _write(repo)
    assert run("apply", "--auto-approve").code == 0
    state = Registry(repo / ".reconciler" / "registry.db")
    stored = {tool["name"]: tool for tool in state.all_tools()}
    state.close()
    assert stored["getOrder"]["outputSchema"] == ORDER
    assert stored["lookup"]["outputSchema"] == ANY_OBJECT
    again = run("plan", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err


def test_a_changed_success_schema_is_an_update_of_output_schema_and_a_reordered_required_is_not(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _write(repo)
    assert run("apply", "--auto-approve").code == 0

    _write(repo, SPEC.replace("required: [id, status]", "required: [status, id]"))
    assert run("plan", "--detailed-exitcode").code == 0  # the order of `required` means nothing

    _write(repo, SPEC.replace("total: {type: number}", "total: {type: number}\n        currency: {type: string}"))
    plan = run("plan", "--detailed-exitcode", "--format", "json")
    assert plan.code == 2, plan.err
    (change,) = json.loads(plan.out)["changes"]
    assert (change["name"], change["action"], change["drift"]) == ("getOrder", "update", False)
    paths = [field["path"] for field in change["fields"]]
    assert paths == ["labels.reconciler-digest", "outputSchema.properties.currency"]
    assert run("apply", "--auto-approve").code == 0
    stored = next(tool for tool in emulator.registry.all_tools() if tool["name"] == "getOrder")
    assert stored["outputSchema"]["properties"]["currency"] == {"type": "string"}


def test_tools_written_before_output_schema_are_updated_once_not_drifted(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _write(repo)
    assert run("apply", "--auto-approve").code == 0
    for tool in emulator.registry.all_tools():  # as an earlier version wrote them: no outputSchema, nor in the digest
        earlier = {key: value for key, value in tool.items() if key != "outputSchema"}
        earlier["labels"] = {**tool["labels"], DIGEST_LABEL: digest(earlier)}
        emulator.registry.put_raw(earlier)
    plan = run("plan", "--detailed-exitcode", "--format", "json")
    assert plan.code == 2
    changes = json.loads(plan.out)["changes"]
    assert len(changes) == 3
    assert all(c["action"] == "update" and not c["drift"] for c in changes)
    assert all(
        [f["path"] for f in c["fields"] if not f["path"].startswith("labels.")] == ["outputSchema"] for c in changes
    )
    assert run("apply", "--auto-approve").code == 0
    assert run("plan", "--detailed-exitcode").code == 0


def test_export_writes_output_schema_and_plan_of_the_export_is_empty(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _write(repo)
    assert run("apply", "--auto-approve").code == 0
    exported = run("export", "--out", "exported")
    assert exported.code == 0, exported.err
    order = yaml.safe_load((repo / "exported" / "getOrder.yaml").read_text(encoding="utf-8"))
    assert order["output_schema"] == {key: value for key, value in ORDER.items() if key != "$schema"}
    lookup = yaml.safe_load((repo / "exported" / "lookup.yaml").read_text(encoding="utf-8"))
    assert "output_schema" not in lookup  # the default is left unwritten

    for name in ("orders.yaml", "lookup.yaml"):
        (repo / "tools.d" / name).unlink()
    plan = run("plan", "exported", "--detailed-exitcode", "--format", "json")
    assert plan.code == 0, plan.out + plan.err
    assert json.loads(plan.out)["summary"]["unchanged"] == 3


def test_a_written_output_schema_is_sent_and_a_broken_one_is_an_error_at_its_line(repo: Path, run: Run) -> None:
    written = HAND_WRITTEN + "output_schema:\n  type: object\n  properties:\n    hits: {type: array}\n"
    (repo / "tools.d" / "lookup.yaml").write_text(written, encoding="utf-8")
    rendered = json.loads(run("render").out)
    assert rendered[0]["outputSchema"] == {
        "$schema": DIALECT,
        "type": "object",
        "properties": {"hits": {"type": "array"}},
    }

    (repo / "tools.d" / "lookup.yaml").write_text(written.replace("{type: array}", "{type: list}"), encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert "tools.d/lookup.yaml:8:" in result.out and "output_schema of 'lookup' is not valid JSON Schema" in result.out
    assert run("apply", "--auto-approve").code == 1  # nothing sent


def test_ignore_changes_keeps_the_live_output_schema(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    _write(repo)
    assert run("apply", "--auto-approve").code == 0
    source = SOURCE + "  overrides: {getOrder: {ignore_changes: [output_schema]}}\n"
    (repo / "tools.d" / "orders.yaml").write_text(source, encoding="utf-8")
    (repo / "specs" / "orders.yaml").write_text(SPEC.replace("total: {type: number}", "total: {type: string}"))
    plan = run("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err


PETSTORE = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "openapi" / "oai-examples" / "v3.0"


@pytest.mark.skipif(not (PETSTORE / "petstore.yaml").is_file(), reason="no corpus")
def test_the_corpus_petstore_renders_its_answers_and_converges_against_the_local_registry(repo: Path, run: Run) -> None:
    (repo / "specs").mkdir()
    shutil.copy(PETSTORE / "petstore.yaml", repo / "specs" / "orders.yaml")
    (repo / "tools.d" / "orders.yaml").write_text(SOURCE, encoding="utf-8")
    rendered = run("render")
    assert rendered.code == 0, rendered.err
    by_name = {payload["name"]: payload["outputSchema"] for payload in json.loads(rendered.out)}
    pet = by_name["showPetById"]
    assert (pet["type"], sorted(pet["required"]), sorted(pet["properties"])) == (
        "object",
        ["id", "name"],
        ["id", "name", "tag"],
    )
    pets = by_name["listPets"]
    assert (pets["type"], pets["maxItems"]) == ("array", 100)
    assert by_name["createPets"] == ANY_OBJECT  # 201 without a body
    assert run("apply", "--auto-approve").code == 0
    assert run("plan", "--detailed-exitcode").code == 0
