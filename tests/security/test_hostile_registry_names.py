"""The org is shared: whoever can write tools there can give a managed tool a name with a line break (a Data
Action's name is free text) or make the server's error messages hold one. apply prints each change's outcome
and a summary of what failed; a name or message printed as it is would start a line of its own in the CI log
(`::error::` forges an annotation) or rewrite the terminal."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HOSTILE = "gone\n::error file=README.md::forged\x1b]0;title\x07"


def _tool(name: str, owner: str) -> dict[str, Any]:
    return {
        "id": "1",
        "name": name,
        "description": "d",
        "executionEndpoint": "https://tools.example.com/x",
        "schema": {"type": "object"},
        "version": 1,
        "labels": {"managed-by": owner},
    }


@pytest.fixture
def serve_registry() -> Iterator[Callable[[dict[str, Any]], str]]:
    """Tools APIs holding one tool each, whose delete fails with a hostile message."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(tool: dict[str, Any]) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(tool))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _handler(tool: dict[str, Any]) -> type[http.server.BaseHTTPRequestHandler]:

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(200, {"entities": [tool], "next_page_token": None})

        def do_DELETE(self) -> None:
            self._answer(400, {"message": "refused\n::error file=README.md::forged too", "code": "bad.request"})

        def log_message(self, *args: object) -> None:
            return None

    return Handler


def _assert_on_their_lines(output: str) -> None:
    for line in output.splitlines():
        assert not line.lstrip().startswith("::error"), line
    assert "\x1b" not in output and "\x07" not in output


def test_apply_prints_a_hostile_live_name_and_message_on_their_lines(
    repo: Path,
    run: Callable[..., Any],
    serve_registry: Callable[[dict[str, Any]], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", serve_registry(_tool(HOSTILE, "reconciler")))
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
    (repo / "reconciler.yaml").write_text("managed_by: reconciler\n")  # the only repository on this org
    result = run("apply", "--auto-approve", "--allow-mass-delete")
    assert result.code == 1
    assert "delete failed" in result.err  # the outcome is reported, escaped
    assert "not attempted" in result.err or "failed: delete gone" in result.err
    _assert_on_their_lines(result.output)


def test_another_owners_hostile_label_stays_on_its_line(
    repo: Path,
    run: Callable[..., Any],
    serve_registry: Callable[[dict[str, Any]], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (repo / "tools.d" / "a.yaml").write_text(
        "name: taken\ndescription: d\nendpoint: https://tools.example.com/x\n", encoding="utf-8"
    )
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", serve_registry(_tool("taken", "other\n::error::forged\x1b[2J")))
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
    result = run("plan")
    assert result.code == 1
    assert "exists in the registry managed by" in result.err
    _assert_on_their_lines(result.output)


def test_a_debug_excerpt_of_an_error_body_does_not_cut_a_secret_in_two(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--debug` logs the first 500 characters of an error body: a server echoing the payload (a 422) may have the
    secret straddle that cut, and scrubbing the excerpt cannot find the half that is left."""
    secret = "pk_live_" + "Q7w" * 10
    echoed = json.dumps({"message": "invalid", "echo": "x" * (500 - 32 - 12) + secret}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(200, b'{"entities": [], "next_page_token": null}')

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(422, echoed)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("GENESYS_CLOUD_API_URL", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
        monkeypatch.setenv("PARTNER_API_KEY", secret)
        (repo / "tools.d" / "a.yaml").write_text(
            "name: t\ndescription: 'Key ${PARTNER_API_KEY}'\nendpoint: https://tools.example.com/x\n",
            encoding="utf-8",
        )
        result = run("--debug", "apply", "--auto-approve")
    finally:
        server.shutdown()
        server.server_close()
    assert result.code == 1
    assert "error body" in result.err
    assert secret[:8] not in result.output
