"""What reaches a hand-written tool's endpoint or handler through `reconciler serve`, over loopback HTTP: only
the arguments its schema declares, and, for an endpoint, the invocation every tool endpoint takes (the body its
Data Action posts too), so one endpoint serves the tool on either target."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.compile.data_actions import action_input
from reconciler.config import Config
from reconciler.desired import build_desired_state
from reconciler.emulator.execute import execute
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
    assert received.json["parameters"] == {"sku": "A-1", "note": "fragile"}


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


CONTEXT = {"user_id": "conversation.user_id", "tier": "conversation.customer.tier"}


def test_an_endpoint_gets_the_invocation_with_only_the_state_its_context_reads(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    written = {"type": "object", "properties": PROPERTIES, "required": ["sku"]}
    service = serving([Tool("check", "d", upstream.url + "/check", written, SourceLocation("t.yaml"), context=CONTEXT)])
    answer = post(
        service.url,
        {"sku": "A-1"},
        conversation_id="C-1",
        user_id="U-9",
        conversation={"customer": {"tier": "gold", "email": "x@example.com"}, "session_token": "tok-secret"},
    )
    assert answer.json()["status"] == "success", answer.json()
    [received] = upstream.received
    assert (received.method, received.path, received.headers["Content-Type"]) == ("POST", "/check", "application/json")
    # the state the tool does not read (an e-mail, a session token, the conversation id) stays in the service
    assert received.json == {
        "tool_name": "check",
        "parameters": {"sku": "A-1"},
        "user_id": "U-9",
        "conversation": {"user_id": "U-9", "customer": {"tier": "gold"}},
    }


@pytest.mark.parametrize(
    "context", ["", "context:\n  user_id: conversation.user_id\n  tier: conversation.customer.tier\n"]
)
def test_serve_posts_to_an_endpoint_what_the_tools_data_action_posts(
    repo: Path, serving: Callable[..., Serving], upstream: Upstream, context: str
) -> None:
    (repo / "tools.d" / "t.yaml").write_text(
        "name: check\ndescription: Checks.\nendpoint: ${UPSTREAM}/check\nparameters:\n"
        "  sku: {type: string, required: true}\n  count: {type: integer}\n" + context
    )
    state = build_desired_state(repo / "tools.d", Config(root=repo), {"UPSTREAM": upstream.url})
    assert state.errors == []
    [compiled] = state.tools
    inputs: dict[str, Any] = {"sku": 'A-1 "q" ü', "count": 3}
    filled = {"user_id": "U-9", "tier": "gold"} if context else {}
    status, _ = execute(action_input(compiled, category="Tools", integration_id="i-1"), {**inputs, **filled})
    assert status == 200
    service = serving([compiled])
    assert post(service.url, inputs, user_id="U-9", conversation={"customer": {"tier": "gold"}}).status_code == 200
    from_action, from_serve = upstream.received
    assert from_serve.json == from_action.json
    assert json.loads(from_serve.body)["tool_name"] == "check"


def test_a_tool_whose_endpoint_leads_back_to_its_own_service_fails_at_once_not_in_a_loop(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path
) -> None:
    # The endpoint a tool's Data Action calls is often `reconciler serve` itself (${TOOLS_BASE_URL}/tools/NAME);
    # served without a handler for it, the service forwarded each call to itself, again and again, until the
    # timeout, with hundreds of calls in flight
    audit = tmp_path / "audit.jsonl"
    service = serving([tool(upstream)], audit=audit)
    service.service.runtime.tools["check"] = dataclasses.replace(tool(upstream), endpoint=service.url + "/tools/check")
    answer = post(service.url, {"sku": "A-1"})
    assert (answer.status_code, answer.json()["error_code"]) == (502, "UPSTREAM_ERROR")
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [line["error_code"] for line in lines] == ["EXECUTION_FAILURE", "UPSTREAM_ERROR"]  # the call came back once
    assert upstream.received == []


def test_a_service_forwarding_to_another_that_runs_the_tool_is_not_a_loop(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    async def check(arguments: dict[str, Any]) -> Any:
        return {"handled": arguments}

    runs = serving([tool(upstream)], handlers={"check": check})
    forwards = serving([dataclasses.replace(tool(upstream), endpoint=runs.url + "/tools/check")])
    answer = post(forwards.url, {"sku": "A-1"})
    assert answer.json()["output"]["output"] == {"handled": {"sku": "A-1"}}
