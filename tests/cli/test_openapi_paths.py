"""A `source.openapi` path that names no file: the error says what the path is relative to, and the path to
write when a file of that name is elsewhere in the repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SPEC = """\
openapi: 3.0.3
info: {title: Orders, version: '1'}
paths:
  /orders:
    get:
      operationId: listOrders
      summary: Lists orders.
      responses: {'200': {description: ok}}
"""


def test_a_path_written_from_the_root_says_to_write_it_from_the_tool_file(repo: Path, run: Any) -> None:
    (repo / "specs").mkdir()
    (repo / "specs" / "orders.yaml").write_text(SPEC, encoding="utf-8")
    (repo / "tools.d" / "orders.yaml").write_text(
        "source:\n  openapi: specs/orders.yaml\n  endpoint_base: https://o.example.com\n", encoding="utf-8"
    )

    result = run("validate")

    assert result.code == 1
    assert (
        "tools.d/orders.yaml:2:3: error: source.openapi 'specs/orders.yaml': no such file "
        "(tools.d/specs/orders.yaml); the path is relative to the folder of this file (tools.d): "
        "write ../specs/orders.yaml"
    ) in result.out
    assert "Traceback" not in result.output


def test_with_no_file_of_that_name_it_still_says_what_the_path_is_relative_to(repo: Path, run: Any) -> None:
    (repo / "tools.d" / "orders.yaml").write_text("source:\n  openapi: ../specs/orders.yaml\n", encoding="utf-8")

    result = run("validate")

    assert result.code == 1
    assert (
        "tools.d/orders.yaml:2:3: error: source.openapi '../specs/orders.yaml': no such file (specs/orders.yaml); "
        "the path is relative to the folder of this file (tools.d)\n"
    ) in result.out
