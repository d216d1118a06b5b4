"""A slow or hostile server cannot keep a run silent for minutes: an overall deadline per request, a cap on the
waiting of one call, a line (notice) whenever we wait more than a few seconds; and the token is taken just
before sending, after the pacer's wait."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.api import RetryPolicy, ToolsClient
from reconciler.api.waiting import SlowRequests
from reconciler.errors import NetworkError, RateLimitedError
from tests.api.api_helpers import CLIENT_TARGET, MOCK_TARGET, FakeTime, Script, error_body, reply

TOOLS = "/api/v2/ai/assistant/tools"


def _limited() -> httpx.Response:
    return reply(429, error_body(429, "slow down", "too.many.requests"), retry_after="100000")


def test_retry_after_100000_ends_within_the_total_wait_and_says_so_each_time() -> None:
    fake, notices = FakeTime(), []
    client = ToolsClient(
        MOCK_TARGET,
        transport=Script(*[_limited() for _ in range(20)]).transport,
        retry=fake.retry(notice=notices.append),
        pacer=fake.pacer(max_wait=0.0),  # the pacer's own hold is not what this test measures
        clock=fake.clock,
    )
    with pytest.raises(RateLimitedError):
        client.list_tools()
    waits = [s for s in fake.sleeps if s > 0]
    assert waits == [60.0, 60.0]  # Retry-After is cut to 60 s, and one call waits 120 s in all
    assert notices[:2] == [
        "waiting 60 s before trying GET the tool list again (429, Retry-After 100000 s)",
        "waiting 60 s before trying GET the tool list again (429, Retry-After 100000 s)",
    ]
    assert notices[-1] == "gave up on GET the tool list: the API kept answering 429 (too many requests)"


def test_short_waits_are_not_announced() -> None:
    fake, notices = FakeTime(), []
    script = Script(reply(429, None, retry_after="2"), reply(200, {"entities": [], "next_page_token": None}))
    client = ToolsClient(
        MOCK_TARGET, transport=script.transport, retry=fake.retry(notice=notices.append), pacer=fake.pacer()
    )
    assert client.list_tools() == []
    assert notices == []


def test_the_last_wait_is_cut_to_what_the_total_allows() -> None:
    fake = FakeTime()
    script = Script(*[reply(429, None, retry_after="50") for _ in range(5)])
    client = ToolsClient(
        MOCK_TARGET, transport=script.transport, retry=fake.retry(max_total_wait=120), pacer=fake.pacer(max_wait=0.0)
    )
    with pytest.raises(RateLimitedError):
        client.list_tools()
    assert [s for s in fake.sleeps if s > 0] == [50.0, 50.0, 20.0]
    assert len(script.requests) == 4


def test_the_token_is_taken_after_the_pacers_wait_not_before() -> None:
    fake = FakeTime()
    served: list[str] = []
    issued: dict[str, float] = {}  # token -> when it was issued; each lives 20 s

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            value = f"tok-{len(issued) + 1}"
            issued[value] = fake.now
            served.append(f"token {value}")
            return reply(200, {"access_token": value, "expires_in": 20})
        header = request.headers["authorization"]
        served.append(header)
        if fake.now > issued[header.removeprefix("Bearer ")] + 20:
            return reply(401, error_body(401, "expired", "bad.credentials"))
        return reply(200, {"entities": [], "next_page_token": None})

    class SlowPacer:  # the pacer holds this request for 30 s: longer than the token lives
        def acquire(self) -> None:
            fake.sleep(30)

        def release(self, *args: Any) -> None:
            return None

    client = ToolsClient(
        CLIENT_TARGET,
        transport=httpx.MockTransport(api),
        retry=fake.retry(),
        pacer=SlowPacer(),  # type: ignore[arg-type]
        clock=fake.clock,
    )
    client.list_tools()
    # the token fetched after the 30 s wait is the one sent; no 401 and no second try were needed
    assert served == ["token tok-1", "Bearer tok-1"]
    assert fake.now == 1030


@pytest.fixture
def drip_server() -> Iterator[str]:
    """A loopback server that sends its headers, then one byte of body every 50 ms, forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                listener.settimeout(0.2)
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                )
                try:
                    while not stop.wait(0.05):
                        connection.sendall(b" ")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_a_drip_fed_body_is_cut_off_at_the_deadline(drip_server: str) -> None:
    from reconciler.api import Target

    target = Target(api_url=drip_server, login_url=drip_server, description="drip", credentials=None)
    client = ToolsClient(target, retry=RetryPolicy(deadline=0.5, max_attempts=1), timeout=5)
    started = time.monotonic()
    with pytest.raises(NetworkError, match="the whole answer took longer than"):
        client.list_tools()
    # every read arrived in time (5 s each) and the body would drip for minutes: well under that is the deadline's
    assert time.monotonic() - started < 30


def test_slow_requests_are_announced_then_every_so_often() -> None:
    fake, notices = FakeTime(), []
    slow = SlowRequests(notices.append, clock=fake.clock, after=5, every=10)
    with slow.watch("GET the tool list from api.mypurecloud.de"):
        fake.now += 4
        slow.check()
        assert notices == []
        fake.now += 1
        slow.check()
        fake.now += 5
        slow.check()
        fake.now += 5
        slow.check()
    fake.now += 60
    slow.check()
    assert notices == [
        "still waiting for an answer to GET the tool list from api.mypurecloud.de (5 s)",
        "still waiting for an answer to GET the tool list from api.mypurecloud.de (15 s)",
    ]
