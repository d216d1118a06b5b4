"""What validate used to pass and the API refuses, or what a person meant: shorthand schemas held to JSON Schema
(a `pattern` must compile), enum/default of the parameter's type, `required` naming a property, typo hints
for values, and warnings for files that look like desired state but are not read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

HEAD = "name: t\ndescription: Does t.\nendpoint: https://tools.example.com/t\n"


def validate(repo: Path, run: Any, text: str, name: str = "t.yaml") -> Any:
    (repo / "tools.d" / name).write_text(text, encoding="utf-8")
    return run("validate")


def test_a_broken_pattern_in_shorthand_parameters_is_an_error(repo: Path, run: Any) -> None:
    result = validate(repo, run, HEAD + 'parameters:\n  sku: {type: string, description: SKU, pattern: "[a-"}\n')
    assert result.code == 1
    assert (
        "tools.d/t.yaml:5:41: error: parameter 'sku' ('pattern') of 't' is not valid JSON Schema: '[a-' is not a "
        "valid regular expression"
    ) in result.out


def test_a_good_pattern_passes(repo: Path, run: Any) -> None:
    result = validate(repo, run, HEAD + 'parameters:\n  sku: {type: string, description: SKU, pattern: "^[A-Z]{3}$"}\n')
    assert result.code == 0, result.out


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "{type: string, description: d, enum: [small, 5]}",
            "enum value 5 of parameter 'p' of 't' is not of its type (string)",
        ),
        (
            "{type: integer, description: d, enum: [1, 2.5]}",
            "enum value 2.5 of parameter 'p' of 't' is not of its type (integer)",
        ),
        (
            "{type: integer, description: d, default: '10'}",
            "default '10' of parameter 'p' of 't' is not of its type (integer)",
        ),
        (
            "{type: boolean, description: d, default: 0}",
            "default 0 of parameter 'p' of 't' is not of its type (boolean)",
        ),
    ],
)
def test_enum_and_default_values_of_the_wrong_type_are_errors(repo: Path, run: Any, spec: str, message: str) -> None:
    result = validate(repo, run, HEAD + f"parameters:\n  p: {spec}\n")
    assert result.code == 1
    assert message in result.out


@pytest.mark.parametrize(
    "spec",
    [
        "{type: number, description: d, enum: [1, 2.5], default: 1}",
        "{type: integer, description: d, default: 3}",
        "{type: array, description: d, default: [], items: {type: string}}",
    ],
)
def test_values_of_the_right_type_pass(repo: Path, run: Any, spec: str) -> None:
    result = validate(repo, run, HEAD + f"parameters:\n  p: {spec}\n")
    assert result.code == 0, result.out


def test_a_full_schema_is_held_to_its_types_too(repo: Path, run: Any) -> None:
    schema = "schema:\n  type: object\n  properties:\n    p: {type: [string, 'null'], description: d, default: %s}\n"
    assert validate(repo, run, HEAD + schema % "null").code == 0
    result = validate(repo, run, HEAD + schema % "1")
    assert result.code == 1
    assert (
        "tools.d/t.yaml:7:49: error: default 1 of parameter 'p' of 't' is not of its type (string or null)"
        in result.out
    )


def test_required_naming_an_unknown_property_is_an_error_with_a_hint(repo: Path, run: Any) -> None:
    schema = "schema:\n  type: object\n  properties: {sku: {type: string, description: d}}\n  required: [skus]\n"
    result = validate(repo, run, HEAD + schema)
    assert result.code == 1
    assert (
        "tools.d/t.yaml:7:3: error: 'required' of 't' names 'skus', which is not one of its properties; "
        "did you mean 'sku'? properties: sku"
    ) in result.out


@pytest.mark.parametrize(
    ("written", "meant"), [("int", "integer"), ("Integer", "integer"), ("strng", "string"), ("bool", "boolean")]
)
def test_typo_hints_for_types(repo: Path, run: Any, written: str, meant: str) -> None:
    result = validate(repo, run, HEAD + f"parameters:\n  p: {{type: {written}, description: d}}\n")
    assert result.code == 1
    assert (
        f"has unsupported type '{written}'; supported: string, number, integer, boolean, array, object; "
        f"did you mean '{meant}'?" in result.out
    )
    assert result.out.count("error:") == 1  # said once, not again as a schema error


def test_typo_hints_for_other_values(repo: Path, run: Any) -> None:
    result = validate(repo, run, HEAD + "ignore_changes: [descripton]\n")
    assert "'ignore_changes.0' is 'descripton'; did you mean 'description'? use one of:" in result.out


def test_limits_are_said_once_and_come_from_reconciler_yaml(repo: Path, run: Any) -> None:
    """The editor schema carries the default limits; validate enforces reconciler.yaml's, in its own words."""
    parameters = "".join(f"  p{i}: {{type: string, description: d}}\n" for i in range(11))
    result = validate(repo, run, HEAD.replace("name: t", "name: bad name") + "parameters:\n" + parameters)
    assert result.code == 1
    assert result.out.count("error:") == 2, result.out
    assert "invalid tool name 'bad name'" in result.out and "has 11 parameters; the limit is 10" in result.out
    (repo / "reconciler.yaml").write_text("limits: {max_parameters: 12}\n", encoding="utf-8")
    loosened = validate(repo, run, HEAD + "parameters:\n" + parameters)
    assert loosened.code == 0, loosened.out


def test_files_that_look_like_desired_state_but_are_ignored_get_a_warning(repo: Path, run: Any) -> None:
    tools = repo / "tools.d"
    for name in ("a.YAML", "b.ymal", "c.jsn", "notes.md", "d.yaml~", "e.jsonl"):
        (tools / name).write_text(HEAD, encoding="utf-8")
    (tools / "empty.yaml").write_text("openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 0
    warnings = [line for line in result.out.splitlines() if ": warning: " in line]
    ignored = "warning: ignored: only files ending in .yaml, .yml or .json are read; rename it to"
    assert warnings == [
        "tools.d/a.YAML:1:1: warning: not read: only .yaml, .yml, .json files count (not .YAML); rename it to a.yaml",
        f"tools.d/b.ymal:1:1: {ignored} b.yaml if it is desired state",
        f"tools.d/c.jsn:1:1: {ignored} c.json if it is desired state",
        "tools.d/empty.yaml:1:1: warning: this OpenAPI description has no paths: no tool comes from it",
    ]
    assert run("validate", "--strict").code == 1
