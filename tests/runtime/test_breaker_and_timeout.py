"""Timeouts, retries' backoff and circuit breakers, on a clock the test moves (nothing here sleeps)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from reconciler.model import SourceLocation, Tool
from reconciler.runtime import BreakerPolicy, Breakers, Invocation, Outcome, Runtime
from tests.runtime.conftest import FakeClock, Upstream

# every test here runs with each upstream client the runtime can use (conftest.each_client)
pytestmark = pytest.mark.usefixtures("each_client")

SCHEMA = {"type": "object", "properties": {}}


def tool(name: str, endpoint: str, timeout: float | None = None, method: str | None = None) -> Tool:
    request = {"method": method, "url": endpoint, "parameters": {}} if method else None
    return Tool(name, "d", endpoint, SCHEMA, SourceLocation("t.yaml"), timeout=timeout, request=request)


def test_a_handler_that_never_finishes_times_out_at_the_tools_timeout(clock: FakeClock) -> None:
    async def forever(arguments: dict[str, Any]) -> Any:
        await asyncio.Event().wait()

    async def go() -> None:
        runtime = Runtime([tool("slow", "http://127.0.0.1:9", timeout=2.5)], handlers={"slow": forever}, clock=clock)
        call = asyncio.ensure_future(runtime.invoke(Invocation("slow")))
        await clock.until_waiting()
        assert clock.waiting == [2.5]
        clock.advance(2.4)
        await asyncio.sleep(0)
        assert not call.done()
        clock.advance(0.1)
        outcome = await call
        assert (outcome.error_code, outcome.message) == ("TOOL_EXECUTION_TIMEOUT", "slow did not finish within 2.5 s")
        assert outcome.latency_ms == 2500.0

    asyncio.run(go())


def test_the_timeout_covers_retries_and_a_hung_upstream_counts_as_a_failure(
    clock: FakeClock, upstream: Upstream
) -> None:
    upstream.answers = [(503, {})] * 10

    async def go() -> None:
        tools = [tool("get", upstream.url + "/x", method="GET")]
        async with Runtime(tools, clock=clock, breaker=BreakerPolicy(threshold=3)) as runtime:
            await run(runtime)

    async def run(runtime: Runtime) -> None:  # the tool has the default timeout, 5 s
        call = asyncio.ensure_future(runtime.invoke(Invocation("get")))
        await clock.until_waiting(2)  # the timeout, and the backoff after the first 503
        assert len(upstream.received) == 1
        assert clock.waiting == pytest.approx([0.05, 5.0])
        clock.advance(0.05)
        await clock.until_waiting(2)
        assert len(upstream.received) == 2
        assert clock.waiting == pytest.approx([0.1, 4.95])  # backoff doubles; the timeout keeps counting
        upstream.hang = threading.Event()
        clock.advance(0.1)
        while len(upstream.received) < 3:
            await asyncio.sleep(0.001)
        clock.advance(4.85)  # the third attempt hangs: the timeout ends it
        outcome = await call
        upstream.hang.set()
        assert outcome.error_code == "TOOL_EXECUTION_TIMEOUT"
        assert outcome.upstream_status == 503
        # two 503s and the hung attempt: three failures in a row open the breaker
        assert (await runtime.invoke(Invocation("get"))).error_code == "CIRCUIT_OPEN"
        assert len(upstream.received) == 3

    asyncio.run(go())


def test_a_breaker_opens_after_consecutive_failures_and_half_opens_later(clock: FakeClock) -> None:
    breakers = Breakers(clock, BreakerPolicy(threshold=3, first_wait=1.0, max_wait=4.0))
    for _ in range(2):
        breakers.failed("h:1")
    breakers.succeeded("h:1")  # a success resets the count
    for _ in range(3):
        assert breakers.allow("h:1")
        breakers.failed("h:1")
    assert not breakers.allow("h:1")
    assert breakers.allow("other:1")
    clock.advance(0.99)
    assert not breakers.allow("h:1")
    clock.advance(0.01)
    assert breakers.allow("h:1")  # the probe
    assert not breakers.allow("h:1")  # only one
    breakers.failed("h:1")
    waits = []
    for _ in range(3):  # each failed probe doubles the wait, up to max_wait
        waits.append(breakers.retry_after("h:1"))
        clock.advance(waits[-1])
        assert breakers.allow("h:1")
        breakers.failed("h:1")
    assert waits == [2.0, 4.0, 4.0]
    clock.advance(4.0)
    assert breakers.allow("h:1")
    breakers.succeeded("h:1")
    assert breakers.allow("h:1") and breakers.allow("h:1")


def test_an_open_breaker_answers_circuit_open_without_calling_the_upstream(
    clock: FakeClock, upstream: Upstream
) -> None:
    upstream.answers = [(500, {})] * 5
    other = Upstream(upstream.url.replace("127.0.0.1", "localhost"))

    async def go() -> None:
        tools = [tool("post", upstream.url + "/p", method="POST"), tool("elsewhere", other.url + "/p", method="POST")]
        async with Runtime(tools, clock=clock) as runtime:
            codes = [(await runtime.invoke(Invocation("post"))).error_code for _ in range(6)]
            assert codes == ["UPSTREAM_ERROR"] * 5 + ["CIRCUIT_OPEN"]
            assert len(upstream.received) == 5
            refused = await runtime.invoke(Invocation("post"))
            assert (
                refused.message == f"calls to {upstream.url.removeprefix('http://')} are paused after repeated "
                "failures; retry in 1.0 s"
            )
            assert (await runtime.invoke(Invocation("elsewhere"))).status == "success"  # another host:port
            clock.advance(1.0)
            assert (await runtime.invoke(Invocation("post"))).status == "success"  # the probe; closed again
            assert (await runtime.invoke(Invocation("post"))).status == "success"
            assert len(upstream.received) == 8

    asyncio.run(go())


def test_a_handler_is_retried_only_when_it_says_it_is_idempotent(clock: FakeClock) -> None:
    calls: list[str] = []

    def flaky(arguments: dict[str, Any]) -> Any:
        calls.append("call")
        if len(calls) % 3:
            raise ConnectionError("database unavailable")
        return {"ok": True}

    def once(arguments: dict[str, Any]) -> Any:
        return flaky(arguments)

    flaky.idempotent = True  # type: ignore[attr-defined]

    async def go() -> None:
        tools = [tool("safe", "http://127.0.0.1:9"), tool("unsafe", "http://127.0.0.1:9")]
        runtime = Runtime(tools, handlers={"safe": flaky, "unsafe": once}, clock=clock)
        call = asyncio.ensure_future(runtime.invoke(Invocation("safe")))
        await clock.until_waiting(2)
        assert clock.waiting == pytest.approx([0.05, 5.0])  # the backoff, and the timeout
        clock.advance(0.05)
        await clock.until_waiting(2)
        clock.advance(0.1)
        outcome = await call
        assert (outcome.status, outcome.output, len(calls)) == ("success", {"ok": True}, 3)
        calls.clear()
        outcome = await runtime.invoke(Invocation("unsafe"))
        assert (outcome.error_code, outcome.message, len(calls)) == (
            "EXECUTION_FAILURE",
            "unsafe failed (ConnectionError)",
            1,
        )

    asyncio.run(go())


def test_a_probe_that_ends_in_neither_success_nor_failure_leaves_the_next_call_free_to_probe(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An edge case no loopback server produces: the pool raises something that is not an upstream failure (a bug,
    # or a request no pool can send) while its call is the half-open breaker's one probe. The breaker must not
    # stay half-open with its probe "out" forever, answering CIRCUIT_OPEN to every later call until a restart.
    from reconciler.runtime import core
    from reconciler.runtime.upstream import Answer, Unreachable

    script: list[Exception | None] = [Unreachable("ConnectError"), RuntimeError("bug"), None]

    class Scripted:
        async def send(self, *request: Any) -> Answer:
            step = script.pop(0)
            if step is not None:
                raise step
            return Answer(200, b'{"ok": true}', None)

        async def aclose(self) -> None:
            pass

    monkeypatch.setattr(core, "open_pool", lambda client=None: Scripted())

    async def go() -> None:
        tools = [tool("post", "http://upstream.test/p", method="POST")]
        runtime = Runtime(tools, clock=clock, breaker=BreakerPolicy(threshold=1))
        assert (await runtime.invoke(Invocation("post"))).error_code == "UPSTREAM_ERROR"  # opens the breaker
        assert (await runtime.invoke(Invocation("post"))).error_code == "CIRCUIT_OPEN"
        clock.advance(1.0)
        assert (await runtime.invoke(Invocation("post"))).error_code == "EXECUTION_FAILURE"  # the probe
        assert (await runtime.invoke(Invocation("post"))).status == "success"  # the next probe, not CIRCUIT_OPEN
        assert script == []

    asyncio.run(go())


def test_explaining_a_huge_refused_call_costs_about_what_checking_a_valid_one_does() -> None:
    # A refused call is explained by jsonschema (Python), and only five problems are shown: explaining all of
    # them took seconds for a 1 MiB payload of 200,000 wrong items, during which the service's event loop (every
    # other call) waited. Measured against a valid call of the same size in the same run, not against a clock.
    schema = {"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "integer"}}}}
    checked = Tool("t", "d", "http://127.0.0.1:9/x", schema, SourceLocation("t.yaml"))

    async def go(values: list[Any]) -> tuple[Outcome, float]:
        runtime = Runtime([checked], handlers={"t": lambda arguments: None})
        # the CPU time of this thread, which runs the check: other processes' load counted in wall time
        start = time.thread_time()
        outcome = await runtime.invoke(Invocation("t", {"xs": values}))
        return outcome, time.thread_time() - start

    valid, valid_seconds = min((asyncio.run(go([1] * 200_000)) for _ in range(3)), key=lambda run: run[1])
    refused, refused_seconds = asyncio.run(go(["a"] * 200_000))
    assert valid.status == "success"
    assert refused.message == (
        "invalid arguments for t: argument 'xs/0': must be of type integer; argument 'xs/1': must be of type "
        "integer; argument 'xs/2': must be of type integer; argument 'xs/3': must be of type integer; argument "
        "'xs/4': must be of type integer"
    )
    assert refused_seconds < 10 * valid_seconds + 0.5, (refused_seconds, valid_seconds)  # 4-10 s before


def test_explaining_a_refused_call_with_a_long_unique_array_is_linear() -> None:
    # jsonschema compares the items of a `uniqueItems` array pairwise when they are objects: explaining a 100 KB
    # refusal (8,000 objects, and one wrong argument elsewhere) held the event loop for over a minute.
    schema = {
        "type": "object",
        "properties": {"xs": {"type": "array", "uniqueItems": True}, "n": {"type": "integer"}},
    }
    checked = Tool("t", "d", "http://127.0.0.1:9/x", schema, SourceLocation("t.yaml"))

    async def go(arguments: dict[str, Any]) -> tuple[Outcome, float]:
        runtime = Runtime([checked], handlers={"t": lambda arguments: None})
        start = time.thread_time()  # CPU, not wall time: see the test above
        outcome = await runtime.invoke(Invocation("t", arguments))
        return outcome, time.thread_time() - start

    items = [{"a": i, "b": [i, str(i)]} for i in range(8000)]
    valid, valid_seconds = min((asyncio.run(go({"xs": items, "n": 1})) for _ in range(3)), key=lambda run: run[1])
    refused, refused_seconds = asyncio.run(go({"xs": items, "n": "x"}))
    assert valid.status == "success"
    assert refused.message == "invalid arguments for t: argument 'n': must be of type integer"
    assert refused_seconds < 10 * valid_seconds + 0.5, (refused_seconds, valid_seconds)  # ~60 s before
    # what JSON Schema calls equal: 1 and 1.0, objects whatever their keys' order; not 1 and true
    for duplicated in ([1, 1.0], [{"a": 1, "b": 2}, {"b": 2, "a": 1}], [[1, {"c": 0.0}], [1.0, {"c": 0}]]):
        outcome = asyncio.run(go({"xs": duplicated, "n": 1}))[0]
        assert outcome.message == (
            "invalid arguments for t: argument 'xs': does not meet the schema's 'uniqueItems' rule"
        )
    assert asyncio.run(go({"xs": [1, True, "1", [1], {"1": 1}], "n": 1}))[0].status == "success"


def test_sync_handlers_queue_for_their_threads_in_each_event_loop_a_runtime_is_used_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A Runtime reused by a second asyncio.run (a library user, a test) must not wait on the first loop's queue.
    from reconciler.runtime import threads

    monkeypatch.setattr(threads, "MAX_THREADS", 1)
    release, started = threading.Event(), threading.Event()

    def held(arguments: dict[str, Any]) -> Any:
        started.set()
        release.wait(10)
        return {"ok": True}

    runtime = Runtime([tool("held", "http://127.0.0.1:9")], handlers={"held": held})

    async def two_at_once() -> list[str | None]:
        calls = [asyncio.ensure_future(runtime.invoke(Invocation("held"))) for _ in range(2)]
        while not started.is_set():  # one runs in the only thread...
            await asyncio.sleep(0)
        for _ in range(10):  # ...and the other has queued for it
            await asyncio.sleep(0)
        release.set()
        return [(await call).error_code for call in calls]

    for _ in range(2):
        release.clear()
        started.clear()
        assert asyncio.run(two_at_once()) == [None, None]


def test_a_5xx_answer_past_the_size_limit_is_a_failure_to_the_breaker(clock: FakeClock, upstream: Upstream) -> None:
    """A 500 whose body passes 16 MiB (sent as a few kilobytes of gzip) is the host failing, as any 500: counted
    by the breaker, which opens after `threshold` of them, not reset as if the host had answered well."""
    import gzip

    from reconciler.runtime.upstream import MAX_ANSWER_BYTES

    big = gzip.compress(b'"' + b" " * MAX_ANSWER_BYTES + b'"')
    upstream.answers = [(500, big)] * 2
    upstream.headers = [("Content-Encoding", "gzip")]

    async def go() -> list[Outcome]:
        tools = [tool("post", upstream.url + "/p", method="POST")]
        async with Runtime(tools, clock=clock, breaker=BreakerPolicy(threshold=2)) as runtime:
            return [await runtime.invoke(Invocation("post")) for _ in range(3)]

    outcomes = asyncio.run(go())
    assert [(o.error_code, o.upstream_status) for o in outcomes] == [
        ("UPSTREAM_ERROR", 500),
        ("UPSTREAM_ERROR", 500),
        ("CIRCUIT_OPEN", None),
    ]
    assert len(upstream.received) == 2
