"""A tool → the PostActionInput body of its Data Action: exact bodies, templates, and what cannot be one."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler.compile.data_actions import DRAFT_04, action_input, compile_action
from reconciler.config import Config
from reconciler.desired import build_desired_state
from reconciler.errors import InputError
from reconciler.model import SourceLocation, Tool


def desired(tmp_path: Path, files: dict[str, str]) -> list[Tool]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = tmp_path / "tools.d" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    state = build_desired_state(tmp_path / "tools.d", Config(root=tmp_path), {})
    assert state.errors == []
    return state.tools


def by_name(tools: list[Tool], name: str) -> Tool:
    return next(tool for tool in tools if tool.name == name)


HAND_WRITTEN = """\
    name: check_inventory
    description: Checks real-time inventory levels for a product SKU.
    endpoint: https://tools.example.com/api/v1/tools/check_inventory
    parameters:
      sku: {type: string, description: Product stock keeping unit, required: true}
      count: {type: integer, description: How many}
    context:
      user_id: conversation.user_id
"""


def test_a_hand_written_tool_posts_the_invocation_of_its_inputs_to_its_endpoint(tmp_path: Path) -> None:
    """The invocation every tool endpoint takes (`reconciler serve`'s, the Tools API's callback): the context
    input the flow fills travels as conversation state, the others as `parameters`, an optional one if given."""
    (tool,) = desired(tmp_path, {"inventory.yaml": HAND_WRITTEN})

    body = action_input(tool, category="Commerce", integration_id="integration-1")

    assert body == {
        "name": "check_inventory",
        "category": "Commerce",
        "integrationId": "integration-1",
        "secure": False,
        "contract": {
            "input": {
                "inputSchema": {
                    "$schema": DRAFT_04,
                    "title": "check_inventory",
                    "description": "Checks real-time inventory levels for a product SKU.",
                    "type": "object",
                    "properties": {
                        "sku": {"type": "string", "description": "Product stock keeping unit"},
                        "count": {"type": "integer", "description": "How many"},
                        "user_id": {
                            "type": "string",
                            "description": "Filled by the calling flow or guide from conversation.user_id.",
                        },
                    },
                    "required": ["sku", "user_id"],
                    "additionalProperties": False,
                }
            },
            "output": {"successSchema": {"$schema": DRAFT_04, "type": "object", "additionalProperties": True}},
        },
        "config": {
            "request": {
                "requestType": "POST",
                "requestUrlTemplate": "https://tools.example.com/api/v1/tools/check_inventory",
                "headers": {"Content-Type": "application/json"},
                "requestTemplate": (
                    '{"tool_name":"check_inventory","parameters":{"sku":"${esc.jsonString($input.sku)}"'
                    '#if("$!{input.count}" != ""),"count":${input.count}#end},'
                    '"user_id":"${esc.jsonString($input.user_id)}",'
                    '"conversation":{"user_id":"${esc.jsonString($input.user_id)}"}}'
                ),
            },
            "response": {"translationMap": {}, "translationMapDefaults": {}, "successTemplate": "${rawResult}"},
        },
    }


ORDERS = """\
    openapi: 3.0.3
    info: {title: Orders, version: "1"}
    servers: [{url: "https://api.example.com/v1"}]
    paths:
      /orders/{order id}/items:
        get:
          operationId: listItems
          parameters:
            - {name: order id, in: path, required: true, schema: {type: string}}
            - {name: tag, in: query, required: true, schema: {type: array, items: {type: string}}, explode: false}
            - {name: q, in: query, schema: {type: string}}
            - {name: X-Trace, in: header, schema: {type: string}}
        post:
          operationId: addItem
          parameters:
            - {name: order id, in: path, required: true, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [sku]
                  properties:
                    sku: {type: string}
                    qty: {type: integer}
                    $note: {type: string}
"""


def test_inputs_are_escaped_for_where_they_land(tmp_path: Path) -> None:
    tools = desired(tmp_path, {"orders.yaml": ORDERS})

    listing = action_input(by_name(tools, "listItems"), category="c", integration_id="i")
    adding = action_input(by_name(tools, "addItem"), category="c", integration_id="i")

    assert listing["config"]["request"] == {
        "requestType": "GET",
        "requestUrlTemplate": "https://api.example.com/v1/orders/${esc.uriEncode($input.order_id)}/items"
        '#set($q0 = "?")'
        '#foreach($v0 in $input.tag)#if($foreach.first)${q0}tag=#set($q0 = "&")#end'
        "${esc.url($v0)}#if($foreach.hasNext),#end#end"
        '#if("$!{input.q}" != "")${q0}q=${esc.url($input.q)}#set($q0 = "&")#end',
        "headers": {"X-Trace": "$!{input.get('X-Trace')}"},
        "requestTemplate": "${input.rawRequest}",
    }
    inputs = listing["contract"]["input"]["inputSchema"]["properties"]
    assert inputs["order_id"] == {"type": "string", "minLength": 1, "not": {"enum": [".", ".."]}}
    assert inputs["X-Trace"] == {"type": "string", "pattern": "^[^\\r\\n]*$"}
    assert inputs["q"] == {"type": "string", "minLength": 1}
    assert adding["config"]["request"]["requestTemplate"] == (
        '{"sku":"${esc.jsonString($input.sku)}"'
        '#if("$!{input.qty}" != ""),"qty":${input.qty}#end'
        '#if("$!{input.get(\'_note\').length()}" != ""),"${esc.d}note":"${esc.jsonString($input.get(\'_note\'))}"#end}'
    )
    assert adding["config"]["request"]["headers"] == {"Content-Type": "application/json"}


RECURSIVE = """\
    name: tree
    description: Takes a tree.
    endpoint: https://tools.example.com/tree
    schema:
      type: object
      properties:
        root: {$ref: "#/$defs/node"}
      $defs:
        node:
          type: object
          properties:
            children: {type: array, items: {$ref: "#/$defs/node"}}
"""


def test_what_a_contract_cannot_express_is_an_error_at_the_parameter(tmp_path: Path) -> None:
    (tool,) = desired(tmp_path, {"tree.yaml": RECURSIVE})

    with pytest.raises(InputError) as caught:
        action_input(tool, category="c", integration_id="i")

    (diagnostic,) = caught.value.diagnostics
    assert (Path(diagnostic.location.file).name, diagnostic.location.line) == ("tree.yaml", 7)
    assert "parameter 'root'" in diagnostic.message
    assert "refers to itself" in diagnostic.message


CONTENT_QUERY = """\
    openapi: 3.0.3
    info: {title: Search, version: "1"}
    servers: [{url: "https://api.example.com"}]
    paths:
      /search:
        get:
          operationId: search
          parameters:
            - name: filter
              in: query
              content: {application/json: {schema: {type: object, properties: {a: {type: integer}}}}}
          responses: {"200": {description: ok}}
"""


def test_a_parameter_sent_as_json_text_is_an_error_at_the_parameter(tmp_path: Path) -> None:
    """`content`-described: OpenAPI sends its value as JSON text, which the action's templates cannot write; an
    action that sent it by a style instead would call the API with a query it does not read."""
    (tool,) = desired(tmp_path, {"search.yaml": CONTENT_QUERY})

    with pytest.raises(InputError) as caught:
        action_input(tool, category="c", integration_id="i")

    (diagnostic,) = caught.value.diagnostics
    assert "parameter 'filter'" in diagnostic.message
    assert "described by `content` (application/json)" in diagnostic.message


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"const": "a"}, {"enum": ["a"]}),
        ({"type": "number", "exclusiveMinimum": 0}, {"type": "number", "minimum": 0, "exclusiveMinimum": True}),
        ({"type": "integer", "minimum": 5, "exclusiveMinimum": 1}, {"type": "integer", "minimum": 5}),
        ({"type": "array", "prefixItems": [{"type": "string"}], "items": False}, None),
        ({"type": "string", "examples": ["x"], "deprecated": True}, {"type": "string"}),
    ],
)
def test_keywords_take_their_draft04_form(schema: dict[str, Any], expected: dict[str, Any] | None) -> None:
    tool = Tool(
        name="t",
        description="d",
        endpoint="https://tools.example.com/t",
        schema={"type": "object", "properties": {"p": schema}},
        location=SourceLocation("f"),
    )
    body = action_input(tool, category="c", integration_id="i")
    converted = body["contract"]["input"]["inputSchema"]["properties"]["p"]
    if expected is None:
        assert converted == {"type": "array", "items": [{"type": "string"}], "additionalItems": False}
    else:
        assert converted == expected


def test_a_timeout_and_secure_reach_the_action() -> None:
    tool = Tool(
        name="t",
        description="d",
        endpoint="https://tools.example.com/t",
        schema={"type": "object", "properties": {}},
        location=SourceLocation("f"),
        timeout=12,
        secure=True,
    )
    body = compile_action(tool, category="c", integration_id="i").body
    assert body is not None
    assert body["secure"] is True
    assert body["config"]["timeoutSeconds"] == 12
