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
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup
from upstream_helpers import Upstream, running_upstream

from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
from reconciler.emulator.actions import ACTIONS_PATH, INTEGRATIONS_PATH, ActionStore
from reconciler.emulator.config import READ_SCOPE
from reconciler.emulator.gateway import GATEWAY_PATH, SCRIPT_HEADER

CLIENT_ID, CLIENT_SECRET = "contract-client", "contract-secret"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


INTEGRATION_ID = "0c0f3a52-6c1e-4a8e-9d44-0d5d1c1f7a01"
ACTION_ID, BARE_ACTION_ID = "custom_-_seeded-with-draft", "custom_-_seeded-without-draft"


class SeededActions:
    """A Web Services Data Actions integration (and one of another type), an action with a draft and one
    without, whose request goes to a loopback web service: the routes with an `actionId` are exercised with ids
    that exist, not only with 404s. `reset` puts them back as they were before each call, so a fuzzed delete or
    publish does not take them away from the cases after it."""

    def __init__(self, store: ActionStore, upstream: Upstream) -> None:
        self.store = store
        store.add_integration("Contract actions", integration_id=INTEGRATION_ID)
        store.add_integration("A premium app", integration_type="premium-app-example")
        action = {
            "name": "seeded_action",
            "category": "Contract actions",
            "integrationId": INTEGRATION_ID,
            "secure": False,
            "contract": {  # any object is a valid input: execute's positive cases run through to the web service
                "input": {"inputSchema": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}},
                "output": {"successSchema": {"type": "object"}},
            },
            "config": {
                "request": {
                    "requestUrlTemplate": f"{upstream.url}/echo",
                    "requestType": "POST",
                    "requestTemplate": "${input.rawRequest}",
                    "headers": {"Content-Type": "application/json"},
                },
                "response": {"successTemplate": "${rawResult}"},
            },
        }
        self.seeds = [
            ({**action, "id": ACTION_ID, "selfUri": f"{ACTIONS_PATH}/{ACTION_ID}"}, False),
            ({**action, "id": ACTION_ID, "selfUri": f"{ACTIONS_PATH}/{ACTION_ID}/draft"}, True),
            (
                {**action, "id": BARE_ACTION_ID, "name": "bare_action", "selfUri": f"{ACTIONS_PATH}/{BARE_ACTION_ID}"},
                False,
            ),
        ]
        self.reset()

    def reset(self) -> None:
        for seed, draft in self.seeds:
            self.store.put_raw(seed, draft=draft)
        self.store.store.delete("draft", BARE_ACTION_ID)


class Contract:
    """A running emulator (strict auth), a bearer token for it, and the schema it serves."""

    def __init__(self, running: RunningEmulator, upstream: Upstream) -> None:
        self.running = running
        self.actions = SeededActions(running.actions, upstream)
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
        def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
            """Most ids name a seeded action (random ones are 404s, which the generated ids still give)."""
            generated = (path_parameters or {}).get("actionId")
            if not isinstance(generated, str) or not generated:  # an invalid id stays invalid
                return st.just(path_parameters)
            ids = st.sampled_from([ACTION_ID, ACTION_ID, BARE_ACTION_ID, generated])
            return ids.map(lambda chosen: {**path_parameters, "actionId": chosen})

        @self.schema.hook
        def map_case(context: Any, case: Any) -> Any:
            """The rule the description states in prose: a new action names an existing integration."""
            meta = case.meta
            positive = meta is not None and meta.generation.mode.is_positive
            if positive and case.path == ACTIONS_PATH and isinstance(case.body, dict):
                case.body["integrationId"] = INTEGRATION_ID
            return case

        @self.schema.hook
        def filter_case(context: Any, case: Any) -> bool:
            """The description says in prose what OpenAPI cannot say without a remote `$ref`: a tool's `schema`
            and `outputSchema` are valid JSON Schema 2020-12, an action's contract schemas valid draft-04.
            Valid ("positive") requests are held to those rules too."""
            meta = case.meta
            if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
                return True
            if case.path.startswith(INTEGRATIONS_PATH):
                return _contract_schemas_are_draft4(case.body)
            if case.path == GATEWAY_PATH:
                script = (case.headers or {}).get(SCRIPT_HEADER)
                return _tool_results_answer_calls(case.body.get("messages", [])) and (
                    script is None or contract.is_script(script)
                )
            try:  # both schemas of a tool: `outputSchema` is held to the same dialect (`then: []` is refused)
                for key in ("schema", "outputSchema"):
                    jsonschema.Draft202012Validator.check_schema(case.body.get(key, {}))
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
        if case.path.startswith(INTEGRATIONS_PATH):
            self.actions.reset()
        case.call_and_validate()


def _contract_schemas_are_draft4(body: dict[str, Any]) -> bool:
    contract = body.get("contract")
    if not isinstance(contract, dict):
        return True
    try:
        for part, key in (("input", "inputSchema"), ("output", "successSchema")):
            jsonschema.Draft4Validator.check_schema(contract.get(part, {}).get(key, {}))
    except jsonschema.SchemaError:
        return False
    return True


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
UPSTREAM = _EMULATORS.enter_context(running_upstream())  # the web service the seeded actions call
TOKEN = Contract(
    _EMULATORS.enter_context(run_emulator(EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET))),
    UPSTREAM,
)
NEXTURI = Contract(
    _EMULATORS.enter_context(
        run_emulator(EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, paging="nexturi"))
    ),
    UPSTREAM,
)

READ_ONLY = Contract(  # every write answered 403: the answers must be the documented ones too
    _EMULATORS.enter_context(
        run_emulator(EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=(READ_SCOPE,)))
    ),
    UPSTREAM,
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


@NEXTURI.schema.exclude(path_regex=f"^{INTEGRATIONS_PATH}").parametrize()  # `paging` is the Tools API's only
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
        ("GET", "/api/v2/integrations"),
        ("GET", "/api/v2/integrations/actions"),
        ("POST", "/api/v2/integrations/actions"),
        ("GET", "/api/v2/integrations/actions/drafts"),
        ("GET", "/api/v2/integrations/actions/{actionId}"),
        ("PATCH", "/api/v2/integrations/actions/{actionId}"),
        ("DELETE", "/api/v2/integrations/actions/{actionId}"),
        ("GET", "/api/v2/integrations/actions/{actionId}/draft"),
        ("POST", "/api/v2/integrations/actions/{actionId}/draft"),
        ("PATCH", "/api/v2/integrations/actions/{actionId}/draft"),
        ("DELETE", "/api/v2/integrations/actions/{actionId}/draft"),
        ("POST", "/api/v2/integrations/actions/{actionId}/draft/publish"),
        ("POST", "/api/v2/integrations/actions/{actionId}/draft/test"),
        ("POST", "/api/v2/integrations/actions/{actionId}/execute"),
        ("POST", "/api/v2/integrations/actions/{actionId}/test"),
        ("GET", "/api/v2/integrations/actions/{actionId}/templates/{fileName}"),
        ("GET", "/api/v2/integrations/actions/{actionId}/draft/templates/{fileName}"),
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


def _call(operation_id: str, **parts: Any) -> Any:
    case = TOKEN.schema.find_operation_by_id(operation_id).Case(**parts)
    return case.call_and_validate(headers={"Authorization": TOKEN.bearer})


def test_an_action_goes_through_its_whole_life_as_documented() -> None:
    """Random requests seldom send the version just read, so the documented 200s of patch, draft and publish
    are asked for here, in the order the reconciler's apply sends them, each answer held to the description."""
    TOKEN.actions.reset()
    created = _call(
        "postIntegrationsActions",
        body={
            "name": "life",
            "category": "Contract actions",
            "integrationId": INTEGRATION_ID,
            "contract": TOKEN.actions.seeds[0][0]["contract"],
            "config": {**TOKEN.actions.seeds[0][0]["config"], "timeoutSeconds": 5},
        },
    ).json()
    ids = {"actionId": created["id"]}
    whole = _call("getIntegrationsAction", path_parameters=ids, query={"expand": "contract", "includeConfig": True})
    assert whole.json()["contract"] == created["contract"]
    assert (
        _call("patchIntegrationsAction", path_parameters=ids, body={"category": "B", "version": 1}).json()["version"]
        == 2
    )
    assert _call("postIntegrationsActionDraft", path_parameters=ids).json()["version"] == 1
    patched = _call("patchIntegrationsActionDraft", path_parameters=ids, body={"name": "life_2", "version": 1})
    assert _call("getIntegrationsActionDraft", path_parameters=ids).json()["name"] == "life_2"
    assert _call("postIntegrationsActionDraftTest", path_parameters=ids, body={"q": "x"}).json()["success"]
    drafts = _call("getIntegrationsActionsDrafts", query={"ids": created["id"]}).json()
    assert [d["name"] for d in drafts["entities"]] == ["life_2"]
    published = _call(
        "postIntegrationsActionDraftPublish",
        path_parameters=ids,
        body={"version": patched.json()["version"]},
    ).json()
    assert (published["id"], published["name"], published["version"]) == (created["id"], "life_2", 3)
    assert _call("postIntegrationsActionExecute", path_parameters=ids, body={"q": "x"}).json() == {"ok": True}
    assert _call("postIntegrationsActionTest", path_parameters=ids, body={}).json()["finalResult"] == {"ok": True}
    listed = _call("getIntegrationsActions", query={"name": "life", "includeConfig": True}).json()
    assert [a["config"]["timeoutSeconds"] for a in listed["entities"]] == [5]
    integrations = _call("getIntegrations", query={"integrationType": "custom-rest-actions"}).json()
    assert [i["id"] for i in integrations["entities"]] == [INTEGRATION_ID]
    assert _call("deleteIntegrationsAction", path_parameters=ids).status_code == 204
    assert _call("getIntegrationsAction", path_parameters=ids).status_code == 404


def test_the_actions_contract_check_can_fail() -> None:
    """An action that breaks the documented Action shape (seeded behind the server's back) is caught."""
    store = TOKEN.running.actions
    store.put_raw({"id": "broken-action", "name": 42, "version": 1})
    operation = TOKEN.schema.find_operation_by_id("getIntegrationsAction")
    case = operation.Case(path_parameters={"actionId": "broken-action"})
    try:
        with pytest.raises(FailureGroup) as caught:
            case.call_and_validate(headers={"Authorization": TOKEN.bearer})
        assert "Response violates schema" in str(caught.value)
    finally:
        store.store.delete("action", "broken-action")


SDK_MODELS = {  # each schema of the description and the official SDK's model it describes
    "PostActionInput": "PostActionInput",
    "UpdateActionInput": "UpdateActionInput",
    "UpdateDraftInput": "UpdateDraftInput",
    "PublishDraftInput": "PublishDraftInput",
    "ActionConfig": "ActionConfig",
    "RequestConfig": "RequestConfig",
    "ResponseConfig": "ResponseConfig",
    "ActionContractInput": "ActionContractInput",
    "ActionInputSchema": "JsonSchemaDocument",
    "JsonSchemaDocument": "JsonSchemaDocument",
    "Action": "Action",
    "ActionEntityListing": "ActionEntityListing",
    "Integration": "Integration",
    "IntegrationEntityListing": "IntegrationEntityListing",
    "ErrorBody": "ErrorBody",
    "TestExecutionResult": "TestExecutionResult",
}


@pytest.mark.parametrize(("schema", "model"), SDK_MODELS.items())
def test_the_description_names_only_fields_of_the_sdk_models(schema: str, model: str) -> None:
    sdk = pytest.importorskip("PureCloudPlatformClientV2")
    described = TOKEN.schema.raw_schema["components"]["schemas"][schema]["properties"]
    assert set(described) <= set(getattr(sdk.models, model)().attribute_map.values())
