"""What reaches a hand-written tool's endpoint or handler through `reconciler serve`, over loopback HTTP: only
the arguments its schema declares, and, for an endpoint, the invocation every tool endpoint takes (the body its
Data Action posts too), so one endpoint serves the tool on either target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.model import SourceLocation, Tool
from tests.runtime.conftest import Upstream
from tests.serve.conftest import Serving
from tests.serve.test_serve_cli import start

PROPERTIES = {"sku": {"type": "string"}, "count": {"type": "integer"}}


def tool(upstream: Upstream, **schema: Any) -> Tool:
    written = {"type": "object", "properties": PROPERTIES, "required": ["sku"], **schema}
    return Tool("check", "Checks.", upstream.url + "/check", written, SourceLocation("tools.d/t.yaml"))


def post(url: str, parameters: dict[str, Any], **rest: Any) -> httpx.Response:
    return httpx.post(url + "/tools/check", json={"tool_name": "check", "parameters": parameters, **rest})


@pytest.mark.parametrize("schema", [{}, {"additionalProperties": False}], ids=["not said", "false"])
def test_an_argument_the_schema_does_not_declare_is_refused_and_nothing_is_sent(
    serving: Callable[..., Serving], upstream: Upstream, schema: dict[str, Any]
) -> None:
    # A model must not smuggle a field (`is_admin`, `price`) to an endpoint whose schema never declared it, as an
    # OpenAPI-derived tool's binding and a Data Action's contract already refuse one.
    service = serving([tool(upstream, **schema)])
    answer = post(service.url, {"sku": "A-1", "is_admin": True, "price": 0})
    assert answer.status_code == 422
    assert answer.json() == {
        "status": "error",
        "error_code": "INVALID_ARGUMENTS",
        "message": "invalid arguments for check: the arguments: unknown arguments 'is_admin', 'price'",
    }
    assert upstream.received == []


def test_arguments_a_schema_allows_beside_its_properties_are_sent(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    service = serving([tool(upstream, additionalProperties={"type": "string"})])
    assert post(service.url, {"sku": "A-1", "note": "fragile"}).status_code == 200
    assert post(service.url, {"sku": "A-1", "note": 5}).status_code == 422  # checked by the schema it gives them
    [received] = upstream.received
    assert received.json == {"sku": "A-1", "note": "fragile"}


def test_a_handler_never_sees_an_argument_its_schema_does_not_declare(repo: Path, upstream: Upstream) -> None:
    (repo / "tools.d" / "t.yaml").write_text(
        "name: check\ndescription: Checks.\nendpoint: ${UPSTREAM}/check\nparameters:\n  sku: {type: string}\n"
    )
    (repo / "handlers.py").write_text(
        "async def check(arguments):\n    return {'seen': sorted(arguments)}\nTOOLS = {'check': check}\n"
    )
    process, url = start(repo, "--app", "handlers:TOOLS", env={"UPSTREAM": upstream.url})
    try:
        refused = post(url, {"sku": "x", "role": "admin"})
        accepted = post(url, {"sku": "x"})
    finally:
        process.kill()
        process.communicate()
    assert (refused.status_code, refused.json()["error_code"]) == (422, "INVALID_ARGUMENTS")
    assert "unknown argument 'role'" in refused.json()["message"]
    assert accepted.json()["output"] == {"seen": ["sku"]}
