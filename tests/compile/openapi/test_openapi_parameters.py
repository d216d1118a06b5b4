"""An operation's inputs become the tool's parameters, with the binding that rebuilds the HTTP call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents


def test_names_colliding_across_locations_are_made_unique_and_bound_to_the_original(oa: Any) -> None:
    update = oa.tool(oa.compile("collisions.yaml"), "updateItem")

    assert update.request == {
        "method": "PUT",
        "url": "https://api.example.com/v1/items/{id}",
        "parameters": {
            "id": {"in": "path", "name": "id"},
            "query_id": {"in": "query", "name": "id"},
            "filter_name": {"in": "query", "name": "filter[name]"},
            "header_id": {"in": "header", "name": "id"},
            "cookie_id": {"in": "cookie", "name": "id"},
            "body_id": {"in": "body", "name": "id"},
            "body_query_id": {"in": "body", "name": "query_id"},  # "query_id" was taken by the query's id
        },
        "content_type": "application/json",  # preferred over application/xml
    }
    assert update.schema["properties"]["id"] == {"type": "string", "description": "The item."}
    assert update.schema["properties"]["query_id"] == {"type": "integer"}
    assert update.schema["required"] == ["id", "body_id", "body_query_id"]
    assert "Authorization" not in update.request["parameters"]  # OpenAPI says to ignore it
    assert "created" not in update.schema["properties"]  # readOnly


def test_a_body_that_is_not_an_object_is_one_body_parameter(oa: Any) -> None:
    note = oa.tool(oa.compile("collisions.yaml"), "setNote")
    assert note.schema["properties"]["body"] == {"type": "string", "maxLength": 200}
    assert note.request["parameters"]["body"] == {"in": "body"}
    assert note.request["content_type"] == "text/plain"
    assert note.schema["required"] == ["id"]  # the request body is not required


def test_swagger_form_data_body_and_multipart(oa: Any) -> None:
    result = oa.compile("swagger-form.yaml")
    for tool in result.tools:
        oa.check_tool(tool)

    form = oa.tool(result, "updatePetWithForm")
    assert form.endpoint == "https://api.example.com/v2/pets/{petId}"  # https is preferred among the schemes
    assert form.request["content_type"] == "application/x-www-form-urlencoded"
    assert form.request["parameters"]["status"] == {"in": "body", "name": "status"}
    assert form.schema["properties"]["status"] == {"type": "string", "enum": ["available", "sold"]}
    assert form.schema["required"] == ["petId", "status"]

    body = oa.tool(result, "updatePet")
    assert body.request["content_type"] == "application/json"
    assert list(body.schema["properties"]) == ["petId", "name", "nickname"]  # id is readOnly
    assert body.schema["properties"]["nickname"] == {"type": "string"}  # x-nullable, at the top level

    upload = oa.tool(result, "uploadPhoto")
    assert upload.request["content_type"] == "multipart/form-data"
    assert upload.schema["properties"]["file"] == {"type": "string", "format": "binary"}

    find = oa.tool(result, "findPets")
    assert find.schema["properties"]["limit"] == {
        "type": "integer",
        "minimum": 1,
        "exclusiveMaximum": 100,
        "default": 20,
    }
    assert find.request["parameters"]["tags"] == {"in": "query", "name": "tags", "collectionFormat": "csv"}


def test_a_path_variable_without_a_parameter_is_still_a_required_string(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers: [{url: 'https://api.example.com'}]\n"
        "paths:\n  /users/{userId}/posts/{postId}:\n    get:\n      operationId: getPost\n"
        "      parameters: [{name: postId, in: path, required: true, schema: {type: integer}}]\n"
    )
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    (tool,) = result.tools
    assert tool.schema == {
        "type": "object",
        "properties": {"postId": {"type": "integer"}, "userId": {"type": "string"}},
        "required": ["postId", "userId"],
    }


def _too_many(oa: Any, policy: str | None) -> Any:
    source: dict[str, Any] = {"openapi": "orders.yaml", "include": {"operations": ["createOrder"]}}
    if policy:
        source["too_many_parameters"] = policy
    return oa.compile("orders.yaml", source, limits=Limits(max_parameters=4))


@pytest.mark.parametrize("policy", [None, "skip"])
def test_too_many_parameters_skips_with_a_warning_by_default(oa: Any, policy: str | None) -> None:
    result = _too_many(oa, policy)
    assert result.tools == []
    skipped = [s for s in result.skipped if s.operation == "POST /orders (createOrder)"]
    assert [s.reason for s in skipped] == ["6 parameters, more than the limit of 4"]
    (warning,) = result.diagnostics
    assert warning.severity == "warning"
    assert warning.message == "skipped: POST /orders (createOrder) has 6 parameters, more than the limit of 4"
    assert (Path(warning.location.file).name, warning.location.line) == ("orders.yaml", 14)


def test_too_many_parameters_as_an_error(oa: Any) -> None:
    result = _too_many(oa, "error")
    (error,) = result.diagnostics
    assert error.severity == "error"
    assert "has 6 parameters, more than the limit of 4 (too_many_parameters: error)" in error.message
    assert result.tools == []


def test_too_many_parameters_keeps_required_ones_first_then_optional_ones_in_order(oa: Any) -> None:
    result = _too_many(oa, "required_only")
    (tool,) = result.tools
    assert list(tool.schema["properties"]) == ["customer", "sku", "quantity", "note"]
    assert tool.schema["required"] == ["customer", "sku"]
    assert set(tool.request["parameters"]) == {"customer", "sku", "quantity", "note"}
    dropped = [d.message for d in result.diagnostics]
    assert len(dropped) == 2
    assert "optional parameter 'gift' (body) left out" in dropped[0]
    assert "optional parameter 'coupon' (body) left out" in dropped[1]


def test_required_only_cannot_drop_required_parameters(oa: Any) -> None:
    result = oa.compile(
        "orders.yaml",
        {"openapi": "orders.yaml", "include": {"operations": ["createOrder"]}, "too_many_parameters": "required_only"},
        limits=Limits(max_parameters=1),
    )
    assert result.tools == []
    assert [s.reason for s in result.skipped if "createOrder" in s.operation] == [
        "6 parameters (2 of them required), more than the limit of 1"
    ]


def test_context_parameters_do_not_count_against_the_limit(oa: Any) -> None:
    result = oa.compile(
        "orders.yaml",
        {
            "openapi": "orders.yaml",
            "include": {"operations": ["createOrder"]},
            "defaults": {"context": {"coupon": "conversation.coupon", "gift": "conversation.gift"}},
        },
        limits=Limits(max_parameters=4),
    )
    (tool,) = result.tools
    assert list(tool.schema["properties"]) == ["customer", "sku", "quantity", "note"]
    assert tool.request["parameters"]["gift"] == {"in": "body", "name": "gift"}


def test_a_parameter_type_outside_the_capability_matrix_skips_the_operation(oa: Any) -> None:
    limits = Limits(parameter_types=("string", "boolean"))
    result = oa.compile(
        "orders.yaml", {"openapi": "orders.yaml", "include": {"operations": ["listOrders"]}}, limits=limits
    )
    assert result.tools == []
    (skipped,) = [s for s in result.skipped if "listOrders" in s.operation]
    assert skipped.reason == "parameter 'limit' has type 'integer', not one of ['string', 'boolean']"
    (warning,) = result.diagnostics
    assert warning.message == f"skipped GET /orders (listOrders): {skipped.reason}"


_CLIENT_HEADERS_YAML = """\
openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.example.com'}]
components:
  parameters:
    host: {name: HOST, in: header, schema: {type: string}}
paths:
  /apps:
    parameters:
      - {name: Connection, in: header, schema: {type: string}}
    post:
      operationId: createApp
      parameters:
        - {name: X-Trace, in: header, schema: {type: string}}
        - {name: content-length, in: header, required: true, schema: {type: integer}}
        - {name: Transfer-Encoding, in: header, schema: {type: string}}
        - {name: Content-Type, in: header, schema: {type: string, enum: [application/json, application/yaml]}}
        - $ref: '#/components/parameters/host'
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {spec: {type: string}}}
          application/yaml:
            schema: {type: object, properties: {spec: {type: string}}}
"""


def test_headers_the_http_client_sets_are_left_out_with_a_warning_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(_CLIENT_HEADERS_YAML)
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    (tool,) = result.tools
    assert tool.request["parameters"] == {
        "X-Trace": {"in": "header", "name": "X-Trace"},
        "spec": {"in": "body", "name": "spec"},
    }
    assert set(tool.schema["properties"]) == {"X-Trace", "spec"}
    assert "required" not in tool.schema  # a required Content-Length does not make the tool require anything
    assert tool.request["content_type"] == "application/json"
    warnings = {d.location.line: d.message for d in result.diagnostics if d.code == "client-header"}
    lines = _CLIENT_HEADERS_YAML.splitlines()
    assert {number: lines[number - 1].strip() for number in warnings} == {
        6: "host: {name: HOST, in: header, schema: {type: string}}",
        10: "- {name: Connection, in: header, schema: {type: string}}",
        15: "- {name: content-length, in: header, required: true, schema: {type: integer}}",
        16: "- {name: Transfer-Encoding, in: header, schema: {type: string}}",
        17: "- {name: Content-Type, in: header, schema: {type: string, enum: [application/json, application/yaml]}}",
    }
    assert all(d.severity == "warning" and d.location.file.endswith("api.yaml") for d in result.diagnostics)
    assert "'Content-Type' is left out of the tool" in warnings[17]
    assert "(the body goes as application/json)" in warnings[17]
    assert "'HOST'" in warnings[6]


def test_a_client_header_in_json_is_located_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(
        '{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},\n'
        ' "servers": [{"url": "https://api.example.com"}],\n'
        ' "paths": {"/x": {"get": {"operationId": "getX", "parameters": [\n'
        '   {"name": "q", "in": "query", "schema": {"type": "string"}},\n'
        '   {"name": "Host", "in": "header", "schema": {"type": "string"}}\n'
        " ]}}}}\n"
    )
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    (tool,) = result.tools
    assert set(tool.schema["properties"]) == {"q"}
    (warning,) = result.diagnostics
    assert (warning.severity, warning.code, warning.location.line) == ("warning", "client-header", 5)
