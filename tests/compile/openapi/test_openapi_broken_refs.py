"""Broken references a user meets through `reconciler validate`: each is an error at the `$ref` that is broken,
never a tool that silently lost what the description says (an output schema, a security scheme)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

OPENAPI = """\
openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.example.com'}]
"""
SECRET = "sk-live-not-a-response-0123456789"


def _errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": error: " in line]


def _line(text: str, needle: str) -> int:
    return 1 + next(number for number, line in enumerate(text.splitlines()) if needle in line)


@pytest.mark.parametrize(
    ("reference", "said"),
    [
        ("'#/components/responses/Missing'", "points at nothing"),
        ("'../secrets.yaml#/KEY'", "points at a string, not a response"),
        ("'#/components/responses/Ok/description'", "points at a string, not a response"),
    ],
    ids=["missing", "secret", "string"],
)
def test_a_success_response_reference_that_is_broken_is_an_error_at_its_line(
    repo: Path, run: Any, reference: str, said: str
) -> None:
    """The success answer's `$ref` that leads nowhere gave the tool no output schema, and no word of why: the
    tool went out without the answer's shape the description meant to give it."""
    (repo / "secrets.yaml").write_text(f"KEY: {SECRET}\n")
    text = OPENAPI + (
        "paths:\n  /a:\n    get:\n      operationId: getA\n      responses:\n"
        f"        '200': {{$ref: {reference}}}\n"
        "  /b:\n    get:\n      operationId: getB\n      responses: {'200': {$ref: '#/components/responses/Ok'}}\n"
        "components:\n  responses:\n    Ok:\n      description: ok\n"
        "      content: {application/json: {schema: {type: object, properties: {id: {type: integer}}}}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code == 1, result.output
    errors = _errors(result.output)
    assert len(errors) == 1, result.output
    assert errors[0].startswith(f"tools.d/api.yaml:{_line(text, reference)}:"), errors
    assert said in errors[0], errors
    assert "invalid: 1 tools, 1 errors" in result.output  # getA is left out; getB still compiles
    assert "Traceback" not in result.output and SECRET not in result.output


def test_a_success_response_reference_that_holds_gives_the_output_schema(repo: Path, run: Any) -> None:
    (repo / "tools.d" / "api.yaml").write_text(
        OPENAPI + "paths:\n  /b:\n    get:\n      operationId: getB\n"
        "      responses: {'200': {$ref: '#/components/responses/Ok'}}\n"
        "components:\n  responses:\n    Ok:\n      description: ok\n"
        "      content: {application/json: {schema: {type: object, properties: {id: {type: integer}}}}}\n"
    )
    result = run("render")
    assert result.code == 0, result.output
    (tool,) = json.loads(result.out)
    assert tool["outputSchema"]["properties"] == {"id": {"type": "integer"}}


@pytest.mark.parametrize(
    ("reference", "said"),
    [
        ("'#/components/securitySchemes/Missing'", "points at nothing"),
        ("'../secrets.yaml#/KEY'", "points at a string, not a security scheme"),
    ],
    ids=["missing", "secret"],
)
def test_a_security_scheme_reference_that_is_broken_is_an_error_at_its_line(
    repo: Path, run: Any, reference: str, said: str
) -> None:
    """A security scheme's `$ref` that leads nowhere was read as a scheme the tool service cannot fill: `validate`
    said nothing, and `validate --serve` asked to exclude every operation that needs it, for a typo."""
    (repo / "secrets.yaml").write_text(f"KEY: {SECRET}\n")
    (repo / "specs").mkdir()
    text = OPENAPI + (
        "security: [{key: []}]\n"
        "paths:\n  /a:\n    get:\n      operationId: getA\n      responses: {'200': {description: ok}}\n"
        f"components:\n  securitySchemes:\n    key: {{$ref: {reference}}}\n"
    )
    (repo / "specs" / "api.yaml").write_text(text)
    (repo / "tools.d" / "api.yaml").write_text(
        "source:\n  openapi: ../specs/api.yaml\n  credentials: {key: '${KEY:-}'}\n"
    )
    for argv in (("validate",), ("validate", "--serve")):
        result = run(*argv)
        assert result.code == 1, result.output
        errors = _errors(result.output)
        assert len(errors) == 1, result.output
        assert errors[0].startswith(f"specs/api.yaml:{_line(text, reference)}:"), errors
        assert said in errors[0], errors
        assert ": warning: " not in result.output  # (not "credentials name a scheme api.yaml does not define")
        assert "Traceback" not in result.output and SECRET not in result.output
