"""The emulator under poison input stays up, answers 400 (or 413), never reflects the Host header, and never
prints a traceback, whatever a client sends or however it hangs up."""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from reconciler.emulator.poison import MAX_BODY

TOOLS = "/api/v2/ai/assistant/tools"
Start = Callable[..., RunningEmulator]
GOOD = {
    "name": "ok_tool",
    "description": "Does it.",
    "schema": {"type": "object", "properties": {}},
    "executionEndpoint": "https://tools.example.com/t",
}


def _raw(running: RunningEmulator, data: bytes) -> bytes:
    """Send bytes as they are and read the answer until the server closes or goes quiet."""
    parts = urlsplit(running.url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10) as connection:
        connection.sendall(data)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and _complete(answer):
                    break
        except TimeoutError:
            pass
    return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


POISON_BODIES = [
    ("lone-high-surrogate", b'{"name": "\\ud800", "description": "d"}', "surrogate"),
    ("lone-low-surrogate-in-list", b'{"name": "x", "labels": ["\\udfff"]}', "surrogate"),
    ("surrogate-key", b'{"\\ud83d": 1}', "surrogate"),
    ("nan", b'{"name": "x", "rateLimit": {"requestsPerMinute": NaN}}', "NaN"),
    ("infinity", b'{"name": "x", "rateLimit": {"requestsPerMinute": Infinity}}', "Infinity"),
    ("minus-infinity", b"[-Infinity]", "-Infinity"),
]


@pytest.mark.parametrize(("body", "word"), [p[1:] for p in POISON_BODIES], ids=[p[0] for p in POISON_BODIES])
@pytest.mark.parametrize("path", [TOOLS, f"{TOOLS}/some-id", "/api/v2/integrations/actions"])
def test_poison_json_is_refused_at_the_door_and_the_emulator_stays_up(
    start: Start, capsys: pytest.CaptureFixture[str], path: str, body: bytes, word: str
) -> None:
    running = start()
    with httpx.Client(base_url=running.url) as http:
        method = "PUT" if path.endswith("some-id") else "POST"
        answer = http.request(method, path, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400
        assert word in answer.json()["message"]
        assert http.post(TOOLS, json=GOOD).status_code == 201  # still up, and still writing
        assert [tool["name"] for tool in http.get(TOOLS).json()["entities"]] == ["ok_tool"]
    assert "Traceback" not in capsys.readouterr().err


def _chunked(*chunks: bytes, size_line: bytes | None = None) -> bytes:
    head = f"POST {TOOLS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
    return head.encode() + (size_line or b"") + body + b"0\r\n\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (_chunked(*[b" " * 65536] * (MAX_BODY // 65536 + 1)), b"413"),
        (_chunked(size_line=b"zz\r\n"), b"400"),
        (_chunked(size_line=b"-5\r\n"), b"400"),
        (_chunked(size_line=b"1" * 5000 + b"\r\n"), b"413"),
        (_chunked(b'{"name": "\\ud800"}'), b"400"),
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/9.9\r\n\r\n", b"505"),
        (b"GET " + b"/x" * 40000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (f"POST {TOOLS} HTTP/1.1\r\nContent-Length: abc\r\n\r\n".encode(), b"400"),
        (f"POST {TOOLS} HTTP/1.1\r\nContent-Length: -1\r\n\r\n".encode(), b"400"),
        (f"POST {TOOLS} HTTP/1.1\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode(), b"413"),
    ],
    ids=[
        "chunked-too-large",
        "chunk-size-not-hex",
        "chunk-size-negative",
        "chunk-size-line-endless",
        "chunked-surrogate",
        "garbage-request-line",
        "unknown-http-version",
        "request-line-too-long",
        "content-length-not-a-number",
        "content-length-negative",
        "content-length-too-large",
    ],
)
def test_malformed_requests_are_answered_4xx_and_the_emulator_stays_up(
    start: Start, capsys: pytest.CaptureFixture[str], request_bytes: bytes, status: bytes
) -> None:
    running = start()
    answer = _raw(running, request_bytes)
    assert answer.split(b" ")[1] == status, answer[:200]
    with httpx.Client(base_url=running.url) as http:
        assert http.get(TOOLS).status_code == 200
    assert "Traceback" not in capsys.readouterr().err


def test_the_host_header_is_not_reflected(start: Start) -> None:
    running = start()
    evil = 'evil.example.com"><script>alert(1)</script>'
    answer = _raw(running, f"GET /openapi.json HTTP/1.1\r\nHost: {evil}\r\nConnection: close\r\n\r\n".encode())
    assert b"evil.example.com" not in answer
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["servers"][0]["url"].startswith(running.url)


def test_a_client_that_hangs_up_leaves_no_traceback(start: Start, capsys: pytest.CaptureFixture[str]) -> None:
    running = start(latency_ms=100)  # the answer is written after the client has gone
    parts = urlsplit(running.url)
    for _ in range(3):
        connection = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
        connection.sendall(f"GET {TOOLS} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        connection.close()
    with httpx.Client(base_url=running.url) as http:
        assert http.get(TOOLS).status_code == 200
    assert "Traceback" not in capsys.readouterr().err
