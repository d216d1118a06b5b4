"""The emulator's wire behaviour, spoken to with plain httpx: bodies, headers, auth modes, paging, faults."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator
from reconciler.emulator.config import READ_SCOPE, WRITE_SCOPE
from reconciler.emulator.limits import RateWindow

TOOLS = "/api/v2/ai/assistant/tools"
Start = Callable[..., RunningEmulator]
RATE_HEADERS = ("inin-ratelimit-allowed", "inin-ratelimit-count", "inin-ratelimit-reset")


def tool_input(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Does it.",
        "schema": {"type": "object", "properties": {}},
        "executionEndpoint": "https://tools.example.com/t",
    }


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_errors_have_the_platform_body_and_every_response_the_headers(start: Start) -> None:
    running = start()
    with httpx.Client(base_url=running.url) as http:
        responses = [
            http.get(f"{TOOLS}/nope", headers={"inin-correlation-id": "mine-123"}),
            http.get("/somewhere/else"),
            http.get("/openapi.json"),
            http.post("/oauth/token", headers=basic("a", "b"), data={"grant_type": "client_credentials"}),
            http.delete(TOOLS),
        ]
    missing = responses[0]
    assert missing.status_code == 404
    assert missing.headers["inin-correlation-id"] == "mine-123"
    assert missing.json() == {
        "message": "tool nope does not exist",
        "code": "not.found",
        "status": 404,
        "contextId": "mine-123",
        "details": [],
        "errors": [],
    }
    assert [r.status_code for r in responses] == [404, 404, 200, 200, 405]
    assert responses[4].headers["allow"] == "GET, POST"
    for response in responses:
        assert response.headers["inin-correlation-id"]
        assert all(name in response.headers for name in RATE_HEADERS)


def test_bad_bodies_and_queries_are_400(start: Start) -> None:
    running = start()
    with httpx.Client(base_url=running.url) as http:
        assert http.post(TOOLS, content=b"{nope").status_code == 400
        assert http.post(TOOLS, json=[1]).status_code == 400
        assert http.get(TOOLS, params={"page_size": 0}).status_code == 400
        assert http.get(TOOLS, params={"page_size": 101}).status_code == 400
        assert http.get(TOOLS, params={"pageNumber": 2}).json()["details"] == [
            {"errorCode": "query.unknown", "fieldName": "pageNumber"}
        ]
        assert http.get(f"{TOOLS}?name=a&name=b").status_code == 400


def test_the_token_endpoint(start: Start) -> None:
    running = start(client_id="id", client_secret="secret", token_lifetime=90)
    with httpx.Client(base_url=running.url) as http:
        good = http.post("/oauth/token", headers=basic("id", "secret"), data={"grant_type": "client_credentials"})
        assert good.status_code == 200
        assert good.json()["token_type"] == "bearer"
        assert good.json()["expires_in"] == 90
        wrong = http.post("/oauth/token", headers=basic("id", "nope"), data={"grant_type": "client_credentials"})
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
        anonymous = http.post("/oauth/token", data={"grant_type": "client_credentials"})
        assert anonymous.status_code == 401
        grant = http.post("/oauth/token", headers=basic("id", "secret"), data={"grant_type": "password"})
        assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")

        token = good.json()["access_token"]
        assert http.get(TOOLS, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert http.get(TOOLS, headers={"Authorization": "Bearer made-up"}).status_code == 401
        assert http.get(TOOLS).status_code == 401
        assert http.get(TOOLS, headers={"Authorization": f"Basic {token}"}).status_code == 401


def test_without_configured_credentials_anything_but_an_expired_token_goes(start: Start) -> None:
    running = start(token_lifetime=1)
    issued = httpx.post(
        f"{running.url}/oauth/token", headers=basic("any", "thing"), data={"grant_type": "client_credentials"}
    ).json()["access_token"]
    now = time.monotonic()
    running.tokens.clock = lambda: now + 5
    with httpx.Client(base_url=running.url) as http:
        assert http.get(TOOLS).status_code == 200
        assert http.get(TOOLS, headers={"Authorization": "Bearer whatever"}).status_code == 200
        assert http.get(TOOLS, headers={"Authorization": "Bearer"}).status_code == 401
        expired = http.get(TOOLS, headers={"Authorization": f"Bearer {issued}"})
        assert expired.status_code == 401
        assert "expired" in expired.json()["message"]


def test_nexturi_paging_looks_like_genesys(start: Start) -> None:
    running = start(paging="nexturi")
    for i in range(5):
        running.registry.put_raw(tool_input(f"t{i}"))
    with httpx.Client(base_url=running.url) as http:
        first = http.get(TOOLS, params={"page_size": 2}).json()
        assert {k: v for k, v in first.items() if k != "entities"} == {
            "pageSize": 2,
            "pageNumber": 1,
            "total": 5,
            "pageCount": 3,
            "selfUri": f"{TOOLS}?pageSize=2&pageNumber=1",
            "firstUri": f"{TOOLS}?pageSize=2&pageNumber=1",
            "lastUri": f"{TOOLS}?pageSize=2&pageNumber=3",
            "nextUri": f"{TOOLS}?pageSize=2&pageNumber=2",
        }
        last = http.get(first["lastUri"]).json()
        assert [t["name"] for t in last["entities"]] == ["t4"]
        assert "nextUri" not in last
        assert last["previousUri"] == f"{TOOLS}?pageSize=2&pageNumber=2"


def test_token_paging_and_the_name_filter(start: Start) -> None:
    running = start()
    for i in range(5):
        running.registry.put_raw(tool_input(f"t{i}"))
    with httpx.Client(base_url=running.url) as http:
        first = http.get(TOOLS, params={"page_size": 3}).json()
        assert [t["name"] for t in first["entities"]] == ["t0", "t1", "t2"]
        rest = http.get(TOOLS, params={"page_size": 3, "next_page_token": first["next_page_token"]}).json()
        assert [t["name"] for t in rest["entities"]] == ["t3", "t4"]
        assert rest["next_page_token"] is None
        assert [t["name"] for t in http.get(TOOLS, params={"name": "t3"}).json()["entities"]] == ["t3"]
        assert len(http.get(TOOLS).json()["entities"]) == 5  # default page size 25


def test_an_update_without_the_current_version_is_a_version_conflict(start: Start) -> None:
    running = start()
    tool = running.registry.put_raw(tool_input("t"))
    with httpx.Client(base_url=running.url) as http:
        missing = http.put(f"{TOOLS}/{tool['id']}", json=tool_input("t"))
        assert (missing.status_code, missing.json()["code"]) == (409, "tool.version.conflict")
        ok = http.put(f"{TOOLS}/{tool['id']}", json={**tool_input("t"), "version": 1})
        assert (ok.status_code, ok.json()["version"]) == (200, 2)
        created = http.post(TOOLS, json=tool_input("t"))
        assert (created.status_code, created.json()["code"]) == (409, "tool.name.exists")


def test_the_rate_limit_window(start: Start) -> None:
    running = start(rate_limit=3, rate_window=60)
    # the window's clock stands still: a machine slow to send four requests would see "reset" below 59 s and a
    # Retry-After of 59
    running.server.window = RateWindow(3, 60, clock=lambda: 1000.0)
    with httpx.Client(base_url=running.url) as http:
        counts = [http.get(TOOLS).headers["inin-ratelimit-count"] for _ in range(3)]
        limited = http.get(TOOLS)
        free = http.get("/openapi.json")  # neither counted nor limited
    assert counts == ["1", "2", "3"]
    assert limited.status_code == 429
    assert limited.headers["inin-ratelimit-reset"] == "60.000"
    assert limited.headers["retry-after"] == "60"
    assert free.status_code == 200
    assert running.stats.responses_429 == 1
    assert running.stats.by_method == {"GET": 5}


def test_latency_is_added(start: Start) -> None:
    running = start(latency_ms=60)
    started = time.monotonic()
    httpx.get(f"{running.url}{TOOLS}")
    assert time.monotonic() - started >= 0.06


def test_random_faults_follow_their_probability(start: Start) -> None:
    running = start(fault_429=0.5, seed=3)
    with httpx.Client(base_url=running.url) as http:
        statuses = [http.get(TOOLS).status_code for _ in range(40)]
    assert 5 < statuses.count(429) < 35
    assert set(statuses) == {200, 429}


def test_a_write_can_be_committed_and_its_answer_lost(start: Start) -> None:
    running = start(fault_drop_after_commit=1.0)
    with httpx.Client(base_url=running.url) as http, pytest.raises(httpx.RemoteProtocolError):
        http.post(TOOLS, json=tool_input("committed"))
    assert [t["name"] for t in running.registry.all_tools()] == ["committed"]
    assert httpx.get(f"{running.url}{TOOLS}").status_code == 200  # reads are answered
    assert running.stats.dropped_connections == 1


def test_scripted_faults_pick_their_methods(start: Start) -> None:
    running = start()
    running.faults.inject("503", times=2, methods=("POST",))
    with httpx.Client(base_url=running.url) as http:
        assert http.get(TOOLS).status_code == 200
        assert [http.post(TOOLS, json=tool_input(f"t{i}")).status_code for i in range(3)] == [503, 503, 201]
    assert [t["name"] for t in running.registry.all_tools()] == ["t2"]


@pytest.mark.parametrize("granted", [(READ_SCOPE,), (WRITE_SCOPE,)])
def test_a_call_needing_a_scope_not_granted_is_answered_403(start: Start, granted: tuple[str, ...]) -> None:
    running = start(scopes=granted)
    seeded = running.registry.put_raw(tool_input("seeded"))
    with httpx.Client(base_url=running.url) as http:
        answers = {
            "list": http.get(TOOLS),
            "get": http.get(f"{TOOLS}/{seeded['id']}"),
            "create": http.post(TOOLS, json=tool_input("new")),
            "update": http.put(f"{TOOLS}/{seeded['id']}", json={**tool_input("seeded"), "version": 1}),
            "delete": http.delete(f"{TOOLS}/{seeded['id']}"),
        }
    reads, writes = {"list", "get"}, {"create", "update", "delete"}
    refused = writes if granted == (READ_SCOPE,) else reads
    assert {call for call, answer in answers.items() if answer.status_code == 403} == refused
    for call in refused:
        body = answers[call].json()
        missing = WRITE_SCOPE if call in writes else READ_SCOPE
        assert (body["code"], body["status"]) == ("missing.permissions", 403)
        assert body["message"].endswith(f"missing the following permission: {missing}")
    assert all(answers[call].status_code < 300 for call in set(answers) - refused)
    assert [t["name"] for t in running.registry.all_tools()] == (["seeded"] if refused == writes else ["new"])


def test_an_unknown_scope_is_refused_at_configuration() -> None:
    with pytest.raises(ValueError, match="unknown scope 'ai:tool:admin'"):
        EmulatorConfig(scopes=("ai:tool:admin",))


def test_output_schema_is_stored_as_sent_and_held_to_json_schema(start: Start) -> None:
    running = start()
    answer = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    with httpx.Client(base_url=running.url) as http:
        created = http.post(TOOLS, json={**tool_input("with_output"), "outputSchema": answer})
        assert created.status_code == 201, created.text
        assert http.get(f"{TOOLS}/{created.json()['id']}").json()["outputSchema"] == answer
        refused = [
            http.post(TOOLS, json={**tool_input("bad"), "outputSchema": value}).json()["details"]
            for value in ("an object", {"type": "nothing"}, {"$schema": "http://json-schema.org/draft-04/schema#"})
        ]
    assert refused == [
        [{"errorCode": "outputSchema.invalid", "fieldName": "outputSchema"}],
        [{"errorCode": "outputSchema.invalid", "fieldName": "outputSchema.type"}],
        [{"errorCode": "outputSchema.dialect", "fieldName": "outputSchema.$schema"}],
    ]
