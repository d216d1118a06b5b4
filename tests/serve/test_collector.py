"""`reconciler serve` tunes Python's cyclic collector (server.settle_heap), which is sound only while a served
call leaves no reference cycles behind: these tests hold both."""

from __future__ import annotations

import gc
import json
import socket
import warnings
from collections.abc import Callable, Iterator

import httpx
import pytest

from reconciler.serve import server
from tests.runtime.conftest import Upstream
from tests.serve.conftest import Serving
from tests.serve.test_service import check_tool

SERVING_MODULES = {"reconciler", "asyncio", "_asyncio", "aiohttp", "uvicorn", "uvloop", "starlette", "httptools"}


@pytest.fixture(autouse=True)
def _earlier_garbage_collected() -> None:
    """What earlier tests left for the collector goes before each test here, a socket one of them left unclosed
    with its ResourceWarning ignored: these tests' full collections raised that warning inside them, as their
    error (seen in a shuffled run; which earlier test leaks the socket is not known yet)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _request(name: str, body: bytes) -> bytes:
    head = f"POST /tools/{name} HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


def test_a_served_call_succeeding_or_failing_leaves_nothing_for_the_cyclic_collector(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    service = serving([check_tool(upstream)])
    good = b'{"parameters": {"sku": "A-1"}, "user_id": "U-1"}'
    calls = [
        _request("check_inventory", good),  # success
        _request("check_inventory", b'{"parameters": {"sku": 1}}'),  # INVALID_ARGUMENTS
        _request("nope", good),  # UNKNOWN_TOOL
        _request("check_inventory", b"{not json"),  # INVALID_PAYLOAD
        _request("check_inventory", good),  # UPSTREAM_ERROR: the upstream answers 503 (a POST: not retried)
    ]
    host, port = service.url.removeprefix("http://").split(":")
    # a bare socket as the client, so that only the service's own objects can end up in gc.garbage
    with socket.create_connection((host, int(port))) as connection:

        def call(request: bytes) -> bytes:
            connection.sendall(request)
            answer = b""
            while not answer.endswith(b"}"):
                answer += connection.recv(65536)
            return answer

        for request in calls:  # warm up: connections, caches, the first call's lazily built state
            upstream.answers = [(503, {"detail": "down"})]
            call(request)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable is kept in gc.garbage
        try:
            answers = []
            for _ in range(20):
                upstream.answers = [(200, {"stock": 1}), (503, {"detail": "down"})]
                answers += [call(request) for request in calls]
            gc.collect()
            left = sorted({type(o).__qualname__ for o in gc.garbage if _module(o) in SERVING_MODULES})
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    codes = {json.loads(answer.partition(b"\r\n\r\n")[2]).get("error_code") for answer in answers}
    assert codes == {None, "INVALID_ARGUMENTS", "UNKNOWN_TOOL", "INVALID_PAYLOAD", "UPSTREAM_ERROR"}
    assert left == []


def _module(thing: object) -> str:
    return (type(thing).__module__ or "").split(".")[0]


@pytest.fixture
def collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("collector_restored")
def test_once_started_serve_sets_aside_what_it_built_and_collects_the_young_generation_less_often(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    gc.unfreeze()
    service = serving([check_tool(upstream)], tune_gc=True)  # as `reconciler serve` runs it
    assert gc.get_freeze_count() > 1000  # this process's imports, at least
    assert httpx.get(service.url + "/healthz").status_code == 200
    assert gc.get_threshold() == (server.YOUNG_COLLECTION_EVERY, 10, server.FULL_COLLECTION_EVERY)
    assert gc.get_threshold()[0] > 700  # Python's default
