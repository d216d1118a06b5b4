"""Client edge cases against scripted answers (httpx.MockTransport): paging, retries, auth, error mapping."""

from __future__ import annotations

import base64
import email.utils
import time
from typing import Any

import httpx
import pytest
from api_helpers import CLIENT_TARGET, MOCK_TARGET, FakeTime, Script, error_body, reply, tool_input

from reconciler.api import ApiResult, Target, ToolsClient
from reconciler.api.translate import retry_after
from reconciler.errors import (
    ApiErrorDetail,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)

TOOLS = "https://api.mypurecloud.de/api/v2/ai/assistant/tools"


def make(script: Script, fake: FakeTime, target: Target = MOCK_TARGET, **retry: Any) -> ToolsClient:
    return ToolsClient(
        target, transport=script.transport, retry=fake.retry(**retry), pacer=fake.pacer(), clock=fake.clock
    )


def page(names: list[str], token: str | None = None, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"entities": [{"id": f"id-{n}", "name": n} for n in names], **extra}
    if token is not None or not extra:
        body["next_page_token"] = token
    return reply(200, body)


def token(value: str = "tok-1", expires_in: int = 3600) -> httpx.Response:
    return reply(200, {"access_token": value, "token_type": "bearer", "expires_in": expires_in})


# -- paging ---------------------------------------------------------------------------------------------------


def test_list_follows_next_page_token_with_page_size_100() -> None:
    script = Script(page(["a", "b"], "t1"), page(["c"], "t2"), page(["d"], None))
    tools = make(script, FakeTime()).list_tools()
    assert [t["name"] for t in tools] == ["a", "b", "c", "d"]
    params = [dict(r.url.params) for r in script.requests]
    assert params == [
        {"page_size": "100"},
        {"page_size": "100", "next_page_token": "t1"},
        {"page_size": "100", "next_page_token": "t2"},
    ]


def test_list_follows_genesys_style_next_uri() -> None:
    """Numbered pages are read twice (a create and a delete between two pages shift one without changing
    `total`): the list counts when both reads agree."""
    first = {"entities": [{"name": "a"}], "pageNumber": 1, "nextUri": "/api/v2/ai/assistant/tools?pageNumber=2"}
    second = {"entities": [{"name": "b"}], "pageNumber": 2}
    script = Script(reply(200, first), reply(200, second), reply(200, first), reply(200, second))
    assert [t["name"] for t in make(script, FakeTime()).list_tools()] == ["a", "b"]
    assert str(script.requests[1].url) == f"{TOOLS}?pageNumber=2"
    assert len(script.requests) == 4


@pytest.mark.parametrize(
    "second",
    [
        page(["b"], "same"),
        reply(200, {"entities": [], "nextUri": "/api/v2/ai/assistant/tools?pageNumber=2"}),
    ],
    ids=["token", "nextUri"],
)
def test_a_repeated_page_is_an_error_not_an_endless_loop(second: httpx.Response) -> None:
    first = (
        page(["a"], "same")
        if "next_page_token" in second.json()
        else reply(200, {"entities": [], "nextUri": "/api/v2/ai/assistant/tools?pageNumber=2"})
    )
    script = Script(first, second, page(["never"], None))
    with pytest.raises(ServerError, match="same page twice"):
        make(script, FakeTime()).list_tools()
    assert len(script.requests) == 2


def test_a_list_that_keeps_shifting_while_it_is_read_is_an_error_after_three_reads() -> None:
    def numbered(number: int, total: int) -> httpx.Response:
        more = {"nextUri": f"/api/v2/ai/assistant/tools?pageNumber={number + 1}"} if number == 1 else {}
        return reply(200, {"entities": [{"id": f"id-{number}", "name": f"t{number}"}], "total": total, **more})

    script = Script(*(response for total in (2, 3, 4) for response in (numbered(1, total), numbered(2, total + 1))))
    with pytest.raises(ServerError, match="changed while it was read, 3 times in a row"):
        make(script, FakeTime()).list_tools()
    assert len(script.requests) == 6


def test_a_next_uri_on_another_host_is_not_followed() -> None:
    script = Script(reply(200, {"entities": [], "nextUri": "https://evil.example/steal?pageNumber=2"}))
    with pytest.raises(ServerError, match=r"another host \(evil\.example\)"):
        make(script, FakeTime()).list_tools()
    assert len(script.requests) == 1


def test_find_by_name_asks_the_server_and_wants_an_exact_match() -> None:
    script = Script(page(["check_inventory_v2", "check_inventory"], None), page([], None))
    client = make(script, FakeTime())
    assert client.find_by_name("check_inventory") == {"id": "id-check_inventory", "name": "check_inventory"}
    assert client.find_by_name("missing") is None
    assert dict(script.requests[0].url.params) == {"page_size": "100", "name": "check_inventory"}


# -- writes ---------------------------------------------------------------------------------------------------


def test_update_sends_the_payload_and_the_version_read() -> None:
    script = Script(reply(200, {"id": "x", "version": 4}))
    result = make(script, FakeTime()).update_tool("x", tool_input("t"), 3)
    assert result == ApiResult({"id": "x", "version": 4}, 200, "cid-200")
    assert script.requests[0].method == "PUT"
    assert str(script.requests[0].url) == f"{TOOLS}/x"
    assert script.bodies() == [{**tool_input("t"), "version": 3}]


def test_create_returns_the_tool_status_and_correlation_id() -> None:
    script = Script(reply(201, {"id": "new", "version": 1}))
    assert make(script, FakeTime()).create_tool(tool_input("t")) == ApiResult(
        {"id": "new", "version": 1}, 201, "cid-201"
    )


def test_delete_answered_404_means_already_gone() -> None:
    script = Script(reply(404, error_body(404, "no", "not.found")))
    assert make(script, FakeTime()).delete_tool("x") == ApiResult(None, 404, "cid-404")


def test_get_answered_404_raises_not_found_with_the_correlation_id() -> None:
    script = Script(reply(404, error_body(404, "no", "not.found")))
    with pytest.raises(NotFoundError) as caught:
        make(script, FakeTime()).get_tool("x")
    assert caught.value.correlation_id == "cid-404"
    assert "correlation id cid-404" in str(caught.value)
    assert "run plan again" in str(caught.value)


# -- error mapping ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "scope"),
    [("list", "ai:tool:read"), ("create", "ai:tool:write"), ("delete", "ai:tool:write"), ("get", "ai:tool:read")],
)
def test_403_names_the_missing_scope(call: str, scope: str) -> None:
    script = Script(reply(403, error_body(403, "missing permission", "missing.permissions")))
    client = make(script, FakeTime())
    calls = {
        "list": client.list_tools,
        "create": lambda: client.create_tool(tool_input("t")),
        "delete": lambda: client.delete_tool("x"),
        "get": lambda: client.get_tool("x"),
    }
    with pytest.raises(PermissionDeniedError, match=f"`{scope}`"):
        calls[call]()
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("code", "message", "kind", "reason"),
    [
        ("tool.name.exists", "a tool named 'version_tool' already exists", "create", "name_exists"),
        ("tool.version.conflict", "version changed", "update", "version_changed"),
        ("conflict", "Duplicate name", "create", "name_exists"),
        ("conflict", "The version does not match", "create", "version_changed"),
        ("", "", "create", "name_exists"),
        ("", "", "update", "version_changed"),
    ],
)
def test_409_tells_name_exists_from_version_changed(code: str, message: str, kind: str, reason: str) -> None:
    script = Script(reply(409, error_body(409, message, code)))
    client = make(script, FakeTime())
    with pytest.raises(ConflictError) as caught:
        if kind == "create":
            client.create_tool(tool_input("t"))
        else:
            client.update_tool("x", tool_input("t"), 1)
    assert caught.value.reason == reason
    assert len(script.requests) == 1


@pytest.mark.parametrize("status", [400, 422])
def test_invalid_input_carries_the_servers_field_details(status: int) -> None:
    details = [
        {"errorCode": "schema.too_many_parameters", "fieldName": "schema.properties"},
        {"errorCode": "description.too_long", "fieldName": "description"},
    ]
    script = Script(reply(status, error_body(status, "too many parameters", "invalid.tool", details)))
    with pytest.raises(InvalidInputError) as caught:
        make(script, FakeTime()).create_tool(tool_input("t"))
    error = caught.value
    assert error.details == [
        ApiErrorDetail("schema.too_many_parameters", "schema.properties"),
        ApiErrorDetail("description.too_long", "description"),
    ]
    assert "schema.properties: schema.too_many_parameters" in str(error)
    assert "tool 't'" in str(error)
    assert len(script.requests) == 1


# -- retries ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("soon", None), (None, None)],
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    headers = {"retry-after": value} if value is not None else {}
    assert retry_after(httpx.Response(429, headers=headers)) == expected


def test_retry_after_as_an_http_date() -> None:
    now = time.time()
    date = email.utils.formatdate(now + 10, usegmt=True)
    assert retry_after(httpx.Response(429, headers={"retry-after": date}), now=now) == pytest.approx(10, abs=1)


def test_429_waits_for_retry_after_then_succeeds() -> None:
    fake = FakeTime()
    script = Script(reply(429, error_body(429, "slow down", "too.many.requests"), retry_after="7"), page(["a"]))
    client = make(script, fake)
    assert [t["name"] for t in client.list_tools()] == ["a"]
    assert fake.sleeps == [7.0]
    assert client.stats.responses_429 == 1


def test_retry_after_is_capped() -> None:
    fake = FakeTime()
    script = Script(reply(429, None, retry_after="600"), page(["a"]))
    make(script, fake, max_retry_after=30).list_tools()
    assert fake.sleeps == [30.0]


def test_a_429_on_a_create_is_retried_because_it_was_not_processed() -> None:
    script = Script(reply(429, None, retry_after="1"), reply(201, {"id": "new"}))
    assert make(script, FakeTime()).create_tool(tool_input("t")).status == 201
    assert len(script.requests) == 2


def test_429_until_the_rate_limited_budget_runs_out() -> None:
    fake = FakeTime()
    script = Script(*(reply(429, None, retry_after="2") for _ in range(4)))
    with pytest.raises(RateLimitedError) as caught:
        make(script, fake, max_attempts=5, max_rate_limited=3).list_tools()
    assert caught.value.retry_after == 2.0
    assert caught.value.status == 429
    assert "--parallelism" in str(caught.value)
    assert len(script.requests) == 4  # three waited out, the fourth fails the call
    assert fake.sleeps == [2.0, 2.0, 2.0]


def test_429s_do_not_use_up_the_attempts_that_failures_get() -> None:
    """Two budgets: 429s (the server asking to slow down) and failures (5xx, network) are counted apart."""
    limited = reply(429, None, retry_after="1")
    ridden_out = Script(reply(503), limited, limited, limited, reply(503), page(["a"]))
    assert len(make(ridden_out, FakeTime(), max_attempts=3, max_rate_limited=4).list_tools()) == 1
    assert len(ridden_out.requests) == 6
    failing = Script(reply(503), limited, reply(503), limited, reply(503))
    with pytest.raises(ServerError):
        make(failing, FakeTime(), max_attempts=3, max_rate_limited=4).list_tools()
    assert len(failing.requests) == 5


@pytest.mark.parametrize(("status", "refusals_ridden_out"), [(429, 10), (503, 4)])
def test_the_default_budgets_are_the_ones_the_readme_gives(status: int, refusals_ridden_out: int) -> None:
    """docs/apply.md: a call is tried at most 5 times, and 429s are waited out up to 10 times apart from those."""
    refusal = reply(status, None, retry_after="1") if status == 429 else reply(status)
    ridden_out = Script(*([refusal] * refusals_ridden_out), page(["a"]))
    assert len(make(ridden_out, FakeTime()).list_tools()) == 1
    exhausted = Script(*([refusal] * (refusals_ridden_out + 1)), page(["a"]))
    with pytest.raises(RateLimitedError if status == 429 else ServerError):
        make(exhausted, FakeTime()).list_tools()
    assert len(exhausted.requests) == refusals_ridden_out + 1


def test_a_failure_after_429s_backs_off_from_the_start() -> None:
    fake = FakeTime()
    limited = reply(429, None, retry_after="1")
    script = Script(limited, limited, limited, limited, limited, limited, reply(503), reply(503), page(["a"]))
    assert len(make(script, fake, jitter=0).list_tools()) == 1
    assert fake.sleeps == [1.0] * 6 + [0.5, 1.0]  # the 503s' backoff counts 503s, not the 429s before them


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_on_reads_are_retried_with_backoff(status: int) -> None:
    fake = FakeTime()
    script = Script(reply(status), reply(status), page(["a"]))
    assert len(make(script, fake, jitter=0).list_tools()) == 1
    assert fake.sleeps == [0.5, 1.0]


def test_500_is_not_retried() -> None:
    script = Script(reply(500))
    with pytest.raises(ServerError):
        make(script, FakeTime()).list_tools()
    assert len(script.requests) == 1


@pytest.mark.parametrize("method", ["create", "update"])
def test_a_5xx_to_a_write_is_not_retried_and_may_be_committed(method: str) -> None:
    script = Script(reply(503), reply(201, {"id": "duplicate"}))
    client = make(script, FakeTime())
    with pytest.raises(ServerError) as caught:
        if method == "create":
            client.create_tool(tool_input("t"))
        else:
            client.update_tool("x", tool_input("t"), 1)
    assert caught.value.maybe_committed is True
    assert "may have been applied" in str(caught.value)
    assert len(script.requests) == 1


def test_a_5xx_to_a_delete_is_retried() -> None:
    script = Script(reply(503), reply(204))
    assert make(script, FakeTime()).delete_tool("x").status == 204
    assert len(script.requests) == 2


@pytest.mark.parametrize("method", ["create", "update", "delete", "get"])
def test_a_request_that_never_left_is_retried_for_every_method(method: str) -> None:
    script = Script(httpx.ConnectError("connection refused"), reply(200 if method != "create" else 201, {"id": "x"}))
    client = make(script, FakeTime())
    {
        "create": lambda: client.create_tool(tool_input("t")),
        "update": lambda: client.update_tool("x", tool_input("t"), 1),
        "delete": lambda: client.delete_tool("x"),
        "get": lambda: client.get_tool("x"),
    }[method]()
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadError("connection reset"), httpx.RemoteProtocolError("Server disconnected"), httpx.ReadTimeout("t")],
)
def test_a_create_whose_answer_was_lost_is_not_sent_again(failure: Exception) -> None:
    script = Script(failure, reply(201, {"id": "duplicate"}))
    with pytest.raises(NetworkError) as caught:
        make(script, FakeTime()).create_tool(tool_input("t"))
    assert caught.value.maybe_committed is True
    assert "api.mypurecloud.de" in str(caught.value)
    assert len(script.requests) == 1


@pytest.mark.parametrize("method", ["get", "delete"])
def test_a_read_or_delete_whose_answer_was_lost_is_sent_again(method: str) -> None:
    script = Script(httpx.RemoteProtocolError("Server disconnected"), reply(404, error_body(404, "gone", "not.found")))
    client = make(script, FakeTime())
    if method == "delete":
        assert client.delete_tool("x").status == 404
    else:
        with pytest.raises(NotFoundError):
            client.get_tool("x")
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidInputError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, InvalidInputError),
    ],
)
def test_final_statuses_are_never_retried(status: int, error: type[Exception]) -> None:
    script = Script(reply(status, error_body(status, "no", "x")), reply(201, {"id": "x"}))
    with pytest.raises(error):
        make(script, FakeTime()).create_tool(tool_input("t"))
    assert len(script.requests) == 1


def test_an_unreachable_region_names_its_host() -> None:
    fake = FakeTime()
    script = Script(*(httpx.ConnectError("[Errno -3] Temporary failure in name resolution") for _ in range(5)))
    with pytest.raises(NetworkError) as caught:
        make(script, fake).list_tools()
    message = str(caught.value)
    assert message.startswith("cannot reach api.mypurecloud.de: ")
    assert "GENESYS_CLOUD_REGION (eu-central-1)" in message
    assert len(script.requests) == 5
    assert len(fake.sleeps) == 4


# -- authentication -----------------------------------------------------------------------------------------------


def test_client_credentials_request_a_token_as_the_platform_wants() -> None:
    script = Script(token("tok-1"), page(["a"]))
    make(script, FakeTime(), target=CLIENT_TARGET).list_tools()
    token_request, api_request = script.requests
    assert str(token_request.url) == "https://login.mypurecloud.de/oauth/token"
    expected = base64.b64encode(b"client-id-1:client-secret-value").decode()
    assert token_request.headers["authorization"] == f"Basic {expected}"
    assert token_request.content == b"grant_type=client_credentials"
    assert api_request.headers["authorization"] == "Bearer tok-1"


def test_the_token_is_cached_and_refreshed_before_it_expires() -> None:
    fake = FakeTime()
    script = Script(token("tok-1", 100), page([]), page([]), token("tok-2", 100), page([]))
    client = make(script, fake, target=CLIENT_TARGET)
    client.list_tools()
    fake.now += 85
    client.list_tools()
    fake.now += 6  # 91 s after the first token: inside the refresh margin (a tenth of 100 s)
    client.list_tools()
    kinds = [r.url.path for r in script.requests]
    assert kinds == ["/oauth/token", *["/api/v2/ai/assistant/tools"] * 2, "/oauth/token", "/api/v2/ai/assistant/tools"]
    assert script.requests[-1].headers["authorization"] == "Bearer tok-2"


def test_a_401_gets_one_fresh_token() -> None:
    script = Script(token("tok-1"), reply(401, error_body(401, "expired", "bad.credentials")), token("tok-2"), page([]))
    assert make(script, FakeTime(), target=CLIENT_TARGET).list_tools() == []
    assert script.requests[3].headers["authorization"] == "Bearer tok-2"


def test_a_second_401_is_an_authentication_error_that_says_what_to_check() -> None:
    unauthorized = reply(401, error_body(401, "invalid token", "bad.credentials"))
    script = Script(token("tok-1"), unauthorized, token("tok-2"), unauthorized, page([]))
    with pytest.raises(AuthenticationError) as caught:
        make(script, FakeTime(), target=CLIENT_TARGET).list_tools()
    message = str(caught.value)
    assert "GENESYS_CLOUD_CLIENT_ID" in message
    assert "GENESYS_CLOUD_CLIENT_SECRET" in message
    assert "GENESYS_CLOUD_REGION (eu-central-1)" in message
    assert len(script.requests) == 4


def test_a_refused_access_token_is_not_refreshed() -> None:
    script = Script(reply(401, error_body(401, "expired", "bad.credentials")), page([]))
    with pytest.raises(AuthenticationError, match="GENESYS_CLOUD_ACCESS_TOKEN"):
        make(script, FakeTime()).list_tools()
    assert len(script.requests) == 1


@pytest.mark.parametrize("status", [400, 401])
def test_a_refused_client_is_an_authentication_error_without_the_secret(status: int) -> None:
    body = {"error": "invalid_client", "error_description": "bad secret client-secret-value"}
    script = Script(reply(status, body), page([]))
    with pytest.raises(AuthenticationError) as caught:
        make(script, FakeTime(), target=CLIENT_TARGET).list_tools()
    message = str(caught.value)
    assert "login.mypurecloud.de refused the credentials" in message
    assert "GENESYS_CLOUD_CLIENT_ID" in message
    assert "client-secret-value" not in message
    assert "client-secret-value" not in repr(caught.value.args)
    assert len(script.requests) == 1


@pytest.mark.timeout(10)
def test_an_unexpected_failure_does_not_leave_the_pacer_waiting() -> None:
    """The first request goes alone until an answer arrives; a crash must still free its slot."""
    script = Script(RuntimeError("bug in a transport"), page(["a"]))
    client = ToolsClient(MOCK_TARGET, transport=script.transport)
    with pytest.raises(RuntimeError):
        client.list_tools()
    assert [t["name"] for t in client.list_tools()] == ["a"]
