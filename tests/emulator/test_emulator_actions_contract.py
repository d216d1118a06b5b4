"""What holding the emulator's Data Actions routes to their OpenAPI description (test_emulator_contract.py) found,
each pinned over loopback HTTP: the answers the platform documents, where the emulator answered otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from upstream_helpers import Upstream

from reconciler.emulator import RunningEmulator

ACTIONS = "/api/v2/integrations/actions"
CONTRACT = {"input": {"inputSchema": {"type": "object"}}, "output": {"successSchema": {"type": "object"}}}

Http = tuple[RunningEmulator, httpx.Client, str]
NEVER_CALLED = "http://127.0.0.1:9/never-called"
"""The URL of an action no test runs (the loopback web service costs half a second to stop)."""


@pytest.fixture
def http(start: Callable[..., RunningEmulator]) -> Iterator[Http]:
    emulator = start()
    integration = emulator.actions.add_integration("Tools")
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as client:
        yield emulator, client, integration["id"]


def action_body(integration_id: str, url: str, name: str = "a", **fields: Any) -> dict[str, Any]:
    request = {"requestType": "POST", "requestUrlTemplate": url, "requestTemplate": "${input.rawRequest}"}
    return {"name": name, "category": "Tools", "integrationId": integration_id, "contract": CONTRACT,
            "config": {"request": request}, **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v2/integrations", "GET"),
        ("DELETE", ACTIONS, "GET, POST"),
        ("PUT", f"{ACTIONS}/some-id", "GET, PATCH, DELETE"),
        ("PUT", f"{ACTIONS}/some-id/draft", "GET, POST, PATCH, DELETE"),
        ("GET", f"{ACTIONS}/some-id/execute", "POST"),
        ("OPTIONS", f"{ACTIONS}/drafts", "GET"),
    ],
)
def test_a_method_the_path_does_not_serve_is_a_405_whose_allow_names_the_ones_it_does(
    http: Http, method: str, path: str, allowed: str
) -> None:
    _, client, _ = http
    refused = client.request(method, path)
    assert refused.status_code == 405
    assert refused.headers["Allow"] == allowed
    assert refused.json()["code"] == "method.not.allowed"


@pytest.mark.parametrize("method", ["GET", "OPTIONS", "PUT"])
def test_a_data_actions_path_that_serves_nothing_is_a_404_whatever_the_method(http: Http, method: str) -> None:
    """An OPTIONS or PUT there was a 405 naming five methods the path does not serve either."""
    _, client, _ = http
    for path in ("/api/v2/integrations/nothing", f"{ACTIONS}/some-id/draft/nothing", f"{ACTIONS}/a/b/c/d/e"):
        refused = client.request(method, path)
        assert (refused.status_code, refused.json()["code"]) == (404, "not.found"), path
        assert "Allow" not in refused.headers


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"config": {"request": {"requestType": {}, "requestUrlTemplate": "http://127.0.0.1/x"}}}, "requestType"),
        ({"config": {"request": {"requestType": "GET", "requestUrlTemplate": "u", "requestTemplate": 5}}}, "Template"),
        ({"config": {"request": {"requestType": "GET", "requestUrlTemplate": "u", "headers": {"a": 1}}}}, "headers"),
        ({"config": {"response": {"translationMap": {"a": 1}}}}, "config.response.translationMap"),
        ({"config": {"response": {"successTemplate": ["${rawResult}"]}}}, "config.response.successTemplate"),
        ({"config": None}, "config"),
        ({"config": {"request": None}}, "config.request"),
        ({"name": "\u001f"}, "name"),
        ({"secure": None}, "secure"),
    ],
)
def test_a_field_of_the_wrong_type_or_null_is_a_400_naming_it(http: Http, change: dict[str, Any], field: str) -> None:
    """A `requestType` of `{}` was a 500 (a dict is not hashable); a number as a template, a null config and a
    blank name were stored, and read back as an Action the SDK's model does not describe."""
    _, client, integration_id = http
    refused = client.post(ACTIONS, json={**action_body(integration_id, NEVER_CALLED), **change})
    assert refused.status_code == 400, refused.text
    assert field in refused.json()["details"][0]["fieldName"]
    assert client.get(ACTIONS).json()["total"] == 0


def test_a_patch_or_a_draft_that_sets_a_field_to_null_is_refused(http: Http) -> None:
    _, client, integration_id = http
    action = client.post(ACTIONS, json=action_body(integration_id, NEVER_CALLED)).json()
    refused = client.patch(f"{ACTIONS}/{action['id']}", json={"name": None, "version": 1})
    assert (refused.status_code, refused.json()["details"][0]["fieldName"]) == (400, "name")
    assert client.post(f"{ACTIONS}/{action['id']}/draft").status_code == 200
    refused = client.patch(f"{ACTIONS}/{action['id']}/draft", json={"contract": None, "version": 1})
    assert (refused.status_code, refused.json()["details"][0]["fieldName"]) == (400, "contract")
    assert client.get(f"{ACTIONS}/{action['id']}").json()["name"] == "a"


def test_whole_numbers_written_as_floats_are_read_as_integers_and_kept_so(http: Http) -> None:
    """JSON Schema's `integer` (and the platform's Java models) take `11.0`; the emulator refused it."""
    _, client, integration_id = http
    created = client.post(ACTIONS, json=action_body(integration_id, NEVER_CALLED, config={"timeoutSeconds": 11.0}))
    assert created.status_code == 200, created.text
    assert '"timeoutSeconds": 11}' in created.text
    patched = client.patch(f"{ACTIONS}/{created.json()['id']}", json={"category": "B", "version": 1.0})
    assert (patched.status_code, patched.json()["version"]) == (200, 2)


@pytest.mark.parametrize("body", [{}, {"version": "1"}, {"version": True}])
def test_a_publish_without_a_whole_version_is_a_bad_request_not_a_conflict(http: Http, body: dict[str, Any]) -> None:
    _, client, integration_id = http
    action = client.post(ACTIONS, json=action_body(integration_id, NEVER_CALLED)).json()
    client.post(f"{ACTIONS}/{action['id']}/draft")
    refused = client.post(f"{ACTIONS}/{action['id']}/draft/publish", json=body)
    assert (refused.status_code, refused.json()["details"][0]["fieldName"]) == (400, "version")


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"type": "object", "properties": 5}, "contract.input.inputSchema"),
        ({"type": "object", "required": "x"}, "contract.input.inputSchema"),
        ({"type": "object", "properties": {"q": {"pattern": "("}}}, "contract.input.inputSchema"),
    ],
)
def test_a_contract_schema_that_is_not_draft_04_is_refused_when_written(
    http: Http, schema: dict[str, Any], field: str
) -> None:
    """It was stored, and executing the action then failed with a 500 (`properties: 5`) or read `"x"` as a
    list of one-letter names."""
    _, client, integration_id = http
    contract = {**CONTRACT, "input": {"inputSchema": schema}}
    refused = client.post(ACTIONS, json=action_body(integration_id, NEVER_CALLED, contract=contract))
    assert refused.status_code == 400
    assert refused.json()["details"] == [{"errorCode": "invalid.value", "fieldName": field}]


@pytest.mark.parametrize(
    ("method", "path", "query", "name"),
    [
        ("GET", ACTIONS, {"sortOrder": "sideways"}, "sortOrder"),
        ("GET", f"{ACTIONS}/drafts", {"secure": "yes"}, "secure"),
        ("GET", ACTIONS, {"includeAuthActions": "1"}, "includeAuthActions"),
        ("GET", ACTIONS, {"includeConfig": "1"}, "includeConfig"),
        ("GET", ACTIONS, {"ids": ",".join(f"id{i}" for i in range(51))}, "ids"),
        ("GET", f"{ACTIONS}/ID", {"expand": "config"}, "expand"),
        ("GET", f"{ACTIONS}/ID/draft", {"flatten": "maybe"}, "flatten"),
        ("DELETE", f"{ACTIONS}/ID", {"pageSize": "1"}, "pageSize"),
        ("POST", f"{ACTIONS}/ID/execute", {"includeConfig": "true"}, "includeConfig"),
        ("POST", f"{ACTIONS}/ID/draft/publish", {"expand": "contract"}, "expand"),
    ],
)
def test_each_path_takes_its_own_query_parameters_with_their_documented_values(
    http: Http, method: str, path: str, query: dict[str, str], name: str
) -> None:
    """Any parameter of any Data Actions path was accepted on every one, and a value the platform does not
    document (`sortOrder=sideways`, `includeConfig=1`) read as the default."""
    _, client, integration_id = http
    action = client.post(ACTIONS, json=action_body(integration_id, NEVER_CALLED)).json()
    client.post(f"{ACTIONS}/{action['id']}/draft")
    refused = client.request(method, path.replace("ID", action["id"]), params=query, json={"version": 1})
    assert refused.status_code == 400, refused.text
    assert refused.json()["details"][0]["fieldName"] == name
    assert client.get(f"{ACTIONS}/{action['id']}/draft").status_code == 200  # nothing happened


def test_the_listing_filters_and_sorts_as_documented(http: Http) -> None:
    """`ids`, `secure`, `sortBy` and `sortOrder` were accepted and ignored."""
    _, client, integration_id = http
    made = [
        client.post(ACTIONS, json=action_body(integration_id, NEVER_CALLED, name, category=category, secure=secure))
        for name, category, secure in (("b", "Z", False), ("a", "Y", True), ("c", "X", True))
    ]
    ids = {response.json()["name"]: response.json()["id"] for response in made}

    def names(**query: str) -> list[str]:
        return [action["name"] for action in client.get(ACTIONS, params=query).json()["entities"]]

    assert names() == ["a", "b", "c"]
    assert names(sortOrder="DESC") == ["c", "b", "a"]
    assert names(sortBy="category", sortOrder="asc") == ["c", "a", "b"]
    assert names(ids=f"{ids['b']},{ids['c']}") == ["b", "c"]
    assert names(secure="true") == ["a", "c"] and names(secure="false") == ["b"]
    assert names(includeConfig="TRUE") == ["a", "b", "c"]  # a Java Boolean reads any case
    page = client.get(ACTIONS, params={"secure": "true", "pageSize": "1"}).json()
    assert page["nextUri"] == f"{ACTIONS}?pageSize=1&pageNumber=2&secure=true"


def test_integrations_filter_by_reported_state(http: Http) -> None:
    emulator, client, _ = http
    emulator.actions.add_integration("Other", integration_type="premium-app-example")
    listing = client.get("/api/v2/integrations", params={"reportedState": "active"}).json()
    assert listing["total"] == 2
    assert client.get("/api/v2/integrations", params={"reportedState": "INACTIVE"}).json()["total"] == 0


@pytest.mark.parametrize("run", ["execute", "test", "draft/test"])
def test_a_run_whose_body_is_not_an_object_is_refused(http: Http, upstream: Upstream, run: str) -> None:
    """`test` and `draft/test` answered a 200 test result (`success: false`) to `[1]`: the platform's body is
    the SDK's `Map` of inputs, which a list is not."""
    _, client, integration_id = http
    action = client.post(ACTIONS, json=action_body(integration_id, upstream.url)).json()
    client.post(f"{ACTIONS}/{action['id']}/draft")
    refused = client.post(f"{ACTIONS}/{action['id']}/{run}", json=[1])
    assert refused.status_code == 400
    assert refused.json()["code"] == "bad.request"
    assert upstream.received == []


def test_a_failed_execute_answers_in_the_error_body_of_every_other_refusal(http: Http, upstream: Upstream) -> None:
    """It lacked `contextId` (the correlation id the platform puts in every error body)."""
    _, client, integration_id = http
    upstream.status = 500
    action = client.post(ACTIONS, json=action_body(integration_id, upstream.url)).json()
    failed = client.post(f"{ACTIONS}/{action['id']}/execute", json={}, headers={"inin-correlation-id": "c-1"})
    assert failed.status_code == 400
    assert failed.json()["contextId"] == "c-1"
    assert "[500]" in failed.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [
        ("GET", "/api/v2/integrations", "integrations:integration:view"),
        ("POST", ACTIONS, "integrations:action:add"),
        ("PATCH", f"{ACTIONS}/x", "integrations:action:edit"),
        ("DELETE", f"{ACTIONS}/x", "integrations:action:delete"),
        ("DELETE", f"{ACTIONS}/x/draft", "integrations:action:delete"),
        ("POST", f"{ACTIONS}/x/draft", "integrations:action:edit"),
        ("POST", f"{ACTIONS}/x/draft/publish", "integrations:action:edit"),
        ("POST", f"{ACTIONS}/x/execute", "integrations:action:execute"),
        ("POST", f"{ACTIONS}/x/draft/test", "integrations:action:execute"),
    ],
)
def test_a_refused_call_names_the_permission_the_platform_documents_for_it(
    start: Callable[..., RunningEmulator], method: str, path: str, needed: str
) -> None:
    """Every POST named `integrations:action:add` (publish, execute, a draft), a DELETE `…:edit`."""
    emulator = start(scopes=())
    refused = httpx.request(method, emulator.url + path, headers={"Authorization": "Bearer t"}, json={})
    assert refused.status_code == 403
    assert refused.json()["message"].endswith(f"missing the following permission: {needed}")
