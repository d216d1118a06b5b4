"""target: data-actions: validate checks the platform's limits offline; render shows the PostActionInput bodies."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.compile.data_actions import DRAFT_04, nesting

SEARCH = """\
    name: search_orders
    description: Finds orders.
    endpoint: https://tools.example.com/search
    timeout: 12
    secure: true
    rate_limit: {requests_per_minute: 60}
    labels: {team: commerce}
    parameters:
      a: {type: string, description: A}
      b: {type: string, description: B}
      c: {type: string, description: C}
      d: {type: string, description: D}
      e: {type: string, description: E}
"""

TREE = """\
    name: tree
    description: Takes a tree.
    endpoint: https://tools.example.com/tree
    timeout: 2.5
    schema:
      type: object
      properties:
        root: {$ref: "#/$defs/node"}
      $defs:
        node: {type: object, properties: {children: {type: array, items: {$ref: "#/$defs/node"}}}}
"""


def write(repo: Path, files: dict[str, str], target: str = "data-actions") -> None:
    integration = "integration: Orders\n" if target == "data-actions" else ""
    (repo / "reconciler.yaml").write_text(f"target: {target}\n{integration}", encoding="utf-8")
    for name, text in files.items():
        (repo / "tools.d" / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_validate_warns_of_what_an_action_has_no_place_for_and_what_guides_cannot_use(
    repo: Path, run: Callable[..., Any]
) -> None:
    write(repo, {"search.yaml": SEARCH})

    result = run("validate", "tools.d", "--format", "json")

    assert result.code == 0, result.output
    found = {(d["line"], d["severity"], d["message"]) for d in json.loads(result.out)["diagnostics"]}
    assert found == {
        (
            6,
            "warning",
            "rate_limit of 'search_orders' has no place on a Data Action and is not sent (the platform "
            "limits the integration as a whole)",
        ),
        (7, "warning", "labels of 'search_orders' have no place on a Data Action and are not sent"),
        (5, "warning", "'search_orders' is secure: AI Guides cannot use secure Data Actions"),
        (8, "warning", "'search_orders' has 5 inputs; an AI Guide uses at most 4 inputs of an action"),
    }
    assert run("validate", "tools.d", "--strict").code == 1


def test_the_same_tools_are_clean_for_the_tools_target(repo: Path, run: Callable[..., Any]) -> None:
    write(repo, {"search.yaml": SEARCH}, target="tools")

    result = run("validate", "tools.d", "--format", "json")

    assert json.loads(result.out)["diagnostics"] == []


def test_validate_refuses_what_an_action_cannot_be_at_its_line(repo: Path, run: Callable[..., Any]) -> None:
    write(repo, {"tree.yaml": TREE})

    result = run("validate", "tools.d")

    assert result.code == 1
    timeout = "tools.d/tree.yaml:4:1: error: 'tree' cannot become a Data Action: timeout: 2.5 s; a Data Action takes"
    assert f"{timeout} whole seconds, 1 to 60" in result.out
    assert "tools.d/tree.yaml:8:" in result.out
    assert "'tree' cannot become a Data Action: parameter 'root'" in result.out
    assert "refers to itself" in result.out


def test_an_unknown_target_is_an_error_in_reconciler_yaml(repo: Path, run: Callable[..., Any]) -> None:
    write(repo, {"search.yaml": SEARCH}, target="actions")

    result = run("validate", "tools.d")

    assert result.code == 1
    assert "reconciler.yaml:1:1: error: target 'actions' is not one of: tools, data-actions" in result.output


NO_INTEGRATION = (
    "reconciler.yaml:2:1: error: target data-actions needs `integration:` too: the name or id of the Web Services "
    "Data Actions integration whose actions this repository manages (docs/data-actions.md)"
)


def test_validate_refuses_data_actions_without_an_integration_at_the_target_line(
    repo: Path, run: Callable[..., Any]
) -> None:
    """plan cannot run without the integration: validate, the offline gate of CI, says so first."""
    write(repo, {"search.yaml": SEARCH})
    (repo / "reconciler.yaml").write_text("managed_by: shop\ntarget: data-actions\n", encoding="utf-8")

    for argv in (("validate", "tools.d"), ("validate", "reconciler.yaml")):
        result = run(*argv)
        assert result.code == 1, argv
        assert NO_INTEGRATION in result.out
    github = run("validate", "--format", "github").out
    assert "::error file=reconciler.yaml,line=2,col=1,title=reconciler::target data-actions needs" in github
    # render stays an offline preview: the category shows as a placeholder until the integration is named
    assert run("render", "tools.d", "--format", "data-actions").code == 0


def test_plan_without_an_integration_names_the_target_line_and_sends_nothing(
    repo: Path, run: Callable[..., Any]
) -> None:
    write(repo, {"search.yaml": SEARCH.replace("    rate_limit: {requests_per_minute: 60}\n", "")})
    (repo / "reconciler.yaml").write_text("managed_by: shop\ntarget: data-actions\n", encoding="utf-8")

    result = run("plan")

    assert result.code == 1
    assert NO_INTEGRATION in result.err
    assert "Traceback" not in result.output
    assert not (repo / ".reconciler").exists()


def test_a_category_over_256_characters_is_an_error(repo: Path, run: Callable[..., Any]) -> None:
    write(repo, {"search.yaml": SEARCH})
    (repo / "reconciler.yaml").write_text(f"target: data-actions\ncategory: {'c' * 257}\n", encoding="utf-8")

    result = run("validate", "tools.d")

    assert result.code == 1
    assert "reconciler.yaml:2:1: error: 'category' is 257 characters; a Data Action's category holds 256" in (
        result.output
    )


def test_render_shows_the_post_action_input_bodies(repo: Path, run: Callable[..., Any]) -> None:
    write(repo, {"search.yaml": SEARCH})

    result = run("render", "tools.d", "--format", "data-actions")

    assert result.code == 0, result.err
    (body,) = json.loads(result.out)
    assert sorted(body) == ["category", "config", "contract", "integrationId", "name", "secure"]
    assert body["config"]["timeoutSeconds"] == 12
    assert body["secure"] is True
    assert body["contract"]["input"]["inputSchema"]["$schema"] == DRAFT_04
    assert (
        body["config"]["request"]["requestTemplate"] == '{"tool_name":"search_orders","parameters":${input.rawRequest}}'
    )


def test_render_takes_an_integration_given_by_id_as_its_id_not_as_the_category(
    repo: Path, run: Callable[..., Any]
) -> None:
    write(repo, {"search.yaml": SEARCH})
    by_id = "integration: 5f2b9a0e-3c1d-4e8f-9a6b-7d0c1e2f3a4b\n"
    (repo / "reconciler.yaml").write_text("target: data-actions\n" + by_id, encoding="utf-8")

    by_id_body = json.loads(run("render", "tools.d", "--format", "data-actions").out)[0]
    write(repo, {"search.yaml": SEARCH})  # integration: Orders, by name
    by_name_body = json.loads(run("render", "tools.d", "--format", "data-actions").out)[0]

    # plan and apply use the integration's name as the category: offline, an id gives no name to show
    assert (by_id_body["integrationId"], by_id_body["category"]) == (
        "5f2b9a0e-3c1d-4e8f-9a6b-7d0c1e2f3a4b",
        "(integration name)",
    )
    assert (by_name_body["integrationId"], by_name_body["category"]) == ("(integration id)", "Orders")


def test_render_names_every_tool_that_cannot_be_an_action(repo: Path, run: Callable[..., Any]) -> None:
    write(repo, {"search.yaml": SEARCH, "tree.yaml": TREE.replace("    timeout: 2.5\n", "")}, target="tools")

    result = run("render", "tools.d", "--format", "data-actions")

    assert result.code == 1
    assert "tree.yaml:7:" in result.err
    assert result.out == ""


def test_nesting_counts_the_levels_of_the_json_a_schema_describes() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(51):
        deep = {"type": "object", "properties": {"x": deep}}
    assert nesting(deep) == 51
    assert nesting({"type": "array", "items": {"anyOf": [{"type": "object", "properties": {}}, {"type": "null"}]}}) == 2
