"""Line numbers in JSON descriptions, found without a second parse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents
from reconciler.load.json_positions import JsonPositions

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "servers": [{"url": "https://api.example.com"}],
    "paths": {
        "/a/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": "getA", "summary": "A."},
            "delete": {"operationId": "deleteA", "summary": "Delete A."},
        },
        "/b": {"$ref": "#/x-items/b"},
        "/c~d é": {"post": {"operationId": "postC", "description": "x" * 300}},
    },
    "x-items": {"b": {"get": {"operationId": "getB"}}},
}


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _line_of(text: str, needle: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[: text.index(needle, start)].count("\n") + 1


def test_positions_of_keys_and_items() -> None:
    text = json.dumps(DOCUMENT, indent=2)
    positions = JsonPositions(text.encode())
    assert positions.usable
    assert positions.locate(()) == (1, 1)
    assert positions.locate(("paths",)) == (_line_of(text, '"paths"'), 3)
    assert positions.locate(("paths", "/a/{id}", "delete")) == (_line_of(text, '"delete"'), 7)
    assert positions.locate(("paths", "/a/{id}", "parameters", 0, "schema")) == (_line_of(text, '"schema"'), 11)
    assert positions.locate(("x-items", "b", "get")) == (_line_of(text, '"get"', '"x-items"'), 7)
    assert positions.locate(("paths", "/c~d é", "post")) == (_line_of(text, '"post"'), 7)
    assert positions.locate(("paths", "/nowhere")) is None


def test_escaped_keys_are_found() -> None:
    text = json.dumps({"a": {'b"c': {"d": 1}, "\u00e9": 2}}, indent=4, ensure_ascii=True)
    positions = JsonPositions(text.encode())
    assert positions.locate(("a", 'b"c', "d")) == (4, 13)
    assert positions.locate(("a", "é")) == (6, 9)


def test_minified_json_is_not_guessed_at() -> None:
    positions = JsonPositions(json.dumps(DOCUMENT).encode())
    assert not positions.usable
    assert positions.locate(("paths",)) is None
    assert positions.operations(["get"], None) is None


def test_all_operations_are_placed_with_one_scan() -> None:
    text = json.dumps(DOCUMENT, indent=2)
    positions = JsonPositions(text.encode())
    assert positions.operations(["get", "delete", "post"], "x-items") == [
        (_line_of(text, '"get"'), 7),
        (_line_of(text, '"delete"'), 7),
        (_line_of(text, '"post"'), 7),
    ]
    assert positions.operations(["delete", "get", "post"], "x-items") is None  # not in the order written
    assert positions.operations(["get", "delete", "post", "get"], "x-items") is None  # the last is past `paths`


def _compile(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "api.json"
    path.write_text(text)
    return compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())


def test_tools_from_a_json_description_are_located_at_their_method_keys(tmp_path: Path) -> None:
    for indent in (2, 4, "\t"):
        text = json.dumps(DOCUMENT, indent=indent)
        result = _compile(tmp_path, text)
        lines = {tool.name: tool.location.line for tool in result.tools}
        assert lines == {
            "getA": _line_of(text, '"get"'),
            "deleteA": _line_of(text, '"delete"'),
            "getB": _line_of(text, '"get"', '"x-items"'),
            "postC": _line_of(text, '"post"'),
        }
        (warning,) = result.diagnostics  # the long description, at its own line
        assert warning.location.line == _line_of(text, '"description"')


def test_a_minified_json_description_is_still_located(tmp_path: Path) -> None:
    result = _compile(tmp_path, json.dumps(DOCUMENT))
    assert {tool.location.line for tool in result.tools} == {1}
    assert len({tool.location.column for tool in result.tools}) == 4
