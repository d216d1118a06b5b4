"""An OpenAPI operation's success answer is converted only where it has a place: a Data Action's output
contract. The tools target (the default) skips that work; `render --format data-actions` still shows it."""

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


def test_the_tools_target_skips_the_answer_schema_and_render_data_actions_shows_it(repo: Path, run: Any) -> None:
    (repo / "tools.d" / "orders.yaml").write_text(SPEC, encoding="utf-8")
    [tool] = load_desired(repo / "tools.d").tools
    assert tool.output_schema is None
    [with_answer] = load_desired(repo / "tools.d", output_schemas=True).tools
    assert with_answer.output_schema is not None
    result = run("render", "--format", "data-actions")
    assert result.code == 0, result.err
    [action] = json.loads(result.out)
    success = action["contract"]["output"]["successSchema"]
    assert success["properties"]["status"]["enum"] == ["open", "shipped"]
