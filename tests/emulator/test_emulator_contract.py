"""schemathesis holds the emulator to the OpenAPI description it serves at /openapi.json, over loopback.

The emulators start when this module is imported, because schemathesis builds its tests from the schema at
collection time (its lazy fixture loader does not run under this pytest); a module fixture stops them.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup

from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
from reconciler.emulator.config import READ_SCOPE
from reconciler.emulator.gateway import GATEWAY_PATH, SCRIPT_HEADER

CLIENT_ID, CLIENT_SECRET = "contract-client", "contract-secret"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


class Contract:
    """A running emulator (strict auth), a bearer token for it, and the schema it serves."""

    def __init__(self, running: RunningEmulator) -> None:
        self.running = running
        for i in range(3):
            running.registry.put_raw(
                {
                    "name": f"seeded_{i}",
                    "description": "Seeded.",
                    "schema": {"type": "object", "properties": {}},
                    "executionEndpoint": "https://tools.example.com/x",
                }
            )
        response = httpx.post(
            f"{running.url}/oauth/token", headers={"Authorization": BASIC}, data={"grant_type": "client_credentials"}
        )
        response.raise_for_status()
        self.bearer = f"Bearer {response.json()['access_token']}"
        self.schema = schemathesis.openapi.from_url(running.openapi_url)
        contract = self

        @self.schema.auth(refresh_interval=None)
        class _Auth:  # through schemathesis' hook, so it knows when it leaves credentials out on purpose
            def get(self, case: Any, context: Any) -> str:
                return BASIC if case.path == "/oauth/token" else contract.bearer

            def set(self, case: Any, data: str, context: Any) -> None:
                case.headers = {**(case.headers or {}), "Authorization": data}

        @self.schema.hook
        def filter_case(context: Any, case: Any) -> bool:
            """The description says in prose what OpenAPI cannot say without a remote `$ref`: a tool's `schema`
            is valid JSON Schema 2020-12. Valid ("positive") requests are held to that rule too."""
            meta = case.meta
            if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
                return True
            if case.path == GATEWAY_PATH:
                script = (case.headers or {}).get(SCRIPT_HEADER)
                return _tool_results_answer_calls(case.body.get("messages", [])) and (
                    script is None or contract.is_script(script)
                )
            try:
                jsonschema.Draft202012Validator.check_schema(case.body.get("schema", {}))
            except jsonschema.SchemaError:
                return False
            return True

    def is_script(self, header: str) -> bool:
        """The script header's rule the description states in prose: its text is JSON of `GatewayScript`."""
        try:
            script = json.loads(header)
        except ValueError:
            return False
        schema = self.schema.raw_schema["components"]["schemas"]["GatewayScript"]
        return bool(jsonschema.Draft202012Validator(schema).is_valid(script))

    def check(self, case: Any) -> None:
        case.call_and_validate()


def _tool_results_answer_calls(messages: list[Any]) -> bool:
    """The gateway's rule that the description states in prose (OpenAPI cannot relate two array items): each
    `tool` message answers a tool call of an earlier assistant message."""
    called: set[Any] = set()
    for message in messages:
        if message.get("role") == "assistant":
            called |= {call.get("id") for call in message.get("tool_calls") or []}
        elif message.get("role") == "tool" and message.get("tool_call_id") not in called:
            return False
    return True


_EMULATORS = contextlib.ExitStack()
TOKEN = Contract(
    _EMULATORS.enter_context(run_emulator(EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)))
)
NEXTURI = Contract(
    _EMULATORS.enter_context(
        run_emulator(EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, paging="nexturi"))
    )
)

READ_ONLY = Contract(  # every write answered 403: the answers must be the documented ones too
    _EMULATORS.enter_context(
        run_emulator(EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=(READ_SCOPE,)))
    )
)


atexit.register(_EMULATORS.close)  # when only collected (--co), the fixture below never runs


@pytest.fixture(scope="module", autouse=True)
def _stop_emulators() -> Iterator[None]:
    yield
    _EMULATORS.close()


@TOKEN.schema.parametrize()
@FUZZ
def test_the_emulator_keeps_its_contract_token_paging(case: Any) -> None:
    TOKEN.check(case)


@NEXTURI.schema.parametrize()
@FUZZ
def test_the_emulator_keeps_its_contract_nexturi_paging(case: Any) -> None:
    NEXTURI.check(case)


@READ_ONLY.schema.parametrize()
@FUZZ
def test_the_emulator_keeps_its_contract_for_a_read_only_client(case: Any) -> None:
    READ_ONLY.check(case)


def test_the_contract_covers_every_operation() -> None:
    operations = {(op.method.upper(), op.path) for op in (r.ok() for r in TOKEN.schema.get_all_operations())}
    assert operations == {
        ("POST", "/oauth/token"),
        ("GET", "/api/v2/ai/assistant/tools"),
        ("POST", "/api/v2/ai/assistant/tools"),
        ("GET", "/api/v2/ai/assistant/tools/{toolId}"),
        ("PUT", "/api/v2/ai/assistant/tools/{toolId}"),
        ("DELETE", "/api/v2/ai/assistant/tools/{toolId}"),
        ("POST", "/api/v2/ai/llm/gateway/chat/completions"),
    }


GATEWAY_TURN = [  # one turn with a tool call: the user's message, the model's call, the tool's result
    {"role": "system", "content": "You answer questions about orders."},
    {"role": "user", "content": "Where is order 123?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}],
    },
    {"role": "tool", "tool_call_id": "c1", "content": '{"status": "shipped"}'},
]


@pytest.mark.parametrize(
    ("messages", "script", "finish_reason"),
    [
        (GATEWAY_TURN[:2], '[{"tool_calls": [{"name": "lookup", "arguments": {"order_id": "123"}}]}]', "tool_calls"),
        (GATEWAY_TURN, '[{"tool_calls": [{"name": "lookup"}]}, {"content": "It is {{tool:lookup}}."}]', "stop"),
        (GATEWAY_TURN[:2], None, "stop"),
    ],
)
def test_the_gateway_answers_a_scripted_turn_as_documented(
    messages: list[dict[str, Any]], script: str | None, finish_reason: str
) -> None:
    """Random requests seldom carry a valid script, so the documented answers with tool calls are asked for here."""
    operation = TOKEN.schema.find_operation_by_id("chatCompletions")
    headers = {"Authorization": TOKEN.bearer, **({"X-Reconciler-Script": script} if script else {})}
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    case = operation.Case(body={"model": "any", "messages": messages, "tools": tools, "tool_choice": "auto"})
    response = case.call_and_validate(headers=headers)
    assert response.status_code == 200
    assert response.json()["choices"][0]["finish_reason"] == finish_reason


def test_the_gateway_refuses_a_body_that_is_not_json_in_both_error_shapes() -> None:
    response = httpx.post(
        TOKEN.running.url + "/api/v2/ai/llm/gateway/chat/completions",
        headers={"Authorization": TOKEN.bearer, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == body["error"]["message"] == "the body is not valid JSON"


def test_the_contract_check_can_fail() -> None:
    """A tool that breaks the documented Tool shape (seeded behind the server's back) is caught."""
    registry = TOKEN.running.registry
    registry.put_raw({"id": "broken-tool", "name": 42})
    case = TOKEN.schema.find_operation_by_id("getTool").Case(path_parameters={"toolId": "broken-tool"})
    try:
        with pytest.raises(FailureGroup) as caught:
            case.call_and_validate(headers={"Authorization": TOKEN.bearer})
        assert "Response violates schema" in str(caught.value)
    finally:
        registry.delete("broken-tool")
