"""`timeout`: seconds one call of a tool may take (1-60), on a tool definition, a source's defaults or an override."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.cli.common import load_desired

SPEC = """openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://api.example.com"}]
paths:
  /a: {get: {operationId: getA, responses: {"200": {description: ok}}}}
  /b: {get: {operationId: getB, responses: {"200": {description: ok}}}}
"""
TOOL = "name: t\ndescription: Does a thing.\nendpoint: https://e.example.com\n"


def test_timeouts_come_from_the_definition_the_defaults_and_the_override(repo: Path) -> None:
    (repo / "tools.d" / "t.yaml").write_text(TOOL + "timeout: 12.5\n")
    (repo / "tools.d" / "u.yaml").write_text("name: u\ndescription: Does another.\nendpoint: https://e.example.com\n")
    (repo / "spec.yaml").write_text(SPEC)
    (repo / "tools.d" / "src.yaml").write_text(
        "source:\n  openapi: ../spec.yaml\n  defaults: {timeout: 3}\n  overrides: {getB: {timeout: 30}}\n"
    )

    tools = {tool.name: tool for tool in load_desired(repo / "tools.d").tools}

    assert {name: tool.timeout for name, tool in tools.items()} == {"t": 12.5, "u": None, "getA": 3.0, "getB": 30.0}


def test_a_timeout_outside_1_to_60_seconds_is_an_error_at_its_line(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "tools.d" / "t.yaml").write_text(TOOL + "timeout: 90\n")
    result = run("validate")
    assert result.code == 1
    assert "tools.d/t.yaml:4:" in result.out
    assert "timeout" in result.out
