"""A tool's schema is data from the repository (a pull request may write it): the tool service compiles it to
check the model's arguments, and jsonschema-rs fetches over HTTP what a schema names by URL, a `$ref` or the
meta-schema of a subschema's `$schema`. Nothing a schema says may make `serve` (nor `test` and `chat`, which run
the same code) send a request anywhere but to the tool's upstream: a request to 169.254.169.254 from inside the
service's network is the classic SSRF. `validate` refuses a `$dynamicRef` out of the schema as it refuses a
`$ref`: the service cannot resolve it, so every call would fail."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it gets and answers {} to each."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(f"{self.command} {self.path}")
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            body = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _tool(url: str) -> str:
    return f"""name: lookup
description: Looks a thing up.
endpoint: {url}/tool
schema:
  type: object
  properties:
    sku:
      $id: {url}/sub/
      $schema: {url}/nested-meta
      type: string
      description: The thing.
  $defs:
    unused: {{$schema: "{url}/defs-meta", type: string}}
"""


def test_serve_fetches_no_meta_schema_a_subschema_names(repo: Path, listener: tuple[str, list[str]]) -> None:
    url, seen = listener
    (repo / "tools.d" / "a.yaml").write_text(_tool(url), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "serve", "--port", "0"],
        cwd=repo,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("reconciler serve listening on "), line
        answers = [
            httpx.post(f"{line.split()[-1]}/tools/lookup", json={"tool_name": "lookup", "parameters": {"sku": sku}})
            for sku in ("A-1", 5)  # a valid call, then one refused (the detailed check compiles the schema again)
        ]
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert [answer.json().get("error_code") for answer in answers] == [None, "INVALID_ARGUMENTS"]
    assert seen == ["POST /tool"]  # the tool's own call, and nothing else


def test_validate_refuses_a_dynamic_ref_out_of_the_schema(
    repo: Path, run: Callable[..., Any], listener: tuple[str, list[str]]
) -> None:
    url, seen = listener
    (repo / "tools.d" / "a.yaml").write_text(
        "name: lookup\ndescription: d\nendpoint: https://tools.example.com/x\n"
        "schema:\n  type: object\n  properties:\n"
        f"    sku: {{description: d, $dynamicRef: '{url}/meta#thing'}}\n",
        encoding="utf-8",
    )
    result = run("validate", "--format", "json")
    assert result.code == 1
    [problem] = json.loads(result.out)["diagnostics"]
    assert (problem["line"], problem["code"]) == (7, "schema-ref")
    assert "$dynamicRef" in problem["message"] and "outside the tool's schema" in problem["message"]
    assert seen == []
