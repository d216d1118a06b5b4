"""The two directions of one schema: what is sent (a tool's input) leaves out `readOnly` properties, what is
answered (its output schema) leaves out `writeOnly` ones, each with its name in `required`, however the mark is
written (on the property, through a `$ref` chain, on a part of an `allOf`), and whichever direction a shared
component is converted in first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents

_USER = {
    "type": "object",
    "required": ["id", "name", "password", "created"],
    "properties": {
        "id": {"type": "string", "readOnly": True},
        "created": {"$ref": "#/components/schemas/Stamp"},  # read-only through a $ref chain
        "links": {"allOf": [{"$ref": "#/components/schemas/Links"}, {"readOnly": True}]},
        "name": {"type": "string"},
        "password": {"type": "string", "writeOnly": True},
        "pin": {"allOf": [{"$ref": "#/components/schemas/Pin"}, {"writeOnly": True}]},
        "secret": {"$ref": "#/components/schemas/Secret"},  # write-only through a $ref chain
    },
}
_COMPONENTS = {
    "User": _USER,
    "Stamp": {"$ref": "#/components/schemas/Timestamp"},
    "Timestamp": {"type": "string", "format": "date-time", "readOnly": True},
    "Links": {"type": "object", "properties": {"self": {"type": "string"}}},
    "Pin": {"type": "string", "pattern": "^[0-9]{4}$"},
    "Secret": {"$ref": "#/components/schemas/Hidden"},
    "Hidden": {"type": "string", "writeOnly": True},
}
_USER_BODY = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}


def _compile(tmp_path: Path, paths: dict[str, Any]) -> dict[str, Any]:
    description = {
        "openapi": "3.0.3",
        "info": {"title": "Users", "version": "1"},
        "servers": [{"url": "https://users.example.com"}],
        "paths": paths,
        "components": {"schemas": _COMPONENTS},
    }
    path = tmp_path / "users.json"
    path.write_text(json.dumps(description, indent=2), encoding="utf-8")
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    for tool in result.tools:
        jsonschema.Draft202012Validator.check_schema(dict(tool.schema))
        if tool.output_schema is not None:
            jsonschema.Draft202012Validator.check_schema(dict(tool.output_schema))
    return {tool.name: tool for tool in result.tools}


def _answer(status: str = "200") -> dict[str, Any]:
    return {status: {"description": "The user.", **_USER_BODY}}


@pytest.mark.parametrize("first", ["sent first", "answered first"])
def test_an_answer_describes_read_only_properties_and_leaves_write_only_ones_out(tmp_path: Path, first: str) -> None:
    create = {"operationId": "createUser", "requestBody": _USER_BODY, "responses": _answer("201")}
    read = {"operationId": "getUser", "responses": _answer()}
    paths = {"/users": {"post": create}, "/users/me": {"get": read}}
    if first == "answered first":  # the shared component is converted for an answer before a request needs it
        paths = dict(reversed(list(paths.items())))
    tools = _compile(tmp_path, paths)

    sent = tools["createUser"].schema["properties"]
    assert set(sent) == {"name", "password", "pin", "secret"}
    assert tools["createUser"].schema["required"] == ["name", "password"]

    for name in ("createUser", "getUser"):
        answer = tools[name].output_schema
        assert answer is not None
        assert set(answer["properties"]) == {"id", "created", "links", "name"}, name
        assert answer["required"] == ["id", "name", "created"], name
        assert answer["properties"]["created"] == {"type": "string", "format": "date-time", "readOnly": True}
        assert answer["properties"]["links"]["properties"] == {"self": {"type": "string"}}


def test_an_answer_that_is_all_write_only_keeps_no_required(tmp_path: Path) -> None:
    _COMPONENTS["Login"] = {
        "type": "object",
        "required": ["password"],
        "properties": {"password": {"type": "string", "writeOnly": True}},
    }
    try:
        body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Login"}}}}
        tools = _compile(tmp_path, {"/login": {"post": {"operationId": "login", "responses": {"200": body}}}})
    finally:
        del _COMPONENTS["Login"]
    assert tools["login"].output_schema == {"type": "object", "properties": {}}


def test_a_cycle_only_through_a_write_only_property_is_a_cycle_only_for_what_is_sent(tmp_path: Path) -> None:
    # Node -(write-only)-> Node: an answer leaves the property out, so Node is no cycle there and is inlined
    node = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "parent": {"$ref": "#/components/schemas/Node", "writeOnly": True}},
    }
    _COMPONENTS["Node"] = node
    try:
        body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}
        operation = {"operationId": "putNode", "requestBody": body, "responses": {"200": body}}
        tools = _compile(tmp_path, {"/nodes": {"put": operation}})
    finally:
        del _COMPONENTS["Node"]
    tool = tools["putNode"]
    assert tool.output_schema == {"type": "object", "properties": {"name": {"type": "string"}}}
    assert "Node" in tool.schema["$defs"]  # what is sent may nest a parent: still a definition that refers to itself
    assert tool.schema["$defs"]["Node"]["properties"]["parent"] == {"$ref": "#/$defs/Node", "writeOnly": True}
