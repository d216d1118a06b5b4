"""`$ref`s: across files, JSON pointers, refusals with file and line, and cycles that end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents


def _compile_text(tmp_path: Path, text: str, name: str = "api.yaml") -> Any:
    path = tmp_path / name
    path.write_text(text)
    return compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())


def test_references_across_files_resolve_and_operations_are_placed_where_they_are_written(oa: Any) -> None:
    result = oa.compile("multi/main.yaml")

    assert result.diagnostics == []
    assert sorted(t.name for t in result.tools) == ["createOrder", "getOrder", "listLines", "listOrders", "patchOrder"]
    for tool in result.tools:
        oa.check_tool(tool)
    places = {
        t.name: (Path(t.location.file).resolve().relative_to(oa.fixtures).as_posix(), t.location.line)
        for t in result.tools
    }
    assert places["listOrders"] == ("multi/paths/orders.yaml", 1)  # a path item $ref
    assert places["getOrder"] == ("multi/paths/order-operations.yaml", 1)  # an operation $ref
    assert places["patchOrder"] == ("multi/main.yaml", 22)  # an operation elsewhere in the same file
    assert places["listLines"] == ("multi/main.yaml", 14)


def test_json_pointers_unescape_tilde_and_slash(oa: Any) -> None:
    lines = oa.tool(oa.compile("multi/main.yaml"), "listLines")
    # "#/paths/~1orders~1{orderId}~1lines/…" and "order-operations.yaml#/parameters/a~1b~0c"
    assert lines.schema["properties"] == {
        "orderId": {"type": "string", "format": "uuid"},
        "expand": {"type": "boolean", "default": False},
    }
    assert lines.request["parameters"]["expand"] == {"in": "query", "name": "expand"}


def test_a_reference_back_into_the_main_file_and_readonly_properties(oa: Any) -> None:
    create = oa.tool(oa.compile("multi/main.yaml"), "createOrder")
    assert list(create.schema["properties"]) == ["customer", "total", "status"]  # id is readOnly
    assert create.schema["properties"]["total"]["required"] == ["amount", "currency"]
    assert create.schema["required"] == ["customer", "total"]


def test_remote_reference_is_refused_at_its_file_and_line(oa: Any) -> None:
    result = oa.compile("remote-ref.yaml")

    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert len(errors) == 1
    where = errors[0].location
    assert (Path(where.file).resolve(), where.line, where.column) == (oa.fixtures / "remote-ref.yaml", 13, 13)
    assert "remote $ref 'https://schemas.example.com/kind.json#/Kind' is refused" in errors[0].message
    assert [s.operation for s in result.skipped] == ["GET /things (listThings)"]
    assert [t.name for t in result.tools] == ["createThing"]


def test_reference_leaving_the_repository_root_is_refused_at_its_file_and_line(oa: Any) -> None:
    result = oa.compile("traversal/main.yaml", root=oa.fixtures / "traversal")

    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert len(errors) == 1
    where = errors[0].location
    assert (Path(where.file).resolve(), where.line, where.column) == (oa.fixtures / "traversal/main.yaml", 10, 11)
    assert "$ref '../outside.yaml' leaves the repository root" in errors[0].message
    assert result.tools == []
    assert len(result.skipped) == 1


def test_missing_file_and_missing_pointer_are_errors_at_the_reference(tmp_path: Path) -> None:
    result = _compile_text(
        tmp_path,
        "openapi: 3.0.3\n"
        "info: {title: t, version: '1'}\n"
        "servers: [{url: 'https://api.example.com'}]\n"
        "paths:\n"
        "  /a:\n"
        "    get:\n"
        "      operationId: a\n"
        "      parameters:\n"
        "        - $ref: 'nowhere.yaml#/p'\n"
        "  /b:\n"
        "    get:\n"
        "      operationId: b\n"
        "      parameters:\n"
        "        - $ref: '#/components/parameters/missing'\n"
        "  /c:\n"
        "    get:\n"
        "      operationId: c\n"
        "      parameters:\n"
        "        - $ref: '#/components/parameters/loop'\n"
        "components:\n"
        "  parameters:\n"
        "    loop: {$ref: '#/components/parameters/loop2'}\n"
        "    loop2: {$ref: '#/components/parameters/loop'}\n",
    )
    messages = {(d.location.line, d.location.column): d.message for d in result.diagnostics}
    assert messages[(9, 11)].startswith("$ref 'nowhere.yaml': no such file")
    assert messages[(14, 11)].startswith("$ref '#/components/parameters/missing' points at nothing: ")
    assert messages[(14, 11)].endswith("api.yaml has no 'missing' at #/components/parameters")
    assert "loop of references" in " ".join(messages.values())
    assert result.tools == []
    assert len(result.skipped) == 3


def test_self_and_mutual_recursion_give_finite_schemas_with_local_definitions(oa: Any) -> None:
    result = oa.compile("recursion.yaml")
    assert result.diagnostics == []
    for tool in result.tools:
        oa.check_tool(tool)
        json.dumps(dict(tool.schema))  # finite

    tree = oa.tool(result, "createTree").schema
    assert tree["properties"]["children"]["items"] == {"$ref": "#/$defs/TreeNode"}
    assert tree["$defs"]["TreeNode"]["properties"]["children"]["items"] == {"$ref": "#/$defs/TreeNode"}

    graph = oa.tool(result, "createGraph").schema
    assert graph["properties"]["start"] == {"$ref": "#/$defs/Person"}
    assert set(graph["$defs"]) == {"Person", "Company"}
    assert graph["$defs"]["Company"]["properties"]["employees"]["items"] == {"$ref": "#/$defs/Person"}


def test_recursive_ref_refers_to_the_definition_with_the_recursive_anchor(oa: Any) -> None:
    schema = oa.tool(oa.compile("recursion.yaml"), "applyFilter").schema
    branches = schema["$defs"]["CompoundFilter"]["properties"]["filters"]["items"]["oneOf"]
    assert branches[1] == {"$ref": "#/$defs/CompoundFilter"}
    assert "$recursiveAnchor" not in schema["$defs"]["CompoundFilter"]


def test_properties_named_ref_and_schema_stay_properties(oa: Any) -> None:
    schema = oa.tool(oa.compile("recursion.yaml"), "createGraph").schema
    meta = schema["properties"]["meta"]["properties"]
    assert set(meta) == {"$ref", "$schema"}
    assert meta["$ref"] == {"type": "string", "description": "A property literally named $ref."}


def test_reference_inside_additional_properties_and_to_a_non_components_location(oa: Any) -> None:
    schema = oa.tool(oa.compile("recursion.yaml"), "createGraph").schema
    tag = schema["properties"]["tags"]["additionalProperties"]
    assert tag["properties"]["color"] == {"type": "string", "enum": ["red", "green"]}
    assert "$ref" in tag["properties"]  # Tag has a property literally named $ref
    assert schema["properties"]["label"] == {"type": "string", "minLength": 1}  # from #/x-shared/Label


def test_a_schema_nested_deeper_than_the_bound_is_cut_with_a_note_not_a_crash(tmp_path: Path) -> None:
    nested: dict[str, Any] = {"type": "string"}
    for _ in range(400):
        nested = {"type": "object", "properties": {"next": nested}}
    description = {
        "openapi": "3.0.3",
        "info": {"title": "deep", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/deep": {
                "post": {"operationId": "deep", "requestBody": {"content": {"application/json": {"schema": nested}}}}
            }
        },
    }
    result = _compile_text(tmp_path, json.dumps(description, indent=2), "deep.json")
    assert [t.name for t in result.tools] == ["deep"]
    assert any("nest too deeply" in d.message for d in result.diagnostics)
    assert "not described further" in json.dumps(dict(result.tools[0].schema))


def test_a_long_chain_of_references_does_not_exhaust_the_stack(tmp_path: Path, oa: Any) -> None:
    schemas = {
        f"S{i}": {"type": "object", "properties": {"next": {"$ref": f"#/components/schemas/S{i + 1}"}}}
        for i in range(600)
    }
    schemas["S600"] = {"type": "string"}
    description = {
        "openapi": "3.0.3",
        "info": {"title": "chain", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/chain": {
                "post": {
                    "operationId": "chain",
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}},
                }
            }
        },
        "components": {"schemas": schemas},
    }
    result = _compile_text(tmp_path, json.dumps(description, indent=2), "chain.json")
    assert [t.name for t in result.tools] == ["chain"]
    schema = result.tools[0].schema
    for ref in oa.refs(schema):
        assert ref.removeprefix("#/$defs/") in schema["$defs"]


def test_a_tools_schema_does_not_depend_on_what_else_is_compiled(oa: Any) -> None:
    everything = oa.compile("recursion.yaml")
    alone = oa.compile("recursion.yaml", {"openapi": "x", "include": {"operations": ["createGraph"]}})
    assert oa.tool(alone, "createGraph").schema == oa.tool(everything, "createGraph").schema


def test_tools_that_need_the_same_definitions_do_not_share_them(tmp_path: Path) -> None:
    # definitions are gathered once per compile for every tool that needs them: each tool gets its own `$defs`,
    # so a later change to one tool's schema (an override, a rename) cannot reach another's
    node = {
        "type": "object",
        "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}},
    }
    answer = {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}
    }
    body = {
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"tree": {"$ref": "#/components/schemas/Node"}}}
            }
        }
    }
    description = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/a": {"post": {"operationId": "a", "requestBody": body, "responses": answer}},
            "/b": {"post": {"operationId": "b", "requestBody": body, "responses": answer}},
        },
        "components": {"schemas": {"Node": node}},
    }
    result = _compile_text(tmp_path, json.dumps(description, indent=2), "api.json")
    a, b = sorted(result.tools, key=lambda tool: tool.name)
    assert a.schema["$defs"] == b.schema["$defs"] == {"Node": a.schema["$defs"]["Node"]}
    assert a.output_schema == b.output_schema == {"$ref": "#/$defs/Node", "$defs": b.schema["$defs"]}
    assert a.output_schema is not None and b.output_schema is not None

    a.schema["$defs"]["Extra"] = {"type": "string"}  # type: ignore[index]
    a.output_schema["$defs"].clear()  # type: ignore[attr-defined]
    assert list(b.schema["$defs"]) == ["Node"] and list(b.output_schema["$defs"]) == ["Node"]
    assert list(_compile_text(tmp_path, json.dumps(description, indent=2), "api.json").tools[0].schema["$defs"]) == [
        "Node"
    ]


def test_read_only_is_answered_per_file_for_the_same_reference_text(tmp_path: Path) -> None:
    # `#/components/schemas/Id` names a read-only schema in one file and a writable one in the other (JSON files:
    # their plain mappings take the converter's quickest paths)
    other = {
        "components": {
            "schemas": {
                "Id": {"type": "string"},
                "Owner": {"type": "object", "properties": {"id": {"$ref": "#/components/schemas/Id"}}},
            }
        }
    }
    (tmp_path / "other.json").write_text(json.dumps(other, indent=2))
    properties = {"id": {"$ref": "#/components/schemas/Id"}, "owner": {"$ref": "other.json#/components/schemas/Owner"}}
    body = {"content": {"application/json": {"schema": {"type": "object", "properties": properties}}}}
    description = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {"/things": {"post": {"operationId": "makeThing", "requestBody": body, "responses": {}}}},
        "components": {"schemas": {"Id": {"type": "string", "readOnly": True}}},
    }
    [tool] = _compile_text(tmp_path, json.dumps(description, indent=2), "api.json").tools
    assert list(tool.schema["properties"]) == ["owner"]  # this file's Id is read-only
    assert tool.schema["properties"]["owner"] == {"type": "object", "properties": {"id": {"type": "string"}}}


def test_pointers_in_a_json_description_resolve_as_in_yaml(tmp_path: Path) -> None:
    # JSON content is plain mappings: a pointer through them is followed on a short path, and anything else
    # (an item of a list, escapes, percent-encoding, a missing key) on the general one
    string = {"type": "string"}
    description = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/a": {
                "get": {
                    "operationId": "a",
                    "parameters": [
                        {"$ref": "#/components/parameters/plain"},
                        {"$ref": "#/x-list/0"},
                        {"$ref": "#/components/parameters/a~1b"},
                        {"$ref": "#/components/parameters/c%20d"},
                    ],
                }
            },
            "/b": {"get": {"operationId": "b", "parameters": [{"$ref": "#/components/parameters/missing"}]}},
        },
        "x-list": [{"name": "listed", "in": "query", "schema": string}],
        "components": {
            "parameters": {
                "plain": {"name": "plain", "in": "query", "schema": string},
                "a/b": {"name": "escaped", "in": "query", "schema": string},
                "c d": {"name": "encoded", "in": "query", "schema": string},
            }
        },
    }
    for name, text in (("api.json", json.dumps(description, indent=2)), ("api.yaml", json.dumps(description))):
        result = _compile_text(tmp_path, text, name)
        (tool,) = result.tools
        assert list(tool.schema["properties"]) == ["plain", "listed", "escaped", "encoded"]
        (error,) = [d.message for d in result.diagnostics if "points at nothing" in d.message]
        assert error.endswith(f"{name} has no 'missing' at #/components/parameters")
