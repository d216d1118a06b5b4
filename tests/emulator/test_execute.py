"""Execute and test: a compiled action's templates rendered by Velocity, sent over loopback, answered as output."""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from PureCloudPlatformClientV2.api_client import ApiClient
from upstream_helpers import Upstream

from reconciler.compile.data_actions import action_input
from reconciler.config import Config
from reconciler.desired import build_desired_state
from reconciler.emulator import RunningEmulator
from reconciler.emulator.execute import execute, execute_test
from reconciler.model import Tool

HOSTILE = "a/b ?&#\"\\'${x} ü€"

ORDERS = """\
    openapi: 3.0.3
    info: {title: Orders, version: "1"}
    servers: [{url: "UPSTREAM/v1"}]
    paths:
      /orders/{order_id}/items:
        post:
          operationId: addItem
          parameters:
            - {name: order_id, in: path, required: true, schema: {type: string}}
            - {name: tag, in: query, required: true, schema: {type: array, items: {type: string}}}
            - {name: q, in: query, schema: {type: string}}
            - {name: X-Trace, in: header, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [sku]
                  properties:
                    sku: {type: string}
                    qty: {type: integer}
                    gift: {type: boolean}
                    label: {type: string}
                    notes: {type: array, items: {type: string}}
          responses:
            "200":
              description: the items
              content:
                application/json:
                  schema: {type: array, items: {type: object, properties: {sku: {type: string}}}}
"""


def compiled(tmp_path: Path, upstream: Upstream, text: str = ORDERS) -> dict[str, Tool]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "tools.d").mkdir(exist_ok=True)
    (tmp_path / "tools.d" / "orders.yaml").write_text(textwrap.dedent(text).replace("UPSTREAM", upstream.url))
    state = build_desired_state(tmp_path / "tools.d", Config(root=tmp_path), {})
    assert state.errors == []
    return {tool.name: tool for tool in state.tools}


def action(tool: Tool) -> dict[str, Any]:
    return action_input(tool, category="c", integration_id="i")


def test_every_input_reaches_its_place_escaped_and_the_answer_is_the_output(tmp_path: Path, upstream: Upstream) -> None:
    body = action(compiled(tmp_path, upstream)["addItem"])
    upstream.answer = [{"sku": "A-1"}]
    inputs = {"order_id": HOSTILE, "tag": ["x y", "&"], "X-Trace": HOSTILE, "sku": HOSTILE, "gift": False, "notes": []}

    status, output = execute(body, inputs)

    assert (status, output) == (200, {"result": [{"sku": "A-1"}]})
    (sent,) = upstream.received
    assert sent.method == "POST"
    assert sent.target == ("/v1/orders/a%2Fb%20%3F%26%23%22%5C%27%24%7Bx%7D%20%C3%BC%E2%82%AC/items?tag=x+y&tag=%26")
    assert sent.header("X-Trace") == HOSTILE.encode().decode("latin-1")
    assert sent.header("Content-Type") == "application/json"
    assert sent.body.decode() == '{"sku":"a/b ?&#\\"\\\\\'${x} ü€","gift":false,"notes":[]}'


SHARED_LINK = """\
    openapi: 3.0.3
    info: {title: Files, version: "1"}
    servers: [{url: "UPSTREAM/2.0"}]
    paths:
      /files/{file_id}#get_shared_link:
        get:
          operationId: getSharedLink
          parameters:
            - {name: file_id, in: path, required: true, schema: {type: string}}
            - {name: fields, in: query, required: true, schema: {type: string}}
          responses: {"200": {description: the link}}
"""


def test_a_path_told_apart_by_a_fragment_sends_its_query(tmp_path: Path, upstream: Upstream) -> None:
    """Box tells operations on one path apart by a #fragment, which no client sends: written before the query,
    it took the query with it, so the upstream ran the path's other operation."""
    body = action(compiled(tmp_path, upstream, SHARED_LINK)["getSharedLink"])
    upstream.answer = {}

    status, _ = execute(body, {"file_id": "12", "fields": "shared_link"})

    assert status == 200
    assert upstream.received[0].target == "/2.0/files/12?fields=shared_link"


def test_an_input_that_breaks_the_contract_is_refused_and_nothing_is_sent(tmp_path: Path, upstream: Upstream) -> None:
    body = action(compiled(tmp_path, upstream)["addItem"])

    for bad in (
        {"order_id": "..", "tag": [], "sku": "s"},
        {"order_id": "1", "tag": [], "sku": "s", "X-Trace": "a\r\nB: c"},
    ):
        status, error = execute(body, bad)
        assert status == 400
        assert error["code"] == "invalid.schema"
    assert upstream.received == []


def test_an_empty_string_in_a_json_body_is_a_value(tmp_path: Path, upstream: Upstream) -> None:
    body = action(compiled(tmp_path, upstream)["addItem"])
    upstream.answer = []

    status, _ = execute(body, {"order_id": "7", "tag": ["t"], "sku": "", "label": ""})

    assert status == 200
    assert upstream.received[0].body == b'{"sku":"","label":""}'


def test_an_upstream_failure_fails_the_action(tmp_path: Path, upstream: Upstream) -> None:
    body = action(compiled(tmp_path, upstream)["addItem"])
    upstream.status, upstream.answer = 404, {"message": "no such order"}

    status, error = execute(body, {"order_id": "7", "tag": ["t"], "sku": "s"})

    assert status == 400
    assert "[404]" in error["message"]
    assert "no such order" in error["message"]


def test_test_answers_a_test_execution_result_step_by_step(tmp_path: Path, upstream: Upstream) -> None:
    body = action(compiled(tmp_path, upstream)["addItem"])
    upstream.answer = [{"sku": "A-1"}]

    status, result = execute_test(body, {"order_id": "7", "tag": ["t"], "sku": "s", "qty": 2})

    assert status == 200
    assert result["success"] is True
    assert result["finalResult"] == {"result": [{"sku": "A-1"}]}
    assert [step["name"] for step in result["operations"]] == [
        "Resolve request",
        "Execute",
        "Resolve translation template",
    ]
    client = ApiClient()
    model = client._ApiClient__deserialize(result, "TestExecutionResult")  # type: ignore[attr-defined]
    assert client.sanitize_for_serialization(model) == result
    assert upstream.received[0].body == b'{"sku":"s","qty":2}'


def test_the_emulator_sends_only_to_loopback(tmp_path: Path, upstream: Upstream) -> None:
    tool = compiled(tmp_path, upstream)["addItem"]
    body = action(tool)
    body["config"]["request"]["requestUrlTemplate"] = "https://api.example.com/v1/orders"

    status, result = execute_test(body, {"order_id": "7", "tag": ["t"], "sku": "s"})

    assert status == 200
    assert result["success"] is False
    assert "only to loopback" in result["error"]["message"]
    assert upstream.received == []


def test_a_stored_action_executes_through_the_emulators_http_api(
    tmp_path: Path, upstream: Upstream, start: Callable[..., RunningEmulator]
) -> None:
    emulator = start(rate_limit=1000)
    integration = emulator.actions.add_integration("Orders")
    body = action_input(compiled(tmp_path, upstream)["addItem"], category="Orders", integration_id=integration["id"])
    upstream.answer = [{"sku": "A-1"}]
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as client:
        created = client.post("/api/v2/integrations/actions", json=body).json()
        base = f"/api/v2/integrations/actions/{created['id']}"

        executed = client.post(f"{base}/execute", json={"order_id": HOSTILE, "tag": ["a b"], "sku": HOSTILE})
        tested = client.post(f"{base}/test", json={"order_id": "7", "tag": ["t"], "sku": "s"})
        refused = client.post(f"{base}/execute", json={"order_id": "..", "tag": [], "sku": "s"})

    assert (executed.status_code, executed.json()) == (200, {"result": [{"sku": "A-1"}]})
    assert tested.status_code == 200 and tested.json()["success"] is True
    assert refused.status_code == 400
    assert [sent.target.split("?")[0].rsplit("/", 2)[1] for sent in upstream.received] == [
        "a%2Fb%20%3F%26%23%22%5C%27%24%7Bx%7D%20%C3%BC%E2%82%AC",
        "7",
    ]


def test_an_integrations_basic_auth_goes_with_every_request_of_its_actions_and_only_theirs(
    tmp_path: Path, upstream: Upstream, start: Callable[..., RunningEmulator]
) -> None:
    emulator = start(rate_limit=1000)
    secured = emulator.actions.add_integration("Secured", basic_auth=("genesys", "pa:ss-w0rd-0123456789"))
    plain = emulator.actions.add_integration("Plain")
    tool = compiled(tmp_path, upstream)["addItem"]
    inputs = {"order_id": "7", "tag": ["t"], "sku": "s"}
    upstream.answer = [{"sku": "A-1"}]
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as client:
        ids = []
        for integration in (secured, plain):
            body = action_input(tool, category="Orders", integration_id=integration["id"])
            body["config"]["request"]["headers"]["Authorization"] = "Bearer from-the-template"
            ids.append(client.post("/api/v2/integrations/actions", json=body).json()["id"])
        executed = client.post(f"/api/v2/integrations/actions/{ids[0]}/execute", json=inputs)
        tested = client.post(f"/api/v2/integrations/actions/{ids[0]}/test", json=inputs)
        other = client.post(f"/api/v2/integrations/actions/{ids[1]}/execute", json=inputs)
        listed = client.get("/api/v2/integrations").text

    assert [executed.status_code, tested.json()["success"], other.status_code] == [200, True, 200]
    basic = "Basic " + base64.b64encode(b"genesys:pa:ss-w0rd-0123456789").decode()
    assert [[v for k, v in sent.headers if k.lower() == "authorization"] for sent in upstream.received] == [
        [basic],
        [basic],
        ["Bearer from-the-template"],  # another integration's action: its own templates only
    ]
    assert "pa:ss-w0rd" not in tested.text + listed  # never shown back, as the platform redacts it
