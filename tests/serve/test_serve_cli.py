"""`reconciler serve` as a user runs it: a real process that prints its URL, stops gracefully on SIGTERM, and
refuses to start on what would fail at run time."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.runtime.conftest import Upstream

TOOL = "name: check\ndescription: Checks.\nendpoint: ${UPSTREAM}/check\nparameters:\n  sku: {type: string}\n"


def start(repo: Path, *args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "serve", "--port", "0", *args],
        cwd=repo,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("reconciler serve listening on http://127.0.0.1:"), line + process.stderr.read()
    return process, line.split()[-1]


def test_sigterm_lets_the_call_in_flight_finish_and_the_audit_log_is_complete(repo: Path, upstream: Upstream) -> None:
    (repo / "tools.d" / "t.yaml").write_text(TOOL)
    upstream.hang = threading.Event()
    process, url = start(repo, "--audit-log", "audit.jsonl", env={"UPSTREAM": upstream.url})
    try:
        assert httpx.get(url + "/healthz").status_code == 200
        answers: list[httpx.Response] = []
        call = threading.Thread(
            target=lambda: answers.append(
                httpx.post(url + "/tools/check", json={"parameters": {"sku": "x"}, "conversation_id": "C"}, timeout=20)
            )
        )
        call.start()
        while not upstream.received:  # the call is in flight, held by the upstream
            threading.Event().wait(0.01)
        process.send_signal(signal.SIGTERM)
        upstream.hang.set()
        call.join(20)
        assert process.wait(20) == 0
    finally:
        process.kill()
        process.communicate()  # and close its pipes
    assert answers[0].status_code == 200 and answers[0].json()["status"] == "success"
    [line] = (repo / "audit.jsonl").read_text().splitlines()
    assert json.loads(line)["conversation_id"] == "C"


def test_after_sigterm_readyz_answers_503_while_calls_are_still_answered(repo: Path, upstream: Upstream) -> None:
    (repo / "tools.d" / "t.yaml").write_text(TOOL)
    process, url = start(repo, "--drain-seconds", "600", "--audit-log", "audit.jsonl", env={"UPSTREAM": upstream.url})
    try:
        with httpx.Client(base_url=url, timeout=20) as client:
            assert client.get("/readyz").status_code == 200
            process.send_signal(signal.SIGTERM)
            while (ready := client.get("/readyz")).status_code == 200:  # the signal is handled between bytecodes
                threading.Event().wait(0.01)
            assert (ready.status_code, ready.json()) == (503, {"status": "not ready"})
            # draining: a load balancer polling /readyz stops sending, and what it still sends is answered
            answer = client.post("/tools/check", json={"parameters": {"sku": "x"}, "conversation_id": "D"})
            assert answer.status_code == 200 and answer.json()["status"] == "success"
            with httpx.Client(base_url=url) as fresh:  # a new connection is still accepted
                assert fresh.get("/healthz").status_code == 200
                assert fresh.get("/readyz").status_code == 503
        process.send_signal(signal.SIGTERM)  # a second SIGTERM ends the drain at once
        assert process.wait(20) == 0
    finally:
        process.kill()
        process.communicate()
    [line] = (repo / "audit.jsonl").read_text().splitlines()
    assert json.loads(line)["conversation_id"] == "D"


def test_the_drain_ends_by_itself_after_its_seconds(repo: Path, upstream: Upstream) -> None:
    (repo / "tools.d" / "t.yaml").write_text(TOOL)
    process, _ = start(repo, "--drain-seconds", "0.3", env={"UPSTREAM": upstream.url})
    try:
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0  # by itself: one SIGTERM, no other (60 s is a hang guard)
        # not before its seconds: both processes read the one system-wide monotonic clock, and the drain's end is
        # set from the moment the signal was handled, after `signalled`
        assert time.monotonic() - signalled >= 0.3
    finally:
        process.kill()
        process.communicate()


def test_handlers_come_from_app(repo: Path, upstream: Upstream) -> None:
    (repo / "tools.d" / "t.yaml").write_text(TOOL)
    (repo / "my_handlers.py").write_text(
        "async def check(arguments):\n    return {'handled': arguments['sku']}\nTOOLS = {'check': check}\n"
    )
    process, url = start(repo, "--app", "my_handlers:TOOLS", env={"UPSTREAM": upstream.url})
    try:
        answer = httpx.post(url + "/tools/check", json={"parameters": {"sku": "x"}}).json()
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        process.kill()
        process.communicate()  # and close its pipes
    assert answer["output"] == {"handled": "x"}
    assert upstream.received == []


def test_sync_handlers_stuck_past_their_timeout_neither_block_the_others_nor_the_exit(
    repo: Path, upstream: Upstream
) -> None:
    # Their calls are answered TOOL_EXECUTION_TIMEOUT; Python cannot stop the threads they run in, but those must
    # not take every thread other sync handlers need, nor hold the process after SIGTERM (a supervisor would kill
    # it, a rolling update would stall).
    (repo / "tools.d" / "t.yaml").write_text(TOOL + "timeout: 1\n---\n" + TOOL.replace("check", "quick"))
    (repo / "stuck.py").write_text(
        "import threading\n"
        "def check(arguments):\n    threading.Event().wait()\n"
        "def quick(arguments):\n    return {'quick': True}\n"
        "TOOLS = {'check': check, 'quick': quick}\n"
    )
    process, url = start(repo, "--app", "stuck:TOOLS", env={"UPSTREAM": upstream.url})
    try:
        with ThreadPoolExecutor(40) as callers:  # more than asyncio's default executor has threads
            answers = list(
                callers.map(
                    lambda n: httpx.post(url + "/tools/check", json={"parameters": {"sku": str(n)}}, timeout=20),
                    range(40),
                )
            )
        assert {answer.json()["error_code"] for answer in answers} == {"TOOL_EXECUTION_TIMEOUT"}
        quick = httpx.post(url + "/tools/quick", json={"parameters": {"sku": "x"}}, timeout=20).json()
        assert quick["output"] == {"quick": True}
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        process.kill()
        process.communicate()


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        (
            {
                "spec.yaml": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"
                "servers: [{url: 'https://a.example.com'}]\n"
                "components: {securitySchemes: {key: {type: apiKey, in: header, name: X-Key}}}\n"
                "security: [{key: []}]\n"
                "paths:\n  /a: {get: {operationId: getA, responses: {'200': {description: ok}}}}\n",
                "tools.d/src.yaml": "source: {openapi: ../spec.yaml}\n",
            },
            [],
            "spec.yaml:5:1: error: getA needs credentials for security scheme 'key'",
        ),
        ({"tools.d/t.yaml": TOOL}, ["--app", "nowhere:TOOLS"], "error: --app 'nowhere:TOOLS': cannot import nowhere"),
        (  # a module that exits while imported (argparse at its top level, a stray sys.exit) ended serve silently
            {"tools.d/t.yaml": TOOL, "quits.py": "import sys\nsys.exit(0)\n"},
            ["--app", "quits:TOOLS"],
            "error: --app 'quits:TOOLS': cannot import quits (SystemExit: 0)",
        ),
        (
            {"tools.d/t.yaml": TOOL, "h.py": "TOOLS = {'other': print}\n"},
            ["--app", "h:TOOLS"],
            "error: --app 'h:TOOLS': handlers for tools that are not served: other; served: check",
        ),
    ],
)
def test_what_would_fail_at_run_time_stops_the_start(
    repo: Path, run: Callable[..., Any], files: dict[str, str], args: list[str], expected: str
) -> None:
    for name, text in files.items():
        (repo / name).write_text(text)
    os.environ["UPSTREAM"] = "http://127.0.0.1:9"
    try:
        result = run("serve", "--port", "0", *args)
    finally:
        del os.environ["UPSTREAM"]
    assert result.code == 1
    assert expected in result.err
    assert "Traceback" not in result.err


def test_without_the_serve_extra_it_says_how_to_install_it(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "tools.d" / "t.yaml").write_text(TOOL.replace("${UPSTREAM}", "http://127.0.0.1:9"))
    for name in [name for name in sys.modules if name.startswith("reconciler.serve")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn now raises ImportError
    result = run("serve", "--port", "0")
    assert result.code == 1
    assert result.err.strip() == (
        f"error: reconciler serve needs the serve extra: {sys.executable} -m pip install 'reconciler[serve]' "
        "(uvicorn is missing)"
    )


def test_a_stopping_service_waits_as_long_as_its_slowest_tool_may_take(upstream: Upstream) -> None:
    # uvicorn cancels what is still running once its graceful-shutdown time is over: the caller's connection is
    # dropped and the call never reaches the audit log. A tool may take up to 60 s (its `timeout`), so a fixed
    # 30 s cut calls that SIGTERM promises to finish. (Waiting 60 s for real here would cost a minute per run.)
    from reconciler.model import SourceLocation, Tool
    from reconciler.runtime import Runtime
    from reconciler.serve import Service, bind, make_server

    def tool(name: str, timeout: float | None) -> Tool:
        schema = {"type": "object", "properties": {}}
        return Tool(name, "d", upstream.url, schema, SourceLocation("t.yaml"), timeout=timeout)

    sock = bind("127.0.0.1", 0)
    try:
        for tools, least in (([tool("slow", 60), tool("quick", None)], 60), ([tool("quick", None)], 5)):
            server = make_server(Service(Runtime(tools)), sock, lambda url: None)
            assert server.config.timeout_graceful_shutdown is not None
            assert least < server.config.timeout_graceful_shutdown <= max(least + 5, 30)
    finally:
        sock.close()


def test_an_audit_log_fifo_nobody_reads_is_an_error_not_a_hang(repo: Path, upstream: Upstream) -> None:
    # Opening a FIFO to append waits for a reader, forever: the service never started and said nothing.
    (repo / "tools.d" / "t.yaml").write_text(TOOL)
    os.mkfifo(repo / "audit.fifo")
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "serve", "--port", "0", "--audit-log", "audit.fifo"],
        check=False,
        cwd=repo,
        env={**os.environ, "UPSTREAM": upstream.url},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "error: --audit-log audit.fifo: a FIFO that nobody reads; start its reader first, or name a file\n"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (every write fails: disk full)")
def test_an_audit_line_that_cannot_be_written_leaves_the_answer_and_turns_readiness_off(
    repo: Path, upstream: Upstream
) -> None:
    # The call has happened when its audit line is written: a 500 then made a model (or its runtime) repeat a
    # call that must not be repeated (an order placed twice). The answer goes back; the failure is on stderr
    # (without values), in /metrics, and /readyz sends the load balancer's calls to a replica that can audit.
    (repo / "tools.d" / "t.yaml").write_text(TOOL)
    process, url = start(repo, "--audit-log", "/dev/full", env={"UPSTREAM": upstream.url})
    try:
        with httpx.Client(base_url=url, timeout=20) as client:
            assert client.get("/readyz").status_code == 200
            answers = [client.post("/tools/check", json={"parameters": {"sku": "sku-secret-4711"}}) for _ in "ab"]
            ready = client.get("/readyz")
            metrics = client.get("/metrics").text
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        process.kill()
        _, err = process.communicate()
    assert [(a.status_code, a.json()["status"], a.json()["output"]) for a in answers] == [
        (200, "success", {"ok": True})
    ] * 2
    assert len(upstream.received) == 2  # each call made once
    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "not ready", "reason": "the audit log cannot be written"},
    )
    [counted] = [line for line in metrics.splitlines() if line.startswith("reconciler_audit_write_failures_total")]
    assert counted.endswith(" 2.0")
    assert err.count("audit log /dev/full: a line could not be written (ENOSPC: No space left on device)") == 1
    assert "sku-secret-4711" not in err and "Traceback" not in err


def test_a_drain_of_nan_seconds_is_refused_not_a_drain_that_never_ends(repo: Path, upstream: Upstream) -> None:
    # click's FloatRange(0, 600) passes NaN (each comparison is false); after SIGTERM the service then answered
    # on and never closed, until a second signal or the supervisor's SIGKILL cut the calls in flight
    (repo / "tools.d" / "t.yaml").write_text(TOOL)
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "serve", "--port", "0", "--drain-seconds", "nan"],
        check=False,
        cwd=repo,
        env={**os.environ, "UPSTREAM": upstream.url},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "error: --drain-seconds nan: give a number of seconds from 0 to 600\n"


ECHO_SPEC = """openapi: 3.0.3
info: {title: echo, version: '1'}
servers: [{url: 'https://echo.example.com'}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
    query: {type: apiKey, in: query, name: api_key}
    basic: {type: http, scheme: basic}
paths:
  /json: {get: {operationId: echoJson, security: [{key: []}], responses: {'200': {description: ok}}}}
  /text: {get: {operationId: echoText, security: [{query: []}], responses: {'200': {description: ok}}}}
  /basic: {get: {operationId: echoBasic, security: [{basic: []}], responses: {'200': {description: ok}}}}
"""


class _Echo:
    """An upstream that answers what it received: its path and headers, as JSON (keys and values, a header's value
    JSON-escaped as PHP writes `/`), or as plain text."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                headers = dict(self.headers.items())
                if self.path.startswith("/text"):
                    data, kind = f"GET {self.path}\n{headers}".encode(), "text/plain"
                else:
                    keys = {value: name for name, value in headers.items()}
                    echoed = {"path": self.path, "headers": headers, "keys": keys}
                    data, kind = json.dumps(echoed).replace("/", "\\/").encode(), "application/json"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_upstream_echoing_the_credential_serve_sent_never_puts_it_in_the_models_context(repo: Path) -> None:
    # The key is the operator's, given to serve for the upstream, not the model's: an upstream that echoes the
    # request (a debug endpoint, an error page quoting the URL) would put it in the model's context, its replies
    # and every transcript and log downstream, and a prompt injection could ask the model for it.
    key, password = "sk-live/0123456789abcdef", "hunter2-correct-horse"
    (repo / "spec.yaml").write_text(ECHO_SPEC)
    (repo / "tools.d" / "src.yaml").write_text(
        "source:\n  openapi: ../spec.yaml\n  endpoint_base: ${UPSTREAM}\n"
        "  credentials: {key: '${API_KEY}', query: '${API_KEY}', basic: '${BASIC}'}\n"
    )
    echo = _Echo()
    env = {"UPSTREAM": echo.url, "API_KEY": key, "BASIC": f"svc:{password}"}
    process, url = start(repo, "--audit-log", "audit.jsonl", env=env)
    try:
        answers = {
            name: httpx.post(f"{url}/tools/{name}", json={"parameters": {}}, timeout=20)
            for name in ("echoJson", "echoText", "echoBasic")
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
        process.communicate()
        echo.close()
    token = base64.b64encode(f"svc:{password}".encode()).decode()
    for name, answer in answers.items():
        assert answer.status_code == 200, answer.text
        text = answer.text
        for secret in (key, key.replace("/", "\\/"), key.replace("/", "%2F"), password, token):
            assert secret not in text, (name, text)
        assert "(sensitive)" in text, (name, text)
    echoed = answers["echoJson"].json()["output"]
    assert echoed["headers"]["X-Api-Key"] == "(sensitive)"
    assert echoed["keys"]["(sensitive)"] == "X-Api-Key"  # a key of the answer too
    assert echoed["path"] == "/json" and echoed["headers"]["Host"].startswith("127.0.0.1:")  # the rest as it was
    assert answers["echoText"].json()["output"].startswith("GET /text?api_key=(sensitive)\n")
    assert answers["echoBasic"].json()["output"]["headers"]["Authorization"] == "Basic (sensitive)"


UTF16_SPEC = """openapi: 3.0.3
info: {title: echo, version: '1'}
servers: [{url: 'https://echo.example.com'}]
components:
  securitySchemes:
    query: {type: apiKey, in: query, name: api_key}
security: [{query: []}]
paths:
  /labelled: {get: {operationId: labelled, responses: {'200': {description: ok}}}}
  /labelled-le: {get: {operationId: labelledLe, responses: {'200': {description: ok}}}}
  /json: {get: {operationId: json16, responses: {'200': {description: ok}}}}
  /bom-only: {get: {operationId: bomOnly, responses: {'200': {description: ok}}}}
  /bare: {get: {operationId: bare, responses: {'200': {description: ok}}}}
"""
UTF16_ANSWERS = {  # path: (Content-Type, codec): what each echo answers its request line in
    "/labelled": ("text/plain; charset=utf-16", "utf-16"),  # a byte order mark and the label
    "/labelled-le": ("text/plain; charset=UTF-16LE", "utf-16-le"),  # the label only
    "/json": ("application/json; charset=utf-16", "utf-16"),
    "/bom-only": ("text/plain", "utf-16"),  # the mark only
    "/bare": ("text/plain", "utf-16-le"),  # neither: a broken upstream, read as UTF-8
}


def test_an_upstream_echoing_the_credential_in_utf_16_never_puts_it_in_the_models_context(repo: Path) -> None:
    """An answer in UTF-16 (as a Windows service may send it) is text that holds the key as any other: each is
    read in its charset, or by its byte order mark (as browsers read one), and the key comes out `(sensitive)`.
    One with neither is read as UTF-8, its letters then stand between NULs: the key is hidden in that form too."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    key = "sk-live-0123456789abcdef"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            kind, codec = UTF16_ANSWERS[self.path.partition("?")[0]]
            said = json.dumps({"echo": self.path}) if kind.startswith("application/json") else f"GET {self.path}"
            data = said.encode(codec)
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (repo / "spec.yaml").write_text(UTF16_SPEC)
    (repo / "tools.d" / "src.yaml").write_text(
        "source:\n  openapi: ../spec.yaml\n  endpoint_base: ${UPSTREAM}\n  credentials: {query: '${API_KEY}'}\n"
    )
    env = {"UPSTREAM": f"http://127.0.0.1:{server.server_address[1]}", "API_KEY": key}
    process, url = start(repo, env=env)
    try:
        names = ("labelled", "labelledLe", "json16", "bomOnly", "bare")
        outputs = {
            name: httpx.post(f"{url}/tools/{name}", json={"parameters": {}}, timeout=20).json()["output"]
            for name in names
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
        process.communicate()
        server.shutdown()
        server.server_close()
    assert outputs["labelled"] == "GET /labelled?api_key=(sensitive)"
    assert outputs["labelledLe"] == "GET /labelled-le?api_key=(sensitive)"
    assert outputs["json16"] == {"echo": "/json?api_key=(sensitive)"}
    assert outputs["bomOnly"] == "GET /bom-only?api_key=(sensitive)"
    assert key not in outputs["bare"].replace("\x00", "")
    assert "(sensitive)" in outputs["bare"]
