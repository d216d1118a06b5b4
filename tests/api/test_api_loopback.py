"""The client against the emulator over real loopback HTTP (port 0): paging, tokens, faults, lost answers."""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from api_helpers import FakeTime, emulator_target, fast_retry, tool_input

from reconciler.api import Credentials, Pacer, Target, ToolsClient
from reconciler.emulator import RunningEmulator
from reconciler.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    ServerError,
)

Start = Callable[..., RunningEmulator]


def seed(running: RunningEmulator, count: int) -> None:
    for i in range(count):
        running.registry.put_raw(tool_input(f"tool_{i:03d}"))


def client_for(running: RunningEmulator, credentials: Credentials | None = None, **settings: Any) -> ToolsClient:
    settings.setdefault("retry", fast_retry())
    return ToolsClient(emulator_target(running, credentials), **settings)


# -- the contract -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("paging", ["token", "nexturi"])
def test_paging_through_250_tools(start: Start, paging: str) -> None:
    running = start(paging=paging)
    seed(running, 250)
    with client_for(running) as client:
        names = [tool["name"] for tool in client.list_tools()]
        assert names == [f"tool_{i:03d}" for i in range(250)]
        pages = 3 if paging == "token" else 6  # numbered pages are read twice, to see that they did not shift
        assert client.stats.by_kind == {"list": pages}
        assert client.find_by_name("tool_137") == running.registry.find_by_name("tool_137")
        assert client.find_by_name("tool_999") is None
    assert running.stats.by_method == {"GET": pages + 2}


def test_create_read_update_delete(start: Start) -> None:
    running = start()
    with client_for(running) as client:
        created = client.create_tool(tool_input("check_inventory"))
        tool = created.tool
        assert tool is not None
        assert created.status == 201
        assert created.correlation_id
        assert (tool["version"], tool["status"], tool["selfUri"]) == (
            1,
            "active",
            f"/api/v2/ai/assistant/tools/{tool['id']}",
        )
        assert client.get_tool(tool["id"]) == tool

        changed = tool_input("check_inventory", description="Checks stock.")
        updated = client.update_tool(tool["id"], changed, version=1).tool
        assert updated is not None
        assert (updated["version"], updated["description"], updated["dateCreated"]) == (
            2,
            "Checks stock.",
            tool["dateCreated"],
        )

        with pytest.raises(ConflictError) as stale:
            client.update_tool(tool["id"], changed, version=1)
        assert stale.value.reason == "version_changed"
        with pytest.raises(ConflictError) as duplicate:
            client.create_tool(tool_input("check_inventory"))
        assert duplicate.value.reason == "name_exists"

        assert client.delete_tool(tool["id"]).status == 204
        assert client.delete_tool(tool["id"]).status == 404
        with pytest.raises(NotFoundError):
            client.get_tool(tool["id"])
    assert running.registry.all_tools() == []


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"name": "no spaces allowed"}, "name", "name.invalid"),
        ({"description": "x" * 256}, "description", "description.too_long"),
        (
            {"schema": {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(11)}}},
            "schema.properties",
            "schema.too_many_parameters",
        ),
        (
            {"schema": {"type": "object", "properties": {"p": {"type": "null"}}}},
            "schema.properties.p.type",
            "schema.parameter_type",
        ),
        ({"schema": {"type": "object", "properties": 5}}, "schema.properties", "schema.invalid"),
        ({"schema": {"type": "array"}}, "schema.type", "schema.not_object"),
        ({"executionEndpoint": "ftp://x"}, "executionEndpoint", "endpoint.invalid"),
        ({"owner": "me"}, "owner", "field.unknown"),
    ],
)
def test_the_capability_matrix_is_enforced_with_422(
    start: Start, change: dict[str, Any], field: str, code: str
) -> None:
    running = start()
    with client_for(running) as client, pytest.raises(InvalidInputError) as caught:
        client.create_tool({**tool_input("t"), **change})
    assert caught.value.status == 422
    assert (code, field) in [(d.error_code, d.field_name) for d in caught.value.details]
    assert running.registry.all_tools() == []


# -- tokens ----------------------------------------------------------------------------------------------------------


def test_tokens_that_live_one_second_are_refreshed_in_time(start: Start) -> None:
    # One clock for the client and the server, moved by the test: on the wall clock, a machine that took 0.9 s
    # between getting the token and using it (a loaded one) made the client fetch another, or the server refuse it.
    shared = FakeTime()
    running = start(client_id="cid", client_secret="csecret", token_lifetime=1)
    running.tokens.clock = shared.clock
    with client_for(running, Credentials(client_id="cid", client_secret="csecret"), clock=shared.clock) as client:
        client.list_tools()
        shared.now += 1.0
        client.list_tools()
        assert client.stats.by_kind == {"token": 2, "list": 2}
    assert running.tokens.issued == 2
    assert 401 not in running.stats.by_status


def test_a_token_that_expired_anyway_gets_one_refresh_after_the_401(start: Start) -> None:
    server_time = FakeTime()
    running = start(client_id="cid", client_secret="csecret", token_lifetime=1)
    running.tokens.clock = server_time.clock
    frozen = FakeTime()  # the client's clock stands still: it believes its token is fresh
    with client_for(running, Credentials(client_id="cid", client_secret="csecret"), clock=frozen.clock) as client:
        client.list_tools()
        server_time.now += 5
        client.list_tools()
    assert running.stats.by_status[401] == 1
    assert running.tokens.issued == 2


def test_wrong_client_credentials(start: Start) -> None:
    running = start(client_id="cid", client_secret="csecret")
    with client_for(running, Credentials(client_id="cid", client_secret="wrong")) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.list_tools()
        assert "check GENESYS_CLOUD_CLIENT_ID and GENESYS_CLOUD_CLIENT_SECRET" in str(caught.value)
        assert client.stats.by_kind == {"token": 1}


def test_any_bearer_token_is_accepted_without_configured_credentials(start: Start) -> None:
    running = start()
    seed(running, 1)
    with client_for(running, Credentials(access_token="anything-goes")) as client:
        assert len(client.list_tools()) == 1


# -- rate limits and faults ----------------------------------------------------------------------------------------


def test_a_429_carries_retry_after_and_the_client_honours_it(start: Start) -> None:
    running = start(rate_limit=1, rate_window=30)
    url = f"{running.url}/api/v2/ai/assistant/tools"
    assert httpx.get(url).status_code == 200
    limited = httpx.get(url)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "30"
    assert limited.headers["inin-ratelimit-allowed"] == "1"
    assert limited.headers["inin-ratelimit-count"] == "1"
    assert limited.json()["code"] == "too.many.requests"

    fake = FakeTime()
    other = start()
    other.faults.inject("429", times=2)
    with client_for(other, retry=fake.retry(), pacer=fake.pacer()) as client:
        assert client.create_tool(tool_input("t")).status == 201
        assert client.stats.responses_429 == 2
    assert fake.sleeps == [1.0, 1.0]
    assert len(other.registry.all_tools()) == 1


def test_a_burst_of_503s_on_reads_is_ridden_out(start: Start) -> None:
    running = start()
    seed(running, 2)
    running.faults.inject("503", times=3)
    with client_for(running) as client:
        assert len(client.list_tools()) == 2
    assert running.stats.by_status[503] == 3


def test_random_gateway_errors_are_ridden_out_by_reads(start: Start) -> None:
    running = start(fault_5xx=0.3, seed=7)
    seed(running, 1)
    with client_for(running, retry=fast_retry(max_attempts=10)) as client:
        for _ in range(20):
            assert len(client.list_tools()) == 1
    assert sum(count for status, count in running.stats.by_status.items() if status >= 500) > 0


def test_a_503_to_a_create_is_not_retried(start: Start) -> None:
    running = start()
    running.faults.inject("503", methods=("POST",))
    with client_for(running) as client:
        with pytest.raises(ServerError) as caught:
            client.create_tool(tool_input("t"))
        assert caught.value.maybe_committed is True
        assert client.stats.by_kind == {"create": 1}
    assert running.registry.all_tools() == []


def test_a_create_committed_but_unanswered(start: Start) -> None:
    running = start()
    running.faults.inject("drop_after_commit", methods=("POST",))
    with client_for(running) as client:
        with pytest.raises(NetworkError) as caught:
            client.create_tool(tool_input("lost_answer"))
        assert caught.value.maybe_committed is True
        assert f"lost the connection to {running.url.removeprefix('http://')}" in str(caught.value)
        assert client.stats.by_kind == {"create": 1}
        # What the apply engine does next: look the tool up by name instead of sending the create again.
        found = client.find_by_name("lost_answer")
    assert found is not None
    assert [tool["name"] for tool in running.registry.all_tools()] == ["lost_answer"]
    assert running.stats.dropped_connections == 1


def test_an_update_committed_but_unanswered(start: Start) -> None:
    running = start()
    tool = running.registry.put_raw(tool_input("t"))
    running.faults.inject("drop_after_commit", methods=("PUT",))
    with client_for(running) as client, pytest.raises(NetworkError) as caught:
        client.update_tool(tool["id"], tool_input("t", description="New."), version=1)
    assert caught.value.maybe_committed is True
    assert running.registry.get(tool["id"])["version"] == 2  # type: ignore[index]


def test_a_delete_committed_but_unanswered_is_retried_and_already_gone(start: Start) -> None:
    running = start()
    tool = running.registry.put_raw(tool_input("t"))
    running.faults.inject("drop_after_commit", methods=("DELETE",))
    with client_for(running) as client:
        result = client.delete_tool(tool["id"])
        assert result.status == 404
        assert client.stats.by_kind == {"delete": 2}
    assert running.registry.all_tools() == []


def test_a_dropped_read_is_retried(start: Start) -> None:
    running = start()
    tool = running.registry.put_raw(tool_input("t"))
    running.faults.inject("drop", methods=("GET",))
    with client_for(running) as client:
        assert client.get_tool(tool["id"])["name"] == "t"
        assert client.stats.by_kind == {"get": 2}


def test_an_unreachable_api_names_the_host() -> None:
    # The port stays bound, and nothing listens on it: a port closed and freed could be taken meanwhile by another
    # process of a busy machine, and answer.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        fake = FakeTime()
        target = Target(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}", "unused", None)
        with ToolsClient(target, retry=fake.retry(max_attempts=3), pacer=fake.pacer()) as client:
            with pytest.raises(NetworkError) as caught:
                client.list_tools()
            assert client.stats.transport_failures == 3
    assert str(caught.value).startswith(f"cannot reach 127.0.0.1:{port}: ")
    assert "GENESYS_CLOUD_API_URL" in str(caught.value)


# -- pacing ---------------------------------------------------------------------------------------------------


class NoPacing(Pacer):
    def acquire(self) -> None:
        return None


def _burst(client: ToolsClient, count: int, threads: int) -> float:
    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda i: client.create_tool(tool_input(f"burst_{i:03d}")), range(count)))
    assert all(result.status == 201 for result in results)
    return time.monotonic() - started


def test_a_concurrent_burst_runs_at_the_servers_limit_without_bouncing(start: Start) -> None:
    running = start(rate_limit=20)
    with client_for(running, parallelism=8) as client:
        elapsed = _burst(client, 60, threads=8)
    assert running.stats.responses_429 <= 3, running.stats
    assert elapsed >= 1.9  # 60 requests at 20 per second: three windows
    assert len(running.registry.all_tools()) == 60


def test_without_the_pacer_the_same_burst_bounces(start: Start) -> None:
    """The contrast that shows the test above can fail."""
    running = start(rate_limit=20)
    with client_for(running, parallelism=8, pacer=NoPacing(), retry=fast_retry(max_rate_limited=100)) as client:
        _burst(client, 60, threads=8)
    assert running.stats.responses_429 > 10


# -- secrets -------------------------------------------------------------------------------------------------------


SECRET = "s3cret-Client-Secret-0001"
WRONG = "wr0ng-Client-Secret-0002"
STATIC = "static-Access-Token-0003"


def test_debug_logs_and_errors_never_show_a_secret(
    start: Start, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    running = start(client_id="redact-client", client_secret=SECRET)
    shown: list[str] = []
    errors: list[ApiError] = []

    def attempt(call: Callable[[], object]) -> None:
        try:
            call()
        except ApiError as exc:
            errors.append(exc)

    credentials = Credentials(client_id="redact-client", client_secret=SECRET)
    with client_for(running, credentials) as client:
        tool = client.create_tool(tool_input("a")).tool
        assert tool is not None
        client.list_tools()
        client.update_tool(tool["id"], tool_input("a"), version=1)
        attempt(lambda: client.update_tool(tool["id"], tool_input("a"), version=1))
        attempt(lambda: client.get_tool("missing"))
        attempt(lambda: client.create_tool(tool_input("b", description="")))
        running.faults.inject("429")
        client.list_tools()
        running.faults.inject("drop_after_commit", methods=("POST",))
        attempt(lambda: client.create_tool(tool_input("c")))
        shown += [repr(client), repr(client.target), str(client.target), repr(client.stats)]
    for bad in (Credentials(client_id="redact-client", client_secret=WRONG), Credentials(access_token=STATIC)):
        with client_for(running, bad) as client:
            attempt(client.list_tools)
            shown += [repr(client.target)]

    assert len(errors) == 6
    shown += [str(e) for e in errors] + [repr(e) for e in errors] + [str(e.__cause__) for e in errors]
    captured = capsys.readouterr()
    everything = "\n".join([caplog.text, captured.out, captured.err, *shown])
    basic = [base64.b64encode(f"redact-client:{s}".encode()).decode() for s in (SECRET, WRONG)]
    for secret in [SECRET, WRONG, STATIC, *basic, *running.tokens.issued_tokens()]:
        assert secret not in everything
    # …while the exchanges themselves were logged, under reconciler.api.
    assert "POST http://127.0.0.1" in caplog.text
    assert "[redacted]" in caplog.text
    assert "retry: GET the tool list got 429" in caplog.text
    assert "not retried: it was sent and may have been applied" in caplog.text
    assert {"reconciler.api.http", "reconciler.api.retry", "reconciler.api.auth"} <= {r.name for r in caplog.records}


def test_threads_share_one_token(start: Start) -> None:
    running = start(client_id="cid", client_secret="csecret")
    seed(running, 1)
    with client_for(running, Credentials(client_id="cid", client_secret="csecret"), parallelism=8) as client:
        barrier = threading.Barrier(8)

        def call(_: int) -> int:
            barrier.wait()
            return len(client.list_tools())

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(call, range(8))) == [1] * 8
    assert running.tokens.issued == 1


class _AfterFirstPage(httpx.BaseTransport):
    """Loopback HTTP that runs `meanwhile` once, after the first page of the tool list has been answered: another
    writer changing the registry while a plan pages through it."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        self._http = httpx.HTTPTransport()
        self._meanwhile: Callable[[], None] | None = meanwhile

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._http.handle_request(request)
        if self._meanwhile is not None and request.method == "GET" and "pageNumber" not in str(request.url):
            response.read()
            self._meanwhile, meanwhile = None, self._meanwhile
            meanwhile()
        return response

    def close(self) -> None:
        self._http.close()


@pytest.mark.parametrize("edit", ["deleted", "created"])
def test_a_numbered_listing_that_shifts_between_pages_is_read_again_whole(start: Start, edit: str) -> None:
    """Genesys-style pages are numbered: a tool deleted from page 1 while page 2 is fetched moves the first
    tool of page 2 onto page 1, unseen (a plan then creates a tool that exists), and a tool created there
    shows the last one of page 1 twice. The pages' `total` tells, and the list is read again."""
    running = start(paging="nexturi")
    seed(running, 250)

    def meanwhile() -> None:
        if edit == "deleted":
            running.registry.delete(str(running.registry.find_by_name("tool_000")["id"]))  # type: ignore[index]
        else:
            running.registry.put_raw(tool_input("tool_000a"))

    with client_for(running, transport=_AfterFirstPage(meanwhile)) as client:
        names = [tool["name"] for tool in client.list_tools()]
    assert names == [tool["name"] for tool in running.registry.all_tools()]


def test_a_create_and_a_delete_between_pages_do_not_hide_a_tool(start: Start) -> None:
    """A tool deleted from page 1 and another created on page 2 while page 2 is fetched leave `total` as it was
    and still shift page 2: its first tool slid onto page 1, unseen (found for Data Actions by a hypothesis law
    over concurrent edits). A list of several numbered pages counts only when a second read agrees."""
    running = start(paging="nexturi")
    seed(running, 250)

    def meanwhile() -> None:
        running.registry.delete(str(running.registry.find_by_name("tool_000")["id"]))  # type: ignore[index]
        running.registry.put_raw(tool_input("tool_150a"))

    with client_for(running, transport=_AfterFirstPage(meanwhile)) as client:
        names = [tool["name"] for tool in client.list_tools()]
    assert names == [tool["name"] for tool in running.registry.all_tools()]
