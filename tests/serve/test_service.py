"""The tool service end to end over loopback HTTP: answers, error codes, registry, health, metrics, audit log."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.model import SourceLocation, Tool
from tests.runtime.conftest import Upstream
from tests.serve.conftest import Serving

SECRET_VALUE = "sku-secret-4711"
SCHEMA = {
    "type": "object",
    "properties": {"sku": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["sku"],
}


def check_tool(upstream: Upstream) -> Tool:
    return Tool(
        "check_inventory",
        "Checks stock.",
        upstream.url + "/api/v1/tools/check_inventory",
        SCHEMA,
        SourceLocation("tools.d/t.yaml"),
        context={"user_id": "conversation.user_id"},
    )


def post(url: str, name: str, payload: Any) -> httpx.Response:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.post(f"{url}/tools/{name}", content=content, headers={"Content-Type": "application/json"})


def test_an_invocation_runs_the_tool_and_answers_its_output(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    upstream.answers = [(200, {"stock": 12, "note": "as received"})]
    service = serving([check_tool(upstream)])
    response = post(
        service.url,
        "check_inventory",
        {"tool_name": "check_inventory", "parameters": {"sku": "A-1"}, "conversation_id": "C-1", "user_id": "U-9"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert body["output"] == {"stock": 12, "note": "as received"}
    assert body["metadata"]["upstream_status"] == 200
    assert upstream.received[0].json == {  # the invocation, as the tool's Data Action posts it
        "tool_name": "check_inventory",
        "parameters": {"sku": "A-1"},
        "user_id": "U-9",
        "conversation": {"user_id": "U-9"},
    }


def test_each_error_code_with_its_http_status_and_nothing_sent(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    service = serving([check_tool(upstream)])
    cases = [
        ("check_inventory", b"{not json", 400, "INVALID_PAYLOAD"),
        ("check_inventory", {"parameters": [SECRET_VALUE]}, 400, "INVALID_PAYLOAD"),
        ("check_inventory", {"tool_name": "other", "parameters": {}}, 400, "INVALID_PAYLOAD"),
        ("nope", {"tool_name": "nope", "parameters": {"sku": SECRET_VALUE}}, 404, "UNKNOWN_TOOL"),
        ("check_inventory", {"parameters": {"sku": 5}}, 422, "INVALID_ARGUMENTS"),
        ("check_inventory", {"parameters": {}}, 422, "INVALID_ARGUMENTS"),
        (
            "check_inventory",
            {"parameters": {"sku": SECRET_VALUE, "user_id": "U-0"}, "user_id": "U-9"},
            422,
            "INVALID_ARGUMENTS",
        ),
    ]
    for name, payload, status, code in cases:
        response = post(service.url, name, payload)
        body = response.json()
        assert (response.status_code, body["status"], body["error_code"]) == (status, "error", code), body
        assert SECRET_VALUE not in response.text and "Traceback" not in response.text
    assert post(service.url, "check_inventory", b"x" * (1024 * 1024 + 1)).status_code == 413
    assert upstream.received == []


def test_an_upstream_5xx_is_an_upstream_error(serving: Callable[..., Serving], upstream: Upstream) -> None:
    upstream.answers = [(500, {"error": "boom"})]
    service = serving([check_tool(upstream)])
    response = post(service.url, "check_inventory", {"parameters": {"sku": SECRET_VALUE}, "user_id": "U"})
    assert response.status_code == 502
    assert response.json() == {
        "status": "error",
        "error_code": "UPSTREAM_ERROR",
        "message": "the upstream of check_inventory answered 500",
    }


def test_registry_health_and_readiness(serving: Callable[..., Serving], upstream: Upstream) -> None:
    service = serving([check_tool(upstream)])
    [entry] = httpx.get(service.url + "/api/v1/tools/registry").json()["tools"]
    assert entry["name"] == "check_inventory"
    assert entry["capabilities"] == ["sku", "count"]  # what the model sees: not the context parameter
    assert entry["status"] == "active" and entry["version"].startswith("sha256:")
    assert httpx.get(service.url + "/healthz").status_code == 200
    assert httpx.get(service.url + "/readyz").status_code == 200


def test_only_a_post_to_one_tools_segment_is_an_invocation(serving: Callable[..., Serving], upstream: Upstream) -> None:
    # POST /tools/{name} has its own lean ASGI path; the routes around it answer as Starlette routes do
    service = serving([check_tool(upstream)])
    assert httpx.get(service.url + "/tools/check_inventory").status_code == 405
    assert post(service.url, "check_inventory/extra", {"parameters": {"sku": "A"}}).status_code == 404
    assert post(service.url, "", {"parameters": {"sku": "A"}}).status_code == 404
    assert post(service.url, "check_inventory%2Fx", {"parameters": {"sku": "A"}}).status_code == 404
    answer = post(service.url, "check_inventory", {"parameters": {"sku": "A"}, "user_id": "U"})
    assert (answer.status_code, answer.headers["content-type"]) == (200, "application/json")
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert upstream.received[0].json["parameters"] == {"sku": "A"}


def test_metrics_carry_the_seed_names_and_no_values(serving: Callable[..., Serving], upstream: Upstream) -> None:
    service = serving([check_tool(upstream)])
    post(service.url, "check_inventory", {"parameters": {"sku": "A"}, "user_id": "U"})
    post(service.url, "check_inventory", {"parameters": {"sku": 1}, "user_id": "U"})
    post(service.url, SECRET_VALUE, {"parameters": {}})
    text = httpx.get(service.url + "/metrics").text
    lines = [line for line in text.splitlines() if line.startswith("genesys_tool_invocation")]
    assert any(
        line.startswith("genesys_tool_invocation_latency_milliseconds_bucket{")
        and 'tool_name="check_inventory"' in line
        for line in lines
    ), text
    success = [line for line in lines if line.startswith("genesys_tool_invocation_success_total{")]
    assert len(success) == 1 and 'tool_name="check_inventory"' in success[0] and success[0].endswith(" 1.0")
    errors = sorted(line for line in lines if line.startswith("genesys_tool_invocation_error_total{"))
    assert len(errors) == 2
    assert 'error_type="INVALID_ARGUMENTS"' in errors[0] and 'tool_name="check_inventory"' in errors[0]
    assert 'error_type="UNKNOWN_TOOL"' in errors[1] and 'tool_name="(unknown)"' in errors[1]
    assert SECRET_VALUE not in text


def test_the_audit_log_has_a_line_per_parseable_invocation_and_no_values(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path
) -> None:
    audit = tmp_path / "logs" / "audit.jsonl"
    service = serving([check_tool(upstream)], audit=audit)
    parameters = {"sku": SECRET_VALUE, "count": 2}
    post(service.url, "check_inventory", {"parameters": parameters, "conversation_id": "C-1", "user_id": "U-1"})
    post(service.url, "unknown_tool", {"parameters": {"x": SECRET_VALUE}, "conversation_id": "C-2"})
    post(service.url, "check_inventory", b"{broken")  # not parseable: no line
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert len(lines) == 2
    first, second = lines
    canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first["parameters_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert {k: first[k] for k in ("event", "tool", "conversation_id", "user_id", "outcome", "error_code")} == {
        "event": "tool.invocation",
        "tool": "check_inventory",
        "conversation_id": "C-1",
        "user_id": "U-1",
        "outcome": "success",
        "error_code": None,
    }
    assert first["upstream_status"] == 200 and first["latency_ms"] >= 0 and "T" in first["time"]
    assert (second["tool"], second["conversation_id"], second["error_code"]) == ("unknown_tool", "C-2", "UNKNOWN_TOOL")
    assert SECRET_VALUE not in audit.read_text()


def test_a_huge_tool_name_or_id_cannot_bloat_the_audit_log_or_the_metrics(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    service = serving([check_tool(upstream)], audit=audit)
    name, user = "t" * 60_000, "u" * 500_000  # httpx sends URLs up to 64 KiB
    answer = post(service.url, name, {"parameters": {"sku": "A"}, "conversation_id": "C-1", "user_id": user})
    assert (answer.status_code, answer.json()["error_code"]) == (404, "UNKNOWN_TOOL")
    assert len(answer.content) < 300
    [line] = audit.read_text().splitlines()
    record = json.loads(line)
    assert (record["tool"], record["user_id"], record["conversation_id"]) == ("t" * 64 + "…", "u" * 256 + "…", "C-1")
    assert len(line) < 1000
    metrics = httpx.get(service.url + "/metrics").text
    assert "ttttt" not in metrics and 'tool_name="(unknown)"' in metrics


def test_a_handler_output_is_answered_as_json_or_refused_when_json_cannot_hold_it(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    tools = [Tool(name, "d", upstream.url, {"type": "object"}, SourceLocation("t.yaml")) for name in ("big", "odd")]
    service = serving(tools, handlers={"big": lambda arguments: {"n": 2**70}, "odd": lambda arguments: {1, 2}})
    big = post(service.url, "big", {"parameters": {}})
    assert (big.status_code, big.json()["output"]) == (200, {"n": 2**70})
    odd = post(service.url, "odd", {"parameters": {}})
    assert odd.status_code == 500
    assert odd.json() == {
        "status": "error",
        "error_code": "EXECUTION_FAILURE",
        "message": "odd returned an output that is not JSON",
    }


def test_the_payload_is_read_as_the_standard_library_reads_it(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path
) -> None:
    # orjson reads most payloads (app._loads); these are what it would read otherwise, or refuse
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}}}
    audit = tmp_path / "audit.jsonl"
    service = serving([Tool("t", "d", upstream.url + "/t", schema, SourceLocation("t.yaml"))], audit=audit)
    big = 123456789012345678901234567890  # past 64 bits: orjson would make it a float
    assert post(service.url, "t", b'{"parameters": {"n": %d}}' % big).status_code == 200
    assert post(service.url, "t", b'{"parameters": {"n": -9223372036854775809}}').status_code == 200
    assert post(service.url, "t", "\ufeff{}".encode()).status_code == 200  # a byte order mark
    assert [received.body for received in upstream.received] == [
        b'{"tool_name":"t","parameters":{"n":%d}}' % big,
        b'{"tool_name":"t","parameters":{"n":-9223372036854775809}}',
        b'{"tool_name":"t","parameters":{}}',
    ]
    # a lone surrogate is JSON, but no UTF-8 can carry it to the upstream: the caller's mistake (422, not the
    # service's 500), and the call is still audited
    surrogate = post(service.url, "t", b'{"parameters": {"s": "\\ud800"}}')
    assert (surrogate.status_code, surrogate.json()["error_code"]) == (422, "INVALID_ARGUMENTS")
    assert len(audit.read_text().splitlines()) == 4
    # nor are the infinities, written out or as a number past the float range (which json.loads makes one of,
    # and which went to the upstream as `Infinity`, not JSON)
    refusals = (b'{"parameters": {"n": NaN}}', b'{"parameters": {"n": Infinity}}', b'{"parameters": {"x": -1e400}}')
    for refused in (*refusals, b"[1,]"):
        answer = post(service.url, "t", refused)
        assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PAYLOAD")
    assert len(upstream.received) == 3


def test_a_deeply_nested_payload_or_answer_is_answered_in_json_and_audited(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path
) -> None:
    # JSON nested ~1,000 levels deep parses (orjson reads up to 1,024), but the standard library's encoder and
    # jsonschema recurse: each place that took such a value ended in a plain-text 500 and a traceback, or blamed
    # the service for the caller's payload.
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    audit = tmp_path / "audit.jsonl"
    declared = {**SCHEMA, "properties": {**SCHEMA["properties"], "x": {"type": "array"}}}
    service = serving([dataclasses.replace(check_tool(upstream), schema=declared)], audit=audit)
    deep_argument = post(
        service.url,
        "check_inventory",
        f'{{"parameters": {{"sku": "a", "x": {nested(1000)}}}, "user_id": "U"}}'.encode(),
    )
    assert (deep_argument.status_code, deep_argument.json()) == (
        422,
        {
            "status": "error",
            "error_code": "INVALID_ARGUMENTS",
            "message": "argument 'x' of check_inventory is nested deeper than 64 levels",
        },
    )
    refused = post(service.url, "check_inventory", f'{{"parameters": {{"x": {nested(1000)}}}, "user_id": 5}}'.encode())
    assert (refused.status_code, refused.json()["error_code"]) == (400, "INVALID_PAYLOAD")
    deep_state = post(
        service.url,
        "check_inventory",
        f'{{"parameters": {{"sku": "a"}}, "conversation": {{"user_id": {nested(1000)}}}}}'.encode(),
    )
    assert (deep_state.status_code, deep_state.json()["message"]) == (
        400,
        "context parameter 'user_id' of check_inventory reads conversation.user_id, which holds a value nested "
        "deeper than 64 levels",
    )
    assert upstream.received == []
    upstream.answers = [(200, nested(1000).encode())]
    deep_answer = post(service.url, "check_inventory", {"parameters": {"sku": "a"}, "user_id": "U"})
    assert deep_answer.status_code == 200  # the call happened: a success, its output a note saying why
    assert deep_answer.json()["metadata"]["output_withheld"] == "too_deep"
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [line["error_code"] for line in lines] == [
        "INVALID_ARGUMENTS",
        "INVALID_PAYLOAD",
        "INVALID_PAYLOAD",
        None,
    ]
    assert lines[0]["parameters_sha256"] is None  # too deep to write as canonical JSON: no hash, still a line
    for depth, status in ((64, 200), (65, 422)):  # the limit, exactly
        answer = post(
            service.url,
            "check_inventory",
            f'{{"parameters": {{"sku": "a", "x": {nested(depth)}}}, "user_id": "U"}}'.encode(),
        )
        assert answer.status_code == status


def test_a_handler_that_calls_sys_exit_fails_its_call_not_the_service(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    # A handler's library may exit on bad input (argparse, click): that is one failed call, answered
    # EXECUTION_FAILURE; the service stopped (exit 0) and the caller got a plain-text 500.
    import sys

    def quits(arguments: dict[str, Any]) -> Any:
        sys.exit(3)

    async def quits_async(arguments: dict[str, Any]) -> Any:
        raise SystemExit(4)

    tools = [check_tool(upstream), Tool("other", "d", upstream.url, SCHEMA, SourceLocation("t.yaml"))]
    service = serving(tools, handlers={"check_inventory": quits, "other": quits_async})
    for name in ("check_inventory", "other", "check_inventory"):
        answer = post(service.url, name, {"parameters": {"sku": "a"}, "user_id": "U"})
        assert (answer.status_code, answer.json()) == (
            500,
            {"status": "error", "error_code": "EXECUTION_FAILURE", "message": f"{name} failed (SystemExit)"},
        )
    assert httpx.get(service.url + "/healthz").status_code == 200


def test_after_audit_lines_were_lost_a_gap_line_says_how_many_and_readiness_comes_back(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A disk that fills and is freed again (simulated: the first two writes fail). Polling /readyz tries the log
    # again, so a replica the load balancer took out of rotation recovers without traffic.
    import os

    from reconciler.serve import audit as audit_module

    failing = [OSError(errno.ENOSPC, "No space left on device")] * 2
    real_write = os.write

    def write(descriptor: int, data: bytes) -> int:
        if failing:
            raise failing.pop()
        return real_write(descriptor, data)

    monkeypatch.setattr(audit_module.os, "write", write)
    path = tmp_path / "audit.jsonl"
    service = serving([check_tool(upstream)], audit=path)
    assert post(service.url, "check_inventory", {"parameters": {"sku": "A"}, "user_id": "U"}).status_code == 200
    assert httpx.get(service.url + "/readyz").status_code == 503  # the gap line could not be written either
    assert httpx.get(service.url + "/readyz").status_code == 200
    assert post(service.url, "check_inventory", {"parameters": {"sku": "B"}, "user_id": "U"}).status_code == 200
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["event"], line.get("lost")) for line in lines] == [("audit.gap", 1), ("tool.invocation", None)]


def test_a_2xx_answer_too_deep_to_pass_on_is_a_success_that_says_so(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path
) -> None:
    # The upstream did what it was asked (an order placed); answered EXECUTION_FAILURE, a model would place it
    # again. The call succeeded: its answer is left out, and the output and metadata say why.
    audit = tmp_path / "audit.jsonl"
    service = serving([check_tool(upstream)], audit=audit)
    upstream.answers = [(201, ("[" * 300 + "]" * 300).encode()), (201, ("[" * 1000 + "]" * 1000).encode())]
    passed = post(service.url, "check_inventory", {"parameters": {"sku": "a"}, "user_id": "U"})
    assert (passed.status_code, passed.text.count("[")) == (200, 300)  # deep, still written: passed on
    answer = post(service.url, "check_inventory", {"parameters": {"sku": "a"}, "user_id": "U"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "success"
    assert body["output"] == (
        "check_inventory was called and its upstream answered 201, but that answer is nested too deep to pass on "
        "as JSON; the call has happened"
    )
    assert (body["metadata"]["upstream_status"], body["metadata"]["output_withheld"]) == (201, "too_deep")
    assert len(upstream.received) == 2
    line = [json.loads(line) for line in audit.read_text().splitlines()][-1]
    assert (line["outcome"], line["error_code"], line["upstream_status"]) == ("success", None, 201)


def test_a_2xx_answer_too_large_to_pass_on_is_a_success_that_says_so_and_a_4xx_one_an_error(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    from reconciler.runtime.upstream import MAX_ANSWER_BYTES

    service = serving([check_tool(upstream)])
    big = b'"' + b" " * MAX_ANSWER_BYTES + b'"'
    upstream.answers = [(200, big), (404, big)]
    answer = post(service.url, "check_inventory", {"parameters": {"sku": "a"}, "user_id": "U"})
    assert (answer.status_code, answer.json()) == (
        200,
        {
            "status": "success",
            "output": "check_inventory was called and its upstream answered 200, but that answer is too large to "
            f"pass on (more than {MAX_ANSWER_BYTES:,} bytes); the call has happened",
            "metadata": {
                "latency_ms": answer.json()["metadata"]["latency_ms"],
                "upstream_status": 200,
                "output_withheld": "too_large",
            },
        },
    )
    failed = post(service.url, "check_inventory", {"parameters": {"sku": "a"}, "user_id": "U"})
    assert (failed.status_code, failed.json()) == (
        502,
        {
            "status": "error",
            "error_code": "UPSTREAM_ERROR",
            "message": "the upstream of check_inventory answered 404",
        },
    )
    assert len(upstream.received) == 2


def test_the_audit_line_says_when_an_output_was_withheld_and_why(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path
) -> None:
    # The answer's metadata says `output_withheld` when a 2xx answer was too large or too deep to pass on: the
    # audit line says so too (the reason, never the value), null for an output passed on whole.
    from reconciler.runtime.upstream import MAX_ANSWER_BYTES

    audit = tmp_path / "audit.jsonl"
    service = serving([check_tool(upstream)], audit=audit)
    upstream.answers = [
        (200, {"stock": 1}),
        (201, ("[" * 1000 + "]" * 1000).encode()),
        (200, b'"' + b" " * MAX_ANSWER_BYTES + b'"'),
        (404, {}),
    ]
    metadata = [
        post(service.url, "check_inventory", {"parameters": {"sku": "a"}, "user_id": "U"}).json().get("metadata")
        for _ in range(4)
    ]
    assert [m and m.get("output_withheld") for m in metadata] == [None, "too_deep", "too_large", None]
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(line["outcome"], line["output_withheld"]) for line in lines] == [
        ("success", None),
        ("success", "too_deep"),
        ("success", "too_large"),
        ("error", None),
    ]


def test_nan_or_infinity_is_never_answered_as_null(serving: Callable[..., Serving], upstream: Upstream) -> None:
    # JSON has no NaN: orjson wrote a handler's float("nan") and an upstream's `NaN` as null, a value the tool
    # never gave. A handler's is its bug, said with EXECUTION_FAILURE; an upstream's answer that is not strict
    # JSON is passed on as the text it is, as any other answer that is not JSON.
    tools = [Tool(name, "d", upstream.url, {"type": "object"}, SourceLocation("t.yaml")) for name in ("nan", "inf")]
    handlers = {"nan": lambda arguments: {"ratio": float("nan"), "note": None}, "inf": lambda arguments: [-math.inf]}
    service = serving([*tools, check_tool(upstream)], handlers=handlers)
    for name in ("nan", "inf"):
        answer = post(service.url, name, {"parameters": {}})
        assert (answer.status_code, answer.json()) == (
            500,
            {
                "status": "error",
                "error_code": "EXECUTION_FAILURE",
                "message": f"{name} returned an output that is not JSON",
            },
        )
    upstream.answers = [(200, b'{"ratio": NaN, "n": 1}'), (200, b'{"n": null}')]
    text = post(service.url, "check_inventory", {"parameters": {"sku": "a"}, "user_id": "U"})
    assert (text.status_code, text.json()["output"]) == (200, '{"ratio": NaN, "n": 1}')
    null = post(service.url, "check_inventory", {"parameters": {"sku": "a"}, "user_id": "U"})
    assert (null.status_code, null.json()["output"]) == (200, {"n": None})


def test_an_audit_log_that_stops_taking_lines_stops_no_call_and_readiness_says_so(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network file system whose server stops answering blocks each write until it is back (simulated: a FIFO
    whose reader stops reading, with a one-page pipe that a dozen lines fill). Written on the event loop, the
    first line that did not fit stopped every call and /healthz with it, for as long as the reader was away. Now
    a call waits for its line at most LINE_WAIT, /healthz answers, /readyz says the log is not keeping up, and
    once the reader is back every line arrives, in order, and readiness comes back."""
    import fcntl
    import os
    import select
    import time

    from reconciler.serve import audit as audit_module

    monkeypatch.setattr(audit_module, "LINE_WAIT", 0.2)  # the test's calls need not wait the whole second
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        fcntl.fcntl(reader, 1031, 4096)  # F_SETPIPE_SZ (Linux): the smallest pipe, one page
        service = serving([check_tool(upstream)], audit=fifo)
        calls = 24
        with httpx.Client(base_url=service.url, timeout=60) as client:  # hang guards, not times to meet
            for number in range(calls):
                body = {"parameters": {"sku": f"S-{number}"}, "conversation_id": f"C-{number}", "user_id": "U"}
                assert client.post("/tools/check_inventory", json=body).status_code == 200
            assert client.get("/healthz").status_code == 200
            deadline = time.monotonic() + 60
            while (ready := client.get("/readyz")).status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert (ready.status_code, ready.json()) == (
                503,
                {"status": "not ready", "reason": "the audit log is not keeping up"},
            )
            received = b""
            while received.count(b"\n") < calls and time.monotonic() < deadline:  # the reader is back
                if select.select([reader], [], [], 1)[0]:
                    received += os.read(reader, 65536)
            while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert client.get("/readyz").status_code == 200
    finally:
        os.close(reader)
    lines = [json.loads(line) for line in received.splitlines()]
    assert [line["conversation_id"] for line in lines] == [f"C-{number}" for number in range(calls)]
    assert {line["event"] for line in lines} == {"tool.invocation"}  # none lost
