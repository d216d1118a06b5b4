"""Helpers of the OpenAPI compiler tests, as fixtures: compile a fixture, check what every emitted tool promises."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.compile.openapi import OpenApiResult, compile_openapi
from reconciler.config import Limits
from reconciler.load import Document, read_documents
from reconciler.model import Tool

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "openapi"
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def load(path: Path) -> Document:
    return read_documents(path)[0]


def compile_fixture(
    name: str,
    source: Mapping[str, Any] | None = None,
    *,
    root: Path = FIXTURES,
    limits: Limits | None = None,
    source_document: Document | None = None,
) -> OpenApiResult:
    return compile_openapi(
        load(FIXTURES / name),
        source=source,
        source_document=source_document,
        root=root,
        limits=limits or Limits(),
    )


def tool(result: OpenApiResult, name: str) -> Tool:
    found = [t for t in result.tools if t.name == name]
    assert found, f"no tool {name!r} among {[t.name for t in result.tools]}"
    return found[0]


def refs(value: Any) -> Iterator[str]:
    """Every `$ref` string in a schema (a property named `$ref` is a key of `properties`, not a reference)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            elif key in ("enum", "const", "default", "examples"):
                continue  # values, not schemas
            elif key in ("properties", "patternProperties", "$defs", "dependentSchemas") and isinstance(item, dict):
                for sub in item.values():
                    yield from refs(sub)
            else:
                yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def check_tool(tool: Tool, limits: Limits | None = None) -> None:
    """What every emitted tool promises: a valid name, a valid 2020-12 schema without dangling references,
    at most `max_parameters` parameters, a description of 1–255 characters."""
    limits = limits or Limits()
    assert NAME.match(tool.name), tool.name
    schema = dict(tool.schema)
    assert "$schema" not in schema
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema.get("type") == "object"
    assert len(schema.get("properties", {})) <= limits.max_parameters, tool.name
    defs = schema.get("$defs", {})
    for ref in refs(schema):
        assert ref.startswith("#/$defs/"), (tool.name, ref)
        assert ref[len("#/$defs/") :] in defs, (tool.name, ref)
    # and every definition is used: reachable from the properties
    used: set[str] = set()
    pending = [ref[len("#/$defs/") :] for ref in refs(schema.get("properties", {}))]
    while pending:
        name = pending.pop()
        if name not in used:
            used.add(name)
            pending.extend(ref[len("#/$defs/") :] for ref in refs(defs[name]))
    assert used == set(defs), (tool.name, set(defs) - used)
    assert 1 <= len(tool.description) <= limits.max_description_length, (tool.name, tool.description)
    assert tool.origin == "openapi"
    assert not tool.schema_is_user_written
    assert tool.request is not None
    assert set(tool.request["parameters"]) >= set(schema.get("properties", {}))
    assert set(schema.get("required", [])) <= set(schema.get("properties", {}))


class Helpers:
    """The helpers above, as one fixture (tests import nothing from here: pytest runs in importlib mode)."""

    fixtures = FIXTURES
    load = staticmethod(load)
    compile = staticmethod(compile_fixture)
    tool = staticmethod(tool)
    refs = staticmethod(refs)
    check_tool = staticmethod(check_tool)


@pytest.fixture
def oa() -> Helpers:
    return Helpers()
