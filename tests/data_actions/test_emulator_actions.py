"""The emulator's Data Actions API over loopback HTTP: Genesys paging, versions and 409s, drafts and publish,
validation, the platform's error body and rate-limit headers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator import RunningEmulator

ACTIONS = "/api/v2/integrations/actions"
CONTRACT = {"input": {"inputSchema": {"type": "object"}}, "output": {"successSchema": {"type": "object"}}}
REQUEST = {
    "requestType": "POST",
    "requestUrlTemplate": "https://x.example.com",
    "requestTemplate": "${input.rawRequest}",
}


@pytest.fixture
def http(start: Callable[..., RunningEmulator]) -> Iterator[tuple[RunningEmulator, httpx.Client, str]]:
    emulator = start(rate_limit=1000)
    integration = emulator.actions.add_integration("Tools")
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as client:
        yield emulator, client, integration["id"]


def body(integration_id: str, name: str = "a", **fields: Any) -> dict[str, Any]:
    return {"name": name, "category": "Tools", "integrationId": integration_id, "contract": CONTRACT,
            "config": {"request": REQUEST}, **fields}  # fmt: skip


def test_lists_page_genesys_style_and_a_listing_carries_no_contract(http: Any) -> None:
    _, client, integration_id = http
    for i in range(7):
        assert client.post(ACTIONS, json=body(integration_id, f"a{i}")).status_code == 200
    page = client.get(ACTIONS, params={"pageSize": 3, "pageNumber": 2, "includeConfig": "true"}).json()
    assert [a["name"] for a in page["entities"]] == ["a3", "a4", "a5"]
    assert (page["pageCount"], page["total"]) == (3, 7)
    assert page["nextUri"] == f"{ACTIONS}?pageSize=3&pageNumber=3&includeConfig=true"
    listed = page["entities"][0]
    assert "contract" not in listed and listed["config"]["request"] == {
        **{k: v for k, v in REQUEST.items() if k != "requestTemplate"},
        "requestTemplateUri": f"{ACTIONS}/{listed['id']}/templates/requesttemplate.vm",
    }
    last = client.get(page["nextUri"]).json()
    assert [a["name"] for a in last["entities"]] == ["a6"] and "nextUri" not in last
    bare = client.get(ACTIONS).json()["entities"][0]
    assert "config" not in bare and "contract" not in bare
    whole = client.get(f"{ACTIONS}/{bare['id']}", params={"expand": "contract", "includeConfig": "true"}).json()
    assert whole["contract"] == CONTRACT
    refused = client.get(ACTIONS, params={"pageSize": 0})
    assert refused.status_code == 400 and refused.json()["details"] == [
        {"errorCode": "invalid.value", "fieldName": "pageSize"}
    ]


def test_saved_templates_are_answered_by_uri_and_read_as_text(http: Any) -> None:
    """As the platform documents: "after you save a request template, the API response references it as
    requestTemplateUri"; the text is at .../templates/{fileName} (of the action, or of its draft)."""
    _, client, integration_id = http
    response = {"successTemplate": '{"a": ${rawResult}}', "translationMap": {}}
    action = client.post(ACTIONS, json=body(integration_id, config={"request": REQUEST, "response": response}))
    created = action.json()
    item = f"{ACTIONS}/{created['id']}"
    read = client.get(item, params={"expand": "contract", "includeConfig": "true"}).json()
    for answer in (created, read):
        assert "requestTemplate" not in answer["config"]["request"]
        assert "successTemplate" not in answer["config"]["response"]
        assert answer["config"]["request"]["requestTemplateUri"] == f"{item}/templates/requesttemplate.vm"
        assert answer["config"]["response"]["successTemplateUri"] == f"{item}/templates/successtemplate.vm"
    text = client.get(f"{item}/templates/requesttemplate.vm")
    assert text.status_code == 200 and text.headers["Content-Type"].startswith("text/plain")
    assert text.text == "${input.rawRequest}"
    assert client.get(f"{item}/templates/successtemplate.vm").text == '{"a": ${rawResult}}'
    assert client.get(f"{item}/templates/other.vm").status_code == 404
    assert client.get(f"{item}/draft/templates/requesttemplate.vm").status_code == 404  # no draft yet
    draft = client.post(f"{item}/draft").json()
    assert draft["config"]["request"]["requestTemplateUri"] == f"{item}/draft/templates/requesttemplate.vm"
    assert client.get(f"{item}/draft/templates/requesttemplate.vm").text == "${input.rawRequest}"
    assert client.post(f"{item}/templates/requesttemplate.vm").status_code == 405


def test_drafts_versions_and_409s(http: Any) -> None:
    _, client, integration_id = http
    action = client.post(ACTIONS, json=body(integration_id)).json()
    draft_url = f"{ACTIONS}/{action['id']}/draft"
    draft = client.post(draft_url).json()
    assert draft["version"] == 1
    again = client.post(draft_url)
    assert again.status_code == 409 and again.json()["code"] == "draft.exists"
    changed = {k: v for k, v in body(integration_id, category="Moved").items() if k != "integrationId"}
    stale = client.patch(draft_url, json={**changed, "version": 7})
    assert stale.status_code == 409 and stale.json()["details"] == [
        {"errorCode": "version.mismatch", "fieldName": "version"}
    ]
    patched = client.patch(draft_url, json={**changed, "version": 1}).json()
    assert patched["version"] == 2
    assert client.post(f"{draft_url}/publish", json={"version": 1}).status_code == 409
    published = client.post(f"{draft_url}/publish", json={"version": 2}).json()
    assert (published["id"], published["version"], published["category"]) == (action["id"], 2, "Moved")
    assert client.get(draft_url).status_code == 404
    assert client.post(ACTIONS, json=body(integration_id)).status_code == 409  # the name is taken
    assert client.delete(f"{ACTIONS}/{action['id']}").status_code == 204
    assert client.delete(f"{ACTIONS}/{action['id']}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "x" * 257}, "name"),
        ({"config": {"request": REQUEST, "timeoutSeconds": 61}}, "config.timeoutSeconds"),
        ({"config": {"request": {**REQUEST, "requestType": "TRACE"}}}, "config.request.requestType"),
        ({"integrationId": "nope"}, "integrationId"),
        ({"labels": {"team": "a"}}, "labels"),
    ],
)
def test_the_platforms_checks(http: Any, fields: dict[str, Any], field: str) -> None:
    emulator, client, integration_id = http
    answer = client.post(ACTIONS, json=body(integration_id, **fields))
    assert answer.status_code == 400
    error = answer.json()
    assert set(error) == {"message", "code", "status", "contextId", "details", "errors"}
    assert error["details"][0]["fieldName"] == field
    assert emulator.actions.actions() == []


def test_rate_limit_headers_and_429(start: Callable[..., RunningEmulator]) -> None:
    emulator = start(rate_limit=2, rate_window=60)
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as client:
        first = client.get(ACTIONS)
        client.get(ACTIONS)
        limited = client.get(ACTIONS)
    assert first.headers["inin-ratelimit-allowed"] == "2" and "inin-correlation-id" in first.headers
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert limited.json()["code"] == "too.many.requests"


def test_a_read_only_client_is_refused_with_the_permission_it_lacks(start: Callable[..., RunningEmulator]) -> None:
    emulator = start(scopes=("ai:tool:read",))
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as client:
        refused = client.post(ACTIONS, json={})
    assert refused.status_code == 403 and "integrations:action:add" in refused.json()["message"]
