"""`reconciler inputs` (what the desired state reads, for CI path filters) and `reconciler show PLAN` (a saved
plan rendered again without reading the org)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = "openapi: 3.0.3\ninfo: {title: Orders, version: '1'}\npaths: {}\n"
TOOL = (
    "name: check_inventory\ndescription: Checks stock.\nendpoint: https://tools.example.com/x\n"
    "parameters:\n  sku: {type: string, required: true}\n"
)


def test_inputs_lists_the_folder_the_config_and_every_description_a_source_names(repo: Path, run: Any) -> None:
    (repo / "specs" / "v2").mkdir(parents=True)
    (repo / "specs" / "v2" / "orders.yaml").write_text(SPEC, encoding="utf-8")
    (repo / "tools.d" / "orders.yaml").write_text(
        "source:\n  openapi: ../specs/v2/orders.yaml\n  endpoint_base: https://o.example.com\n", encoding="utf-8"
    )
    (repo / "tools.d" / "broken.yaml").write_text("source:\n  openapi: ../specs/missing.yaml\n", encoding="utf-8")
    result = run("inputs")
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["reconciler.yaml", "specs/v2/orders.yaml", "tools.d/"]


def test_inputs_lists_every_file_the_descriptions_refer_to(repo: Path, run: Any) -> None:
    """A pull request that changes only a schema file a description `$ref`s changes the plan: the plan workflow
    filters on these paths, so such a pull request got no plan at all before the merge applied it."""
    (repo / "specs" / "common").mkdir(parents=True)
    (repo / "specs" / "orders.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: Orders, version: '1'}\npaths:\n  /orders:\n"
        "    $ref: 'common/paths.yaml#/orders'\n",
        encoding="utf-8",
    )
    (repo / "specs" / "common" / "paths.yaml").write_text(
        "orders:\n  get:\n    operationId: listOrders\n    responses:\n      '200':\n        description: ok\n"
        "        content:\n          application/json:\n            schema: {$ref: 'schemas%20v1.yaml#/Order'}\n",
        encoding="utf-8",
    )
    (repo / "specs" / "common" / "schemas v1.yaml").write_text(
        "Order: {type: object, properties: {line: {$ref: '#/Line'}, more: {$ref: 'paths.yaml#/orders'}}}\n"
        "Line: {$ref: '../../tools.d/line.json'}\nRemote: {$ref: 'https://example.com/x.yaml'}\n"
        "Gone: {$ref: 'missing.yaml#/X'}\nOut: {$ref: '../../../outside.yaml'}\n",
        encoding="utf-8",
    )
    (repo / "tools.d" / "line.json").write_text('{"type": "object"}', encoding="utf-8")
    (repo / "tools.d" / "bare.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: Bare, version: '1'}\nservers: [{url: 'https://b.example.com'}]\n"
        "paths:\n  /x: {$ref: '../specs/shared.yaml'}\n",
        encoding="utf-8",
    )
    (repo / "specs" / "shared.yaml").write_text("get: {operationId: getX, responses: {'200': {description: ok}}}\n")
    (repo / "tools.d" / "orders.yaml").write_text(
        "source:\n  openapi: ../specs/orders.yaml\n  endpoint_base: https://o.example.com\n", encoding="utf-8"
    )
    result = run("inputs")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "reconciler.yaml",
        "specs/common/paths.yaml",
        "specs/common/schemas v1.yaml",
        "specs/orders.yaml",
        "specs/shared.yaml",
        "tools.d/",
    ]


def test_inputs_names_paths_from_the_repository_root_whatever_the_current_folder(
    repo: Path, run: Any, monkeypatch: Any
) -> None:
    (repo / "defs").mkdir()
    monkeypatch.chdir(repo / "tools.d")
    result = run("inputs", "../defs")
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["defs/", "reconciler.yaml"]


def test_show_renders_a_saved_plan_in_every_format_without_the_org(repo: Path, run: Any) -> None:
    (repo / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")
    planned = run("plan", "--out", "saved.json", "--format", "json")
    assert planned.code == 0, planned.err
    (repo / ".reconciler").rename(repo / "elsewhere")  # the local registry is gone: show must not need it
    as_json = run("show", "saved.json", "--format", "json")
    assert as_json.code == 0, as_json.err
    assert json.loads(as_json.out) == json.loads(planned.out)
    markdown = run("show", "saved.json", "--format", "markdown")
    assert markdown.out.startswith("<!-- reconciler-plan -->\n")
    assert "check_inventory" in markdown.out
    text = run("show", "saved.json")
    assert "check_inventory" in text.out and "target:" not in text.err


def test_show_needs_no_secret_and_prints_none(repo: Path, run: Any, monkeypatch: Any) -> None:
    (repo / "tools.d" / "a.yaml").write_text(
        TOOL.replace("https://tools.example.com/x", "https://tools.example.com/${PARTNER_TOKEN}"), encoding="utf-8"
    )
    monkeypatch.setenv("PARTNER_TOKEN", "tok-1234567890")
    assert run("plan", "--out", "saved.json").code == 0
    assert "tok-1234567890" not in Path("saved.json").read_text(encoding="utf-8")
    monkeypatch.delenv("PARTNER_TOKEN")
    shown = run("show", "saved.json", "--format", "markdown")
    assert shown.code == 0, shown.err
    assert "(sensitive)" in shown.out and "tok-1234567890" not in shown.out


def test_show_a_missing_plan_file_says_so(repo: Path, run: Any) -> None:
    result = run("show", "nope.json")
    assert result.code == 1
    assert "error: no such plan file: nope.json" in result.err


def test_show_keeps_the_plans_warnings(repo: Path, run: Any) -> None:
    """The mass-delete warning plan gives reaches the pull-request comment rendered from the saved plan."""
    for name in ("a", "b", "c", "d"):
        (repo / "tools.d" / f"{name}.yaml").write_text(TOOL.replace("check_inventory", name), encoding="utf-8")
    assert run("apply", "--auto-approve").code == 0
    for name in ("b", "c", "d"):
        (repo / "tools.d" / f"{name}.yaml").unlink()
    planned = run("plan", "--out", "saved.json", "--format", "markdown")
    assert planned.code == 0, planned.err
    assert "applying this plan will be refused" in planned.out
    shown = run("show", "saved.json", "--format", "markdown")
    assert shown.out == planned.out
