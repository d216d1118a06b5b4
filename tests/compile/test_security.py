"""An operation's security requirement and the source's credentials; `validate --serve` says what is missing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli.common import load_desired
from reconciler.model import Secret, SecurityScheme

SPEC = """openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://api.example.com"}]
security: [{key: []}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-API-Key}
    basic: {type: http, scheme: basic}
    token: {type: oauth2, flows: {}}
    tls: {type: mutualTLS}
paths:
  /a: {get: {operationId: getA, responses: {"200": {description: ok}}}}
  /b:
    get:
      operationId: getB
      security: [{token: []}, {basic: [], key: []}]
      responses: {"200": {description: ok}}
  /c: {get: {operationId: getC, security: [], responses: {"200": {description: ok}}}}
  /d: {get: {operationId: getD, security: [{tls: []}], responses: {"200": {description: ok}}}}
  /e: {get: {operationId: getE, security: [{basic: []}, {}], responses: {"200": {description: ok}}}}
"""


@pytest.fixture
def described(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PARTNER_KEY", "k-123")
    (repo / "spec.yaml").write_text(SPEC)
    (repo / "tools.d" / "src.yaml").write_text(
        "source:\n  openapi: ../spec.yaml\n  credentials: {key: '${PARTNER_KEY}', tokn: x}\n"
    )
    return repo


def test_each_operation_keeps_its_requirement_and_the_sources_credentials(described: Path) -> None:
    state = load_desired(described / "tools.d", check=False)
    tools = {tool.name: tool for tool in state.tools}
    a, b = tools["getA"].security, tools["getB"].security
    assert a is not None and b is not None
    assert a.alternatives == ((SecurityScheme("key", "apiKey", "header", "X-API-Key"),),)
    assert (a.location.file, a.location.line) == ("spec.yaml", 4)  # the description's own `security`
    assert [[s.kind for s in alternative] for alternative in b.alternatives] == [["bearer"], ["basic", "apiKey"]]
    assert b.location.line == 16
    assert a.credentials == {"key": "k-123", "tokn": "x"} and isinstance(a.credentials["key"], Secret)
    assert "k-123" not in repr(tools["getA"])
    assert tools["getC"].security is None  # `security: []`: none needed
    assert tools["getE"].security is None  # an empty alternative: none needed
    d = tools["getD"].security
    assert d is not None and d.alternatives == () and d.unsupported == ("tls",)
    [warning] = [d for d in state.diagnostics if d.code == "unknown-scheme"]
    assert str(warning) == (
        "tools.d/src.yaml:3:40: warning: credentials name security scheme 'tokn', which spec.yaml does not define; "
        "did you mean 'token'?"
    )


def test_validate_serve_names_each_operation_whose_credentials_are_missing(
    described: Path, run: Callable[..., Any]
) -> None:
    assert run("validate").code == 0  # the registry needs no credentials
    result = run("validate", "--serve")
    assert result.code == 1
    lines = [line for line in result.out.splitlines() if ": error:" in line]
    assert lines == [
        "spec.yaml:16:7: error: getB needs credentials for security scheme 'token'; add `credentials: "
        "{token: ${TOKEN}}` to the source of its description (a `source:` document), with the values in "
        "environment variables",
        "spec.yaml:19:33: error: getD needs security scheme 'tls', which the tool service cannot fill (it fills API "
        "keys, HTTP basic and bearer tokens); exclude the operation from the source",
    ]
    assert "k-123" not in result.output


def test_validate_serve_places_a_json_descriptions_requirements_exactly(repo: Path, run: Callable[..., Any]) -> None:
    # a requirement's place is found only when an error names it (locating a key of a large JSON description
    # scans its text): it must still be the exact key, the operation's own or the description's
    text = json.dumps(yaml.safe_load(SPEC), indent=2)
    (repo / "spec.json").write_text(text)
    (repo / "tools.d" / "src.yaml").write_text("source: {openapi: ../spec.json}\n")
    lines = text.splitlines()

    def security_key_after(marker: str) -> str:
        start = next(i for i, line in enumerate(lines) if marker in line)
        found = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith('"security"'))
        column = len(lines[found]) - len(lines[found].lstrip()) + 1
        return f"spec.json:{found + 1}:{column}"

    result = run("validate", "--serve")
    assert result.code == 1
    places = [(line.split(": error: ")[0], line.split(": error: ")[1].split()[0]) for line in result.out.splitlines()]
    assert places == [
        (security_key_after('"servers"'), "getA"),
        (security_key_after('"/b"'), "getB"),
        (security_key_after('"/d"'), "getD"),
    ]


def test_an_empty_credential_is_none_so_plan_runs_where_only_serve_has_the_key(
    repo: Path, run: Callable[..., Any]
) -> None:
    (repo / "spec.yaml").write_text(SPEC)
    (repo / "tools.d" / "src.yaml").write_text(
        "source:\n  openapi: ../spec.yaml\n  include: {operations: [getA]}\n  credentials: {key: '${PARTNER_KEY:-}'}\n"
    )
    assert run("validate").code == 0
    result = run("validate", "--serve")
    assert result.code == 1
    assert "getA needs credentials for security scheme 'key'" in result.out


def test_swagger_arrays_get_their_default_collection_format_written_out(repo: Path) -> None:
    (repo / "tools.d" / "s.yaml").write_text(
        "swagger: '2.0'\ninfo: {title: t, version: '1'}\nhost: api.example.com\n"
        "paths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n"
        "        - {name: ids, in: query, type: array, items: {type: integer}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    [tool] = load_desired(repo / "tools.d").tools
    assert tool.request is not None
    assert tool.request["parameters"]["ids"] == {"in": "query", "name": "ids", "collectionFormat": "csv"}
