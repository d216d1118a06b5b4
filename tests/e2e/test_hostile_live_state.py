"""A server whose answers hold what no JSON text may (NaN, Infinity, half a surrogate pair) is refused where the
client reads it, exit 1 naming the host; such values never reach the plan's rendering (they crashed it)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def _tool(description: str, rate: str) -> str:
    return (
        f'{{"id": "1", "name": "ok_tool", "description": {description}, "executionEndpoint": "https://t.example.com", '
        f'"schema": {{"type": "object"}}, "rateLimit": {{"requestsPerMinute": {rate}}}, "version": 1, '
        '"labels": {"managed-by": "reconciler"}}'
    )


ANSWERS = {
    "lone-surrogate-in-list": _tool('"\\ud800"', "60"),
    "nan-in-list": _tool('"d"', "NaN"),
    "infinity-in-list": _tool('"d"', "Infinity"),
}


@pytest.fixture
def serve() -> Iterator[Callable[[int, bytes], str]]:
    servers: list[http.server.HTTPServer] = []

    def start(status: int, body: bytes) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("answer", list(ANSWERS), ids=list(ANSWERS))
@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_a_poisoned_live_state_is_refused_at_the_client(
    repo: Path,
    run: Callable[..., object],
    serve: Callable[[int, bytes], str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    output: str,
) -> None:
    (repo / "tools.d" / "a.yaml").write_text(
        "name: ok_tool\ndescription: d\nendpoint: https://tools.example.com/x\n", encoding="utf-8"
    )
    url = serve(200, f'{{"entities": [{ANSWERS[answer]}], "next_page_token": null}}'.encode())
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
    result = run("plan", "--format", output)
    assert result.code == 1, result.output
    assert f"error: {url.removeprefix('http://')} answered 200 with a body that is not a JSON object" in result.err
    assert "internal error" not in result.err


def test_a_poisoned_error_body_still_gives_the_status(
    repo: Path, run: Callable[..., object], serve: Callable[[int, bytes], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = serve(403, b'{"message": "no \\ud800 access", "code": "missing.permissions", "status": NaN}')
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
    result = run("plan")
    assert result.code == 1
    assert "403" in result.err
    assert "internal error" not in result.err
