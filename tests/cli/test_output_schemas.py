"""An OpenAPI operation's success answer is converted where it has a place: a Data Action's output contract and
the tools target's `outputSchema`. Only the OpenAI function form, which has no output, skips that work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.cli.common import load_desired

SPEC = """openapi: 3.0.3
info: {title: Orders, version: "1"}
servers: [{url: "https://orders.example.com"}]
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: The order.
          content:
            application/json:
              schema: {type: object, properties: {status: {type: string, enum: [open, shipped]}}}
"""


def test_both_targets_convert_the_answer_schema_and_the_openai_form_skips_it(repo: Path, run: Any) -> None:
    (repo / "tools.d" / "orders.yaml").write_text(SPEC, encoding="utf-8")
    [without] = load_desired(repo / "tools.d", output_schemas=False).tools
    assert without.output_schema is None
    [tool] = load_desired(repo / "tools.d").tools
    assert tool.output_schema is not None
    registry = run("render")
    assert registry.code == 0, registry.err
    assert json.loads(registry.out)[0]["outputSchema"]["properties"]["status"]["enum"] == ["open", "shipped"]
    result = run("render", "--format", "data-actions")
    assert result.code == 0, result.err
    [action] = json.loads(result.out)
    success = action["contract"]["output"]["successSchema"]
    assert success["properties"]["status"]["enum"] == ["open", "shipped"]


USERS = """openapi: 3.0.3
info: {title: Users, version: "1"}
servers: [{url: "https://users.example.com"}]
paths:
  /users:
    post:
      operationId: createUser
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/User"}}}}
      responses:
        "201": {description: Created., content: {application/json: {schema: {$ref: "#/components/schemas/User"}}}}
components:
  schemas:
    User:
      type: object
      required: [id, name, password]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        password: {type: string, writeOnly: true}
"""


def test_the_answer_describes_the_read_only_id_and_not_the_write_only_password(repo: Path, run: Any) -> None:
    """The id the server gives is what a caller of 'create' needs next: both targets describe it, and neither
    describes a password that only a request carries."""
    (repo / "tools.d" / "users.yaml").write_text(USERS, encoding="utf-8")
    result = run("render")
    assert result.code == 0, result.err
    [tool] = json.loads(result.out)
    assert set(tool["schema"]["properties"]) == {"name", "password"}
    assert set(tool["outputSchema"]["properties"]) == {"id", "name"}
    assert tool["outputSchema"]["required"] == ["id", "name"]
    result = run("render", "--format", "data-actions")
    assert result.code == 0, result.err
    [action] = json.loads(result.out)
    assert set(action["contract"]["output"]["successSchema"]["properties"]) == {"id", "name"}
    assert set(action["contract"]["input"]["inputSchema"]["properties"]) == {"name", "password"}
