"""OpenAPI schemas → draft 2020-12: what is merged, translated, kept and dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.compile.openapi import compile_openapi
from reconciler.compile.openapi.keywords import clean_required
from reconciler.config import Limits
from reconciler.load import read_documents


def convert(tmp_path: Path, schema: Any, openapi: str = "3.0.3", components: Any = None) -> tuple[Any, Any]:
    """The converted form of `schema`, nested two levels deep in a request body (so that no top-level rule
    applies), and the `$defs` of the tool."""
    description = {
        "openapi": openapi,
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/x": {
                "post": {
                    "operationId": "x",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"outer": {"type": "object", "properties": {"inner": schema}}},
                                }
                            }
                        }
                    },
                }
            }
        },
        "components": {"schemas": components or {}},
    }
    path = tmp_path / "api.json"
    path.write_text(json.dumps(description, indent=2))
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    (tool,) = result.tools
    jsonschema.Draft202012Validator.check_schema(dict(tool.schema))
    return tool.schema["properties"]["outer"]["properties"]["inner"], tool.schema.get("$defs", {})


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        (
            {"type": "string", "enum": ["a", "b"], "nullable": True},
            {"type": ["string", "null"], "enum": ["a", "b", None]},
        ),
        ({"type": ["integer", "null"]}, {"type": ["integer", "null"]}),
        # `nullable`, `x-nullable` and cleaned keywords are finished by a leaf on its own, or, written before
        # a subschema, by the full conversion: the same either way
        ({"x-nullable": True, "type": "integer"}, {"type": ["integer", "null"]}),
        ({"nullable": False, "type": "string"}, {"type": "string"}),
        ({"nullable": True, "enum": ["a", None]}, {"anyOf": [{"enum": ["a", None]}, {"type": "null"}]}),
        (
            {"nullable": True, "example": {"a": "x"}, "type": "object", "properties": {"a": {"type": "string"}}},
            {"examples": [{"a": "x"}], "type": ["object", "null"], "properties": {"a": {"type": "string"}}},
        ),
        (
            {"required": ["a", "a"], "nullable": True, "properties": {"a": {"type": "string", "nullable": True}}},
            {"anyOf": [{"required": ["a"], "properties": {"a": {"type": ["string", "null"]}}}, {"type": "null"}]},
        ),
        ({"type": "file"}, {"type": "string", "format": "binary"}),
        ({"type": "integer", "minimum": 1, "exclusiveMinimum": True}, {"type": "integer", "exclusiveMinimum": 1}),
        ({"type": "integer", "maximum": 9, "exclusiveMaximum": False}, {"type": "integer", "maximum": 9}),
        ({"type": "string", "example": "x"}, {"type": "string", "examples": ["x"]}),
        ({"type": "string", "pattern": "(?<!unbalanced"}, {"type": "string"}),
        (
            {"type": "string", "format": "date-time", "default": "2024-01-01T00:00:00Z", "maxLength": 30},
            {"type": "string", "format": "date-time", "default": "2024-01-01T00:00:00Z", "maxLength": 30},
        ),
        ({"type": "string", "x-extension": 1, "xml": {"name": "n"}, "externalDocs": {"url": "u"}}, {"type": "string"}),
        (
            {"type": "object", "required": True, "properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"a": {"type": "string"}}},
        ),
        ({"type": "int"}, {}),
        (
            {"items": [{"type": "string"}, {"type": "integer"}], "type": "array"},
            {"prefixItems": [{"type": "string"}, {"type": "integer"}], "type": "array"},
        ),
        (
            {
                "type": "object",
                "properties": {"id": {"type": "string", "readOnly": True}, "n": {"type": "string"}},
                "required": ["id", "n"],
            },
            {"type": "object", "properties": {"n": {"type": "string"}}, "required": ["n"]},  # readOnly: a response's
        ),
        (
            {"type": "object", "patternProperties": {"^x-": {"type": "string"}, "(bad": {"type": "string"}}},
            {"type": "object", "patternProperties": {"^x-": {"type": "string"}}},
        ),
        (
            {"type": "object", "properties": {"$ref": {"type": "string"}, "$schema": {"type": "integer"}}},
            {"type": "object", "properties": {"$ref": {"type": "string"}, "$schema": {"type": "integer"}}},
        ),
        (
            {"$id": "https://x", "$schema": "http://json-schema.org/draft-04/schema#", "type": "string"},
            {"type": "string"},
        ),
        (
            {"type": "string", "writeOnly": True, "deprecated": True},
            {"type": "string", "writeOnly": True, "deprecated": True},
        ),
    ],
)
def test_keywords(tmp_path: Path, schema: Any, expected: Any) -> None:
    assert convert(tmp_path, schema)[0] == expected


def test_nullable_reference_to_a_definition_becomes_any_of_with_null(tmp_path: Path) -> None:
    inner, defs = convert(
        tmp_path,
        {"allOf": [{"$ref": "#/components/schemas/Node"}], "nullable": True, "description": "A node or nothing."},
        components={"Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}},
    )
    assert inner == {
        "description": "A node or nothing.",
        "anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}],
    }
    assert defs == {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}


def test_nullable_reference_to_a_small_schema_is_inlined_with_null_in_its_type(tmp_path: Path) -> None:
    inner, defs = convert(
        tmp_path,
        {"allOf": [{"$ref": "#/components/schemas/Thing"}], "nullable": True, "description": "A thing or nothing."},
        components={
            "Thing": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
        },
    )
    assert inner == {
        "description": "A thing or nothing.",
        "type": ["object", "null"],
        "properties": {"a": {"type": "string"}},
        "additionalProperties": False,
    }
    assert defs == {}


def test_all_of_is_merged_when_nothing_is_lost(tmp_path: Path) -> None:
    inner, defs = convert(
        tmp_path,
        {
            "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}},
            ],
            "description": "Merged.",
        },
        components={"Base": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}},
    )
    assert inner == {
        "description": "Merged.",
        "type": "object",
        "required": ["a", "b"],
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
    }
    assert defs == {}


@pytest.mark.parametrize(
    "parts",
    [
        # additionalProperties: false would reject the other part's properties once merged
        [
            {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
            {"type": "object", "properties": {"b": {"type": "string"}}},
        ],
        # the same property, two different schemas
        [{"properties": {"a": {"type": "string"}}}, {"properties": {"a": {"type": "integer"}}}],
        # the same keyword, two values
        [{"type": "string", "maxLength": 3}, {"type": "string", "maxLength": 5}],
    ],
)
def test_all_of_stays_when_merging_would_change_its_meaning(tmp_path: Path, parts: list[Any]) -> None:
    inner, _ = convert(tmp_path, {"allOf": parts})
    assert len(inner["allOf"]) == 2


def test_one_of_any_of_and_discriminator(tmp_path: Path) -> None:
    inner, defs = convert(
        tmp_path,
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/components/schemas/Cat"}},
        },
        components={
            "Cat": {"type": "object", "properties": {"kind": {"const": "cat"}, "lives": {"type": "integer"}}},
            "Dog": {
                "type": "object",
                "properties": {"kind": {"const": "dog"}},
                "anyOf": [{"required": ["bark"]}, {"required": ["wag"]}],
            },
        },
    )
    assert "discriminator" not in inner
    assert inner["oneOf"][0]["properties"]["lives"] == {"type": "integer"}
    assert inner["oneOf"][1]["anyOf"] == [{"required": ["bark"]}, {"required": ["wag"]}]
    assert defs == {}


def test_large_referenced_schemas_become_definitions_and_small_ones_are_inlined(tmp_path: Path) -> None:
    big = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(40)}}
    inner, defs = convert(
        tmp_path,
        {
            "type": "object",
            "properties": {
                "big": {"$ref": "#/components/schemas/Big"},
                "small": {"$ref": "#/components/schemas/Small"},
            },
        },
        components={"Big": big, "Small": {"type": "string", "enum": ["a"]}},
    )
    assert inner["properties"]["big"] == {"$ref": "#/$defs/Big"}
    assert inner["properties"]["small"] == {"type": "string", "enum": ["a"]}
    assert defs["Big"] == big


def test_openapi_31_schemas_pass_through(tmp_path: Path) -> None:
    schema = {"type": ["string", "null"], "const": "x", "examples": ["x"], "contentMediaType": "text/plain"}
    assert convert(tmp_path, schema, openapi="3.1.0")[0] == schema


def test_schemas_fixture(oa: Any) -> None:
    result = oa.compile("schemas.yaml")
    for tool in result.tools:
        oa.check_tool(tool)
    create = oa.tool(result, "createPet")
    assert create.endpoint == "https://eu.api.example.com/v2/pets"  # server variables take their defaults
    assert create.schema["required"] == ["name", "kind"]
    assert create.schema["properties"]["kind"] == {"type": "string", "enum": ["cat", "dog"], "default": "cat"}
    # a nullable top-level parameter keeps its type (the model may leave it out); nested ones get "null"
    assert create.schema["properties"]["weight"] == {"type": "number", "minimum": 0}
    assert create.schema["properties"]["tags"]["items"] == {
        "type": ["string", "null"],
        "enum": ["small", "large", None],
    }

    owner = oa.tool(result, "createOwner").schema["properties"]["body"]
    person = owner["oneOf"][0]
    assert set(person["properties"]) == {"kind", "name", "x-internal", "address"}
    assert person["properties"]["address"] == {"type": ["object", "null"], "properties": {"street": {"type": "string"}}}

    search = oa.tool(result, "search").schema
    assert search["properties"]["q"] == {"type": "string", "pattern": "^[a-z]+$"}
    assert search["properties"]["broken"] == {"type": "string"}
    assert search["properties"]["mode"] == {"type": "string", "enum": ["fast", "exact"]}
    assert search["properties"]["filter"] == {"type": "object", "properties": {"field": {"type": "string"}}}
    assert oa.tool(result, "replacePet").schema["properties"]["petId"] == {"type": "integer", "exclusiveMinimum": 1}


_CONNECTION = {"type": "object", "properties": {"uri": {"type": "string"}, "port": {"type": "integer"}}}
_READ_ONLY_FORMS = {
    "allOf sibling": {"allOf": [{"$ref": "#/components/schemas/Connection"}, {"readOnly": True}]},
    "allOf sibling, no $ref": {"allOf": [{"type": "string"}, {"readOnly": True, "description": "Set by the server."}]},
    "allOf nested": {"allOf": [{"allOf": [{"$ref": "#/components/schemas/Connection"}, {"readOnly": True}]}]},
    "$ref chain": {"$ref": "#/components/schemas/Alias"},
    "$ref to an allOf": {"$ref": "#/components/schemas/ReadOnlyConnection"},
}
_COMPONENTS = {
    "Connection": _CONNECTION,
    "ReadOnlyConnection": {"allOf": [{"$ref": "#/components/schemas/Connection"}, {"readOnly": True}]},
    "Alias": {"$ref": "#/components/schemas/Stamp"},
    "Stamp": {"type": "string", "format": "date-time", "readOnly": True},
}


@pytest.mark.parametrize("form", list(_READ_ONLY_FORMS))
def test_read_only_properties_are_left_out_however_read_only_is_written(tmp_path: Path, form: str) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "given": _READ_ONLY_FORMS[form]},
        "required": ["given", "name"],  # a read-only one is required in a response only
    }
    inner, _ = convert(tmp_path, schema, components=_COMPONENTS)
    assert inner == {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def test_required_goes_when_every_name_in_it_is_read_only(tmp_path: Path) -> None:
    schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "readOnly": True}}}
    assert convert(tmp_path, schema)[0] == {"type": "object", "properties": {}}


@pytest.mark.parametrize(
    "schema",
    [
        {"allOf": [{"$ref": "#/components/schemas/ReadOnlyConnection"}], "readOnly": False},
        {"allOf": [{"$ref": "#/components/schemas/Connection"}, {"description": "Where to connect."}]},
        {"oneOf": [{"$ref": "#/components/schemas/Stamp"}, {"type": "integer"}]},
        {"$ref": "#/components/schemas/Loop"},
    ],
    ids=["readOnly false written here wins", "allOf without readOnly", "a writable oneOf branch", "a $ref cycle"],
)
def test_properties_that_are_not_read_only_stay(tmp_path: Path, schema: Any) -> None:
    components = {
        **_COMPONENTS,
        "Loop": {"$ref": "#/components/schemas/Loop2"},
        "Loop2": {"allOf": [{"$ref": "#/components/schemas/Loop"}]},
    }
    inner, _ = convert(tmp_path, {"type": "object", "properties": {"given": schema}}, components=components)
    assert "given" in inner["properties"]


def test_read_only_body_properties_written_through_all_of_are_not_tool_parameters(tmp_path: Path) -> None:
    """A request body's own properties become the tool's parameters: the same rule applies to them."""
    body = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "connection": _READ_ONLY_FORMS["allOf sibling"],
            "created": _READ_ONLY_FORMS["$ref chain"],
            "id": {"type": "string", "readOnly": True},
        },
    }
    description = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/pools": {
                "post": {"operationId": "add", "requestBody": {"content": {"application/json": {"schema": body}}}}
            }
        },
        "components": {"schemas": _COMPONENTS},
    }
    path = tmp_path / "api.json"
    path.write_text(json.dumps(description))
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    (tool,) = result.tools
    assert tool.schema["properties"] == {"name": {"type": "string"}}
    assert set(tool.request["parameters"]) == {"name"}


@given(st.one_of(st.lists(st.one_of(st.sampled_from("abc"), st.text(max_size=3), st.integers(), st.none())), st.text()))
def test_required_keeps_each_name_once_in_the_order_written(value: Any) -> None:
    names = [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
    first_of_each = [name for index, name in enumerate(names) if name not in names[:index]]
    assert clean_required(value) == (first_of_each or None)
