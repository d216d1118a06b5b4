"""The JSON Schema shipped for editors (README: `# yaml-language-server: $schema=…`) agrees with the loader."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "reconciler" / "schema" / "tools-file.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def readme_examples() -> list[Any]:
    """The tool definition and the source shown under 'The file format' in the README."""
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## The file format", 1)[1]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)[:2]]


def test_the_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", sorted((REPO / "tools.d").glob("*.yaml")), ids=lambda p: p.name)
def test_the_shipped_tools_d_files_meet_it(path: Path) -> None:
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        assert list(VALIDATOR.iter_errors(document)) == []


def test_the_readme_examples_meet_it() -> None:
    tool, source = readme_examples()
    assert "name" in tool and "source" in source
    for document in (tool, source):
        assert list(VALIDATOR.iter_errors(document)) == []


@pytest.mark.parametrize(
    "broken",
    [
        {"name": "t", "description": "d"},  # no endpoint
        {"name": "t", "description": "d", "endpoint": "https://x", "colour": "red"},  # unknown key
        {"name": "t", "description": "d", "endpoint": "https://x", "parameters": {}, "schema": {}},  # both
    ],
)
def test_what_validate_refuses_it_marks_too(broken: dict[str, Any]) -> None:
    assert list(VALIDATOR.iter_errors(broken)) != []


GOOD = {"name": "check_stock", "description": "Checks stock.", "endpoint": "https://tools.example.com/x"}


@pytest.mark.parametrize(
    ("change", "keyword"),
    [
        ({"name": "check stock"}, "pattern"),
        ({"name": "x" * 65}, "pattern"),
        ({"description": "d" * 256}, "maxLength"),
        ({"description": ""}, "minLength"),
        ({"endpoint": "http://tools.example.com/x"}, "pattern"),
        ({"parameters": {f"p{i}": {"type": "string"} for i in range(11)}}, "maxProperties"),
        ({"parameters": {"p": {"type": "int"}}}, "enum"),
    ],
)
def test_the_editor_sees_the_limits_validate_enforces(change: dict[str, Any], keyword: str) -> None:
    """What `validate` refuses by the capability matrix's defaults, an editor marks while typing."""
    tool = jsonschema.Draft202012Validator({"$ref": "#/$defs/tool", "$defs": SCHEMA["$defs"]})
    assert [error.validator for error in tool.iter_errors({**GOOD, **change})] == [keyword]
    assert list(VALIDATOR.iter_errors({**GOOD, **change})) != []


@pytest.mark.parametrize(
    "endpoint",
    ["https://x.example.com", "http://localhost:8080/x", "http://127.0.0.1/x", "http://[::1]/x", "${BASE_URL}/x"],
)
def test_endpoints_validate_accepts_pass_in_the_editor(endpoint: str) -> None:
    assert list(VALIDATOR.iter_errors({**GOOD, "endpoint": endpoint})) == []
