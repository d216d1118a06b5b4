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
