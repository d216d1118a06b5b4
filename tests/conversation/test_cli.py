"""`reconciler test` and `reconciler chat` through the CLI: the embedded emulator without credentials, the org's
gateway (a loopback emulator) with them, the repository's own conversations.d, and what a user reads."""

from __future__ import annotations

import ctypes
import functools
import io
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from conversation_helpers import ToolEndpoint

from reconciler.emulator import RunningEmulator
from tests.ctrl_c import threads_that_may_take_ctrl_c

ROOT = Path(__file__).resolve().parents[2]
Start = Callable[..., RunningEmulator]
ALARM = re.compile(r"fail|error|mismatch", re.IGNORECASE)
ORDER = """\
name: order
state: {user_id: USR-1, session_token: tok_1}
stubs: {get_order_status: {status: shipped}}
turns:
  - user: Where is 123?
    expect:
      tool_calls: [{name: get_order_status, arguments: {order_id: "123"}}]
      reply_contains: shipped
    script:
      - tool_calls: [{name: get_order_status, arguments: {order_id: "123"}}]
      - content: "{{tool:get_order_status}}"
"""
FOREVER = """\
name: forever
state: {user_id: USR-1}
stubs: {check_inventory: {available: 0}}
turns:
  - user: check forever
    script: [{tool_calls: [{name: check_inventory, arguments: {sku: S}}], repeat: true}]
"""
WRONG = ORDER.replace('arguments: {order_id: "123"}}]\n      reply', 'arguments: {order_id: "9"}}]\n      reply')


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's tools.d and conversations.d, as the current directory."""
    shutil.copytree(ROOT / "tools.d", tmp_path / "tools.d")
    shutil.copytree(ROOT / "conversations.d", tmp_path / "conversations.d")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_shipped_conversations_pass_with_no_credentials(project: Path, run: Any) -> None:
    result = run("test")
    assert result.code == 0, result.output
    assert "ok    conversations.d/order_status.yaml (3 turns, 4 tool calls)" in result.out
    assert "gateway: the embedded emulator" in result.err
    assert not ALARM.search(result.out)


def test_the_shipped_conversation_runs_its_tools_for_real_when_unstubbed(
    project: Path, run: Any, endpoint: ToolEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No stubs: the Runtime forwards each call to the tool's endpoint (loopback), context filled from state."""
    monkeypatch.setenv("TOOLS_BASE_URL", endpoint.url)
    endpoint.answers = {
        "/api/v1/tools/order_status": (200, {"status": "shipped"}),
        "/api/v1/tools/check_inventory": (200, {"available": 12}),
        "/api/v1/tools/cancel_order": (200, {"cancelled": True}),
    }
    shipped = project / "conversations.d" / "order_status.yaml"
    text = shipped.read_text(encoding="utf-8")
    shipped.write_text(re.sub(r"stubs:\n(  .*\n)+", "", text), encoding="utf-8")
    result = run("test")
    assert result.code == 0, result.output
    assert [body["parameters"] for body in endpoint.bodies("/api/v1/tools/order_status")] == [{"order_id": "123"}]
    assert endpoint.bodies("/api/v1/tools/order_status")[0]["conversation"] == {
        "user_id": "USR-4492",
        "session_token": "tok_9981",
    }
    inventory = endpoint.bodies("/api/v1/tools/check_inventory")
    assert sorted(b["parameters"]["warehouse_id"] for b in inventory) == ["W1", "W2"]
    assert endpoint.bodies("/api/v1/tools/cancel_order") == [
        {
            "tool_name": "cancel_order",
            "parameters": {"order_id": "456", "reason": "changed_mind"},
            "user_id": "USR-4492",
            "conversation": {"user_id": "USR-4492"},
        }
    ]


def test_failures_name_file_and_line_the_bound_fails_its_file_and_the_run_goes_on(project: Path, run: Any) -> None:
    folder = project / "conversations.d"
    (folder / "a_wrong.yaml").write_text(WRONG, encoding="utf-8")
    (folder / "b_forever.yaml").write_text(FOREVER, encoding="utf-8")
    (folder / "c_fine.yaml").write_text(ORDER, encoding="utf-8")
    result = run("test", "--max-turns", "5")
    assert result.code == 1
    lines = result.out.splitlines()
    assert "FAIL  conversations.d/a_wrong.yaml" in lines
    assert (
        '  conversations.d/a_wrong.yaml:7:20: turn 1: expected a call of get_order_status({"order_id": "9"}) '
        '(arguments as a subset, in order); the calls were: get_order_status({"order_id": "123"})'
    ) in lines
    assert (
        "  conversations.d/b_forever.yaml:5:5: turn 1: the turn bound stopped it: 5 model calls without a final "
        "answer (--max-turns raises it, up to 49); the rest of this file was not run"
    ) in lines
    passing = [line for line in lines if "c_fine.yaml" in line or "order_status.yaml" in line]
    assert passing == [
        "ok    conversations.d/c_fine.yaml (1 turn, 1 tool call)",
        "ok    conversations.d/order_status.yaml (3 turns, 4 tool calls)",
    ]
    assert not any(ALARM.search(line) for line in passing)
    assert "2 of 4 conversations failed" in result.err


def test_transcripts_are_written_per_file_with_secrets_redacted(
    project: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDER_SESSION_TOKEN", "tok_from_env_77")
    nested = project / "conversations.d" / "nested"
    nested.mkdir()
    text = ORDER.replace("session_token: tok_1", "session_token: '${ORDER_SESSION_TOKEN}'")
    (nested / "env.yaml").write_text(
        text.replace("user: Where is 123?", "user: 'Where is 123? ${ORDER_SESSION_TOKEN}'")
    )
    result = run("test", "--transcripts", "out")
    assert result.code == 0, result.output
    written = sorted(p.relative_to(project / "out").as_posix() for p in (project / "out").rglob("*.json"))
    assert written == ["nested/env.json", "order_status.json"]
    text = (project / "out" / "nested" / "env.json").read_text(encoding="utf-8")
    assert "tok_from_env_77" not in text
    assert json.loads(text)["turns"][0]["user"] == "Where is 123? (sensitive)"
    calls = json.loads(text)["turns"][0]["tool_calls"]
    assert [(c["tool"], c["arguments"], c["status"]) for c in calls] == [
        ("get_order_status", {"order_id": "123"}, "success")
    ]


def test_github_format_annotates_the_conversation_file(project: Path, run: Any) -> None:
    (project / "conversations.d" / "wrong.yaml").write_text(WRONG, encoding="utf-8")
    result = run("test", "--format", "github")
    assert result.code == 1
    assert result.out.startswith("ok    conversations.d/order_status.yaml")
    assert "::error file=conversations.d/wrong.yaml,line=7,col=20,title=reconciler::turn 1: expected a call" in (
        result.out
    )


def test_github_format_annotates_a_broken_conversation_file(project: Path, run: Any) -> None:
    (project / "conversations.d" / "broken.yaml").write_text("name: x\nturns: [{user: 5}]\n", encoding="utf-8")
    result = run("test", "--format", "github")
    assert result.code == 1
    assert result.out == (
        "::error file=conversations.d/broken.yaml,line=2,col=10,title=reconciler::'turns.0.user' must be a string: "
        "what the user says\n"
    )


def test_json_format_reports_each_file(project: Path, run: Any) -> None:
    (project / "conversations.d" / "wrong.yaml").write_text(WRONG, encoding="utf-8")
    result = run("test", "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["ok"] is False
    by_file = {c["file"]: c for c in report["conversations"]}
    assert by_file["conversations.d/order_status.yaml"]["ok"] is True
    assert by_file["conversations.d/wrong.yaml"]["problems"][0]["line"] == 7


def test_a_broken_conversation_file_is_named_and_nothing_runs(project: Path, run: Any) -> None:
    (project / "conversations.d" / "broken.yaml").write_text("name: x\nturns:\n  - usr: hi\n", encoding="utf-8")
    result = run("test")
    assert result.code == 1
    assert "conversations.d/broken.yaml:3:5: error: unknown key 'usr' in turns.0; did you mean 'user'?" in result.err
    assert "gateway:" not in result.err  # refused before any gateway was opened
    assert "Traceback" not in result.output


def test_chat_answers_one_message_on_stdout_and_writes_the_transcript(project: Path, run: Any) -> None:
    state = project / "state.yaml"
    state.write_text("user_id: USR-1\nsession_token: tok_secret_1\n", encoding="utf-8")
    result = run("chat", "--message", "hello there", "--state", str(state), "--transcript", "t.json")
    assert result.code == 0, result.output
    assert result.out == "(emulated model, no script) You said: hello there\n"
    data = json.loads((project / "t.json").read_text(encoding="utf-8"))
    assert data["turns"][0]["stop_reason"] == "answered"
    assert data["state_keys"] == ["session_token", "user_id"]
    assert "tok_secret_1" not in (project / "t.json").read_text(encoding="utf-8")


def test_chat_reads_one_line_of_stdin(project: Path, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin\nnot read\n"))
    result = run("chat")
    assert result.code == 0, result.output
    assert result.out == "(emulated model, no script) You said: from stdin\n"


def test_chat_finds_the_gateway_like_plan_does_with_client_credentials(
    project: Path, run: Any, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = start(client_id="chat-client", client_secret="chat-s3cret")
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", running.url)
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_ID", "chat-client")
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_SECRET", "chat-s3cret")
    result = run("chat", "-m", "hi")
    assert result.code == 0, result.output
    assert f"gateway: {running.url}" in result.err
    assert running.tokens.issued == 1
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_SECRET", "wrong-secret")
    refused = run("chat", "-m", "hi")
    assert refused.code == 1
    assert "refused the credentials" in refused.err
    assert "wrong-secret" not in refused.output


def test_a_state_file_that_is_not_a_mapping_is_named(project: Path, run: Any) -> None:
    (project / "state.yaml").write_text("- USR-1\n", encoding="utf-8")
    result = run("chat", "-m", "hi", "--state", "state.yaml")
    assert result.code == 1
    assert "state.yaml:1:1: error: the state file must hold one mapping, such as {user_id: USR-1}" in result.err
    assert result.out == ""


def test_chat_refuses_an_empty_message(project: Path, run: Any) -> None:
    result = run("chat", "--message", " ")
    assert result.code == 1
    assert "--message is empty" in result.err


@pytest.mark.parametrize("bound", ["0", "50"])
def test_the_turn_bound_stays_below_50(project: Path, run: Any, bound: str) -> None:
    result = run("chat", "-m", "hi", "--max-turns", bound)
    assert result.code == 1
    assert "1<=x<=49" in result.err


def test_the_real_cli_runs_the_shipped_conversations(project: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "reconciler", "test", "--format", "github"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "ok    conversations.d/order_status.yaml (3 turns, 4 tool calls)\n"


def test_chat_on_a_terminal_takes_one_message_after_another_until_an_empty_line(project: Path) -> None:
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "chat", "--transcript", "t.json"],
        cwd=project,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )
    os.close(secondary)
    try:
        os.write(primary, b"first\nsecond\n\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(primary)
    assert process.returncode == 0, err
    assert out == "(emulated model, no script) You said: first\n(emulated model, no script) You said: second\n"
    assert err.count("you> ") == 3
    turns = json.loads((project / "t.json").read_text(encoding="utf-8"))["turns"]
    assert [t["user"] for t in turns] == ["first", "second"]


def test_a_separate_emulator_named_by_the_api_url_gets_the_scripts(
    project: Path, run: Any, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = start(client_id="ci-client", client_secret="ci-s3cret")
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", running.url)
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_ID", "ci-client")
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_SECRET", "ci-s3cret")
    result = run("test")
    assert result.code == 0, result.output
    assert f"gateway: {running.url}" in result.err
    assert running.stats.by_method["POST"] == 1 + 6  # one token, six model calls (three turns of two)


def _read_until(stream: Any, wanted: bytes, *, seconds: float = 60.0) -> bytes:
    """What `stream` (a pipe) gave until `wanted` appeared in it: the child's own signal that it got there."""
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([stream], [], [], max(left, 0))
        chunk = os.read(stream.fileno(), 4096) if ready else b""
        if not chunk:
            raise AssertionError(f"never saw {wanted!r}; saw {seen!r}")
        seen += chunk
    return seen


def _ctrl_c_on_another_thread(pid: int) -> None:
    """SIGINT to one thread of process `pid` that is not its main thread, as Linux may deliver a Ctrl-C (it picks
    any thread that does not block the signal); Python runs its handler on the main thread only. Never to a
    thread that blocks it, which the kernel never picks: there it would wait, unheard, for good."""
    tgkill = getattr(ctypes.CDLL(None, use_errno=True), "tgkill", None)
    threads = [thread for thread in threads_that_may_take_ctrl_c(pid) if thread != pid]
    assert tgkill is not None and threads, threads
    assert tgkill(pid, threads[-1], signal.SIGINT) == 0, ctypes.get_errno()


def _ctrl_c(process: subprocess.Popen[bytes], where: str) -> None:
    if where == "another thread":
        _ctrl_c_on_another_thread(process.pid)
    else:
        process.send_signal(signal.SIGINT)


WHERE = [
    "process",
    pytest.param(
        "another thread",
        marks=pytest.mark.skipif(
            not sys.platform.startswith("linux") or not hasattr(ctypes.CDLL(None), "tgkill"),
            reason="a signal to one thread of another process: Linux (glibc 2.30+) only",
        ),
    ),
]


def _stderr_once_ended(process: subprocess.Popen[bytes], what: str) -> bytes:
    """The rest of `process`'s stderr once it has ended after a Ctrl-C; 60 s is a hang guard, not a deadline."""
    try:
        return process.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"{what} was still running 60 s after Ctrl-C") from None


def _interrupt_chat(
    project: Path, env: dict[str, str], wait_for: Callable[[Any], object], where: str = "process"
) -> tuple[int, str]:
    """Start `chat` on a terminal, wait until `wait_for(stderr)` returns, press Ctrl-C (delivered to the process
    or to one of its other threads); its exit code and stderr."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "chat", "--transcript", "t.json"],
        cwd=project,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", **env},
    )
    os.close(secondary)
    try:
        seen = _read_until(process.stderr, b"you> ")
        wait_for(primary)
        if where == "another thread":
            time.sleep(0.2)  # the thread that reads the next line has started (any thread but main will do)
        _ctrl_c(process, where)
        rest = _stderr_once_ended(process, "chat")
    finally:
        os.close(primary)
    return process.returncode, (seen + rest).decode()


@pytest.mark.parametrize("where", WHERE)
def test_ctrl_c_at_the_chat_prompt_ends_the_conversation_at_once(project: Path, where: str) -> None:
    """Whichever thread the kernel hands the signal to: on another one, chat waited at its prompt for good."""
    code, err = _interrupt_chat(project, {}, lambda terminal: None, where)
    assert code == 130, err
    assert "interrupted" in err
    assert json.loads((project / "t.json").read_text(encoding="utf-8"))["turns"] == []


class _SilentGateway:
    """A gateway that answers its first requests from `first`, then never: it notes a request it leaves
    unanswered (`asked`) and keeps its connection open."""

    def __init__(self, first: list[Any] | None = None) -> None:
        self.asked = threading.Event()
        answers = list(first or [])
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if answers:
                    data = json.dumps(answers.pop(0)).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                gateway.asked.set()
                gateway.stop.wait()

        self.stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("where", WHERE)
def test_ctrl_c_while_the_gateway_thinks_ends_the_conversation_at_once(
    project: Path, endpoint: ToolEndpoint, where: str
) -> None:
    """The model called a tool, and Ctrl-C came while it read the result: the exit is at once, and the transcript
    keeps the call that ran (stop_reason interrupted)."""
    call = {"id": "c1", "type": "function", "function": {"name": "check_inventory", "arguments": '{"sku": "S-1"}'}}
    silent = _SilentGateway(first=[_answer(content=None, tool_calls=[call])])
    url = f"http://127.0.0.1:{silent.server.server_address[1]}"
    environment = {"GENESYS_CLOUD_API_URL": url, "GENESYS_CLOUD_ACCESS_TOKEN": "local", "TOOLS_BASE_URL": endpoint.url}

    def ask(terminal: int) -> None:
        os.write(terminal, b"where is my order?\n")
        assert silent.asked.wait(30)

    try:
        code, err = _interrupt_chat(project, environment, ask, where)
    finally:
        silent.close()
    assert code == 130, err
    assert "interrupted" in err
    assert endpoint.bodies("/api/v1/tools/check_inventory") == [
        {"tool_name": "check_inventory", "parameters": {"sku": "S-1"}}
    ]
    turns = json.loads((project / "t.json").read_text(encoding="utf-8"))["turns"]
    assert [(t["user"], t["stop_reason"], t["model_calls"]) for t in turns] == [
        ("where is my order?", "interrupted", 2)
    ]
    assert [(c["tool"], c["status"]) for c in turns[0]["tool_calls"]] == [("check_inventory", "success")]


def _answer(**message: Any) -> dict[str, Any]:
    """A chat completion whose first choice is the assistant `message` (finish reason as OpenAI sets it)."""
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {"choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}]}


class _ScriptedGateway:
    """A gateway on loopback that answers its requests, one after another, from `answers`: (status, body, headers)."""

    def __init__(self, answers: list[tuple[int, Any, dict[str, str]]]) -> None:
        self.bodies: list[Any] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                gateway.bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
                status, body, headers = answers[len(gateway.bodies) - 1]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted_gateway(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[list[tuple[int, Any, dict[str, str]]]], _ScriptedGateway]]:
    """A `_ScriptedGateway` that the CLI's gateway variables point at, closed when the test ends."""
    opened: list[_ScriptedGateway] = []

    def serve(answers: list[tuple[int, Any, dict[str, str]]]) -> _ScriptedGateway:
        gateway = _ScriptedGateway(answers)
        opened.append(gateway)
        monkeypatch.setenv("GENESYS_CLOUD_API_URL", gateway.url)
        monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "local")
        return gateway

    yield serve
    for gateway in opened:
        gateway.close()


def test_a_long_wait_for_the_gateway_is_said_on_stderr(
    project: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As plan says so when the API makes it wait: a chat that waits 30 s for a 429 is not silent meanwhile."""
    from reconciler.api import RetryPolicy

    slept: list[float] = []
    monkeypatch.setattr("reconciler.cli.chat.RetryPolicy", functools.partial(RetryPolicy, sleep=slept.append))
    slow_down = {"message": "slow down", "code": "too.many.requests", "status": 429}
    busy = _ScriptedGateway([(429, slow_down, {"Retry-After": "30"}), (200, _answer(content="all good"), {})])
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", busy.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "local")
    try:
        result = run("chat", "-m", "hi")
    finally:
        busy.close()
    assert result.code == 0, result.output
    assert result.out == "all good\n"
    assert slept == [30.0]
    assert "waiting 30 s before trying POST a chat completion (model 'default') again (429)" in result.err


def test_a_gateway_500_is_retried_with_backoff(project: Path, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """DESIGN §9: the loop "retries 5xx with backoff"; a completion changes nothing, so a 500 is worth another try
    (as the openai package does), where a registry write's 500 is not."""
    from reconciler.api import RetryPolicy

    slept: list[float] = []
    monkeypatch.setattr("reconciler.cli.chat.RetryPolicy", functools.partial(RetryPolicy, sleep=slept.append))
    broken = {"message": "The server had an error", "code": "internal.server.error", "status": 500}
    flaky = _ScriptedGateway([(500, broken, {}), (500, broken, {}), (200, _answer(content="all good"), {})])
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", flaky.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "local")
    try:
        result = run("chat", "-m", "hi")
    finally:
        flaky.close()
    assert result.code == 0, result.output
    assert result.out == "all good\n"
    assert len(flaky.bodies) == 3 and len(slept) == 2
    assert slept[1] > slept[0] - 0.5  # backoff: the second wait is not shorter (jitter up to 0.5 s)


LEAKY = """\
name: leaky
state: {user_id: USR-1, session_token: "${ORDER_SESSION}"}
stubs: {get_order_status: {status: shipped}, check_inventory: {available: 1}}
turns:
  - user: hi
    expect:
      tool_calls: [{name: get_order_status}, {name: check_inventory, arguments: {sku: S-2}}]
      reply_contains: nothing
    script:
      - tool_calls:
          - {name: get_order_status, arguments: {order_id: "1", session_token: "${ORDER_SESSION}"}}
          - {name: check_inventory, arguments: {sku: S-1, api_key: k-live-123}}
      - content: "echo ${ORDER_SESSION}"
"""


@pytest.mark.parametrize("output_format", ["text", "github", "json"])
def test_a_failure_shows_what_the_transcript_redacts_as_sensitive(
    project: Path, run: Any, monkeypatch: pytest.MonkeyPatch, output_format: str
) -> None:
    """A secret-named state entry (from a plainly named CI variable), a context parameter the model set itself and
    a secret-named argument are `(sensitive)` in the transcript; the failure lines in the CI log hide them too."""
    monkeypatch.setenv("ORDER_SESSION", "sess-abc-123")
    (project / "conversations.d" / "leaky.yaml").write_text(LEAKY, encoding="utf-8")
    result = run("test", "--format", output_format, "--transcripts", "out")
    assert result.code == 1
    transcript = (project / "out" / "leaky.json").read_text(encoding="utf-8")
    for secret in ("sess-abc-123", "k-live-123"):
        assert secret not in transcript
        assert secret not in result.output
    shown = result.out
    if output_format == "json":
        shown = "\n".join(p["message"] for c in json.loads(result.out)["conversations"] for p in c["problems"])
    assert 'get_order_status({"order_id": "1", "session_token": "(sensitive)"})' in shown
    assert 'check_inventory({"api_key": "(sensitive)", "sku": "S-1"})' in shown
    assert "it was 'echo (sensitive)'" in shown


def test_a_turn_the_gateway_broke_off_keeps_its_tool_calls_in_the_transcript(
    scripted_gateway: Any, project: Path, run: Any, endpoint: ToolEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model cancelled the order, then the gateway refused the next request: the cancel really happened
    upstream, so the transcript (the record of what the model did) must show it, and why the turn ended."""
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "cancel_order", "arguments": '{"order_id": "456", "reason": "other"}'},
    }
    refused = {"message": "the conversation is too long for model default", "code": "bad.request", "status": 400}
    scripted_gateway([(200, _answer(content=None, tool_calls=[call]), {}), (400, refused, {})])
    monkeypatch.setenv("TOOLS_BASE_URL", endpoint.url)
    (project / "state.yaml").write_text("user_id: USR-1\n", encoding="utf-8")
    result = run("chat", "-m", "cancel 456", "--state", "state.yaml", "--transcript", "t.json")
    assert result.code == 1
    assert "too long" in result.err
    assert "  tool cancel_order (" in result.err  # said before the error, as a turn that ends well says it
    assert [body["parameters"] for body in endpoint.bodies("/api/v1/tools/cancel_order")] == [
        {"order_id": "456", "reason": "other"}
    ]
    turns = json.loads((project / "t.json").read_text(encoding="utf-8"))["turns"]
    assert [(t["user"], t["reply"], t["stop_reason"], t["model_calls"]) for t in turns] == [
        ("cancel 456", None, "gateway_error", 2)
    ]
    assert "too long" in turns[0]["stop_message"]
    assert [(c["tool"], c["status"]) for c in turns[0]["tool_calls"]] == [("cancel_order", "success")]


@pytest.mark.parametrize("broken", ["conversations.d/broken.yaml", "tools.d/broken.yaml"])
def test_json_format_reports_a_broken_file_as_json_and_runs_nothing(project: Path, run: Any, broken: str) -> None:
    """A machine reads stdout: a broken conversation file, or a broken tool, is a JSON report too, not silence."""
    (project / broken).write_text("name: x\nturns:\n  - usr: hi\n", encoding="utf-8")
    result = run("test", "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["ok"] is False
    assert report["conversations"] == []
    problems = [(p["file"], p["line"], p["severity"]) for p in report["diagnostics"]]
    assert (broken, 3 if broken.startswith("conv") else 1, "error") in problems
    assert "gateway:" not in result.err


def test_github_format_annotates_a_broken_tool_file_too(project: Path, run: Any) -> None:
    (project / "tools.d" / "broken.yaml").write_text("name: 5\n", encoding="utf-8")
    result = run("test", "--format", "github")
    assert result.code == 1
    assert "::error file=tools.d/broken.yaml,line=1,col=1,title=reconciler::'name' must be a string" in result.out


@pytest.mark.parametrize(
    ("finish", "content", "said"),
    [
        ("length", "Your order 123 has shi", "cut short: the model reached its token limit (finish_reason length)"),
        ("content_filter", None, "withheld by the gateway's content filter (finish_reason content_filter)"),
    ],
)
def test_an_answer_the_model_did_not_finish_is_said_so(
    scripted_gateway: Any,
    project: Path,
    run: Any,
    finish: str,
    content: str | None,
    said: str,
) -> None:
    """OpenAI's finish_reason `length` (cut at max tokens) and `content_filter` are not a finished answer: chat
    says so on stderr instead of passing a truncated or empty answer off as the model's reply, and the
    transcript keeps the reason."""
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}]}
    scripted_gateway([(200, answer, {})])
    result = run("chat", "-m", "where is 123?", "--transcript", "t.json")
    assert result.code == 0, result.output  # an answer was given; stdout holds it as it came
    assert result.out == (content or "") + "\n"
    assert f"note: the answer was {said}" in result.err
    turn = json.loads((project / "t.json").read_text(encoding="utf-8"))["turns"][0]
    assert (turn["stop_reason"], turn["finish_reason"]) == ("answered", finish)
    assert said in turn["stop_message"]


def test_a_refusal_is_the_answer_shown_not_an_empty_line(scripted_gateway: Any, project: Path, run: Any) -> None:
    """OpenAI's answer to a request the model declines has `content: null` and the text in `refusal`."""
    from openai.types.chat import ChatCompletion

    answer = ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": None, "refusal": "I can't help with that."},
                }
            ],
        }
    )
    scripted_gateway([(200, answer.model_dump(mode="json"), {})])
    result = run("chat", "-m", "help me break in", "--transcript", "t.json")
    assert result.code == 0, result.output
    assert result.out == "I can't help with that.\n"
    assert "note: the answer was a refusal by the model (finish_reason refusal)" in result.err
    turn = json.loads((project / "t.json").read_text(encoding="utf-8"))["turns"][0]
    assert (turn["reply"], turn["finish_reason"]) == ("I can't help with that.", "refusal")


@pytest.mark.parametrize("ids", [["", ""], [None, None], ["same", "same"]])
def test_parallel_calls_without_distinct_ids_get_their_own(
    scripted_gateway: Any, project: Path, run: Any, ids: list[str | None]
) -> None:
    """Some OpenAI-compatible endpoints (Gemini's, LM Studio) send tool calls with empty, missing or repeated
    ids: each result must still go back under an id of its own, matching its call, or the model cannot tell
    which result answers which call (and a strict gateway refuses the request)."""
    calls = []
    for index, call_id in enumerate(ids):
        call: dict[str, Any] = {"type": "function", "function": {"name": "check_inventory", "arguments": "{}"}}
        call["function"]["arguments"] = json.dumps({"sku": f"S-{index}"})
        if call_id is not None:
            call["id"] = call_id
        calls.append(call)
    gateway = scripted_gateway([(200, _answer(content=None, tool_calls=calls), {}), (200, _answer(content="ok"), {})])
    result = run("chat", "-m", "stock?")
    assert result.code == 0, result.output
    messages = gateway.bodies[1]["messages"]
    asked = [call["id"] for call in messages[1]["tool_calls"]]
    answered = [message["tool_call_id"] for message in messages[2:]]
    assert len(set(asked)) == 2 and all(asked)
    assert answered == asked


def test_transcripts_of_files_that_share_a_stem_are_both_written(project: Path, run: Any) -> None:
    folder = project / "conversations.d"
    (folder / "a.yaml").write_text("name: yaml one\nturns: [{user: from yaml}]\n", encoding="utf-8")
    (folder / "a.json").write_text('{"name": "json one", "turns": [{"user": "from json"}]}', encoding="utf-8")
    result = run("test", "--transcripts", "out")
    assert result.code == 0, result.output
    written = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (project / "out").glob("*.json")}
    assert sorted(written) == ["a.json.json", "a.yaml.json", "order_status.json"]
    assert written["a.json.json"]["turns"][0]["user"] == "from json"
    assert written["a.yaml.json"]["turns"][0]["user"] == "from yaml"


@pytest.mark.parametrize("where", ["conversations.d", "conversations.d/out"])
def test_transcripts_are_not_written_among_the_conversation_files(project: Path, run: Any, where: str) -> None:
    """They would overwrite a JSON conversation file, or be read as conversation files by the next run."""
    shipped = (project / "conversations.d" / "order_status.yaml").read_text(encoding="utf-8")
    (project / "conversations.d" / "order_status.json").write_text(json.dumps(yaml.safe_load(shipped)), "utf-8")
    (project / "conversations.d" / "order_status.yaml").unlink()
    before = sorted(p.name for p in (project / "conversations.d").rglob("*"))
    result = run("test", "--transcripts", where)
    assert result.code == 1
    assert "--transcripts" in result.err and "conversations.d" in result.err
    assert "gateway:" not in result.err
    assert sorted(p.name for p in (project / "conversations.d").rglob("*")) == before


def test_the_state_file_reads_variables_as_conversation_files_do(
    scripted_gateway: Any, project: Path, run: Any, endpoint: ToolEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`state: {session_token: ${ORDER_SESSION}}` works in a conversation file; the same in --state must not send
    the literal text `${ORDER_SESSION}` to the tool as the session token."""
    call = {"id": "c1", "type": "function", "function": {"name": "get_order_status", "arguments": '{"order_id": "7"}'}}
    scripted_gateway([(200, _answer(content=None, tool_calls=[call]), {}), (200, _answer(content="ok"), {})])
    monkeypatch.setenv("TOOLS_BASE_URL", endpoint.url)
    monkeypatch.setenv("ORDER_SESSION", "sess-from-env-5")
    (project / "state.yaml").write_text("user_id: USR-1\nsession_token: ${ORDER_SESSION}\n", encoding="utf-8")
    result = run("chat", "-m", "where is 7?", "--state", "state.yaml", "--transcript", "t.json")
    assert result.code == 0, result.output
    [body] = endpoint.bodies("/api/v1/tools/order_status")
    assert (body["parameters"], body["conversation"]) == (
        {"order_id": "7"},
        {"user_id": "USR-1", "session_token": "sess-from-env-5"},
    )
    assert "sess-from-env-5" not in (project / "t.json").read_text(encoding="utf-8")


def test_an_unset_variable_in_the_state_file_is_named_and_nothing_is_sent(project: Path, run: Any) -> None:
    (project / "state.yaml").write_text("user_id: USR-1\nsession_token: ${NOT_SET_ANYWHERE}\n", encoding="utf-8")
    result = run("chat", "-m", "hi", "--state", "state.yaml")
    assert result.code == 1
    assert "state.yaml:2:" in result.err and "NOT_SET_ANYWHERE is not set" in result.err
    assert "gateway:" not in result.err
    assert result.out == ""


@pytest.mark.parametrize("how", ["message", "stdin"])
def test_a_message_that_is_not_utf8_is_refused_clearly(
    project: Path, run: Any, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Latin-1 bytes from a terminal or a pipe reach Python as lone surrogates, which no JSON request can carry:
    a user error that says what to do (exit 1), not an internal error (exit 3)."""
    latin1 = b"caf\xe9 ol\xe9".decode("utf-8", "surrogateescape")
    if how == "message":
        result = run("chat", "--message", latin1)
    else:
        monkeypatch.setattr(sys, "stdin", io.StringIO(latin1 + "\n"))
        result = run("chat")
    assert result.code == 1, result.output
    assert "not UTF-8" in result.err
    assert "internal error" not in result.err
    assert result.out == ""


def test_on_a_terminal_a_line_that_is_not_utf8_is_said_and_the_conversation_goes_on(project: Path) -> None:
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "chat"],
        cwd=project,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "LC_ALL": "C.UTF-8"},
    )
    os.close(secondary)
    try:
        os.write(primary, b"caf\xe9\nfine\n\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(primary)
    assert process.returncode == 0, err
    assert out == "(emulated model, no script) You said: fine\n"
    assert "not UTF-8" in err


def test_a_script_too_long_for_the_emulated_gateway_says_what_to_do(project: Path, run: Any) -> None:
    """The script travels in one request header, which the emulator (like most HTTP servers) takes up to 64 KiB."""
    long = "x" * 70_000
    (project / "conversations.d" / "long.yaml").write_text(
        f"name: long\nturns:\n  - user: hi\n    script: [{{content: {long}}}]\n", encoding="utf-8"
    )
    result = run("test")
    assert result.code == 1
    line = next(line for line in result.out.splitlines() if "long.yaml:3:" in line)
    assert "the script of this turn is 70,016 bytes as JSON" in line
    assert "shorten its answers" in line
    assert "431" not in line


def test_transcripts_that_cannot_be_written_leave_the_results_shown(project: Path, run: Any) -> None:
    """The conversations ran: a --transcripts path that cannot be written must not swallow what they found."""
    (project / "afile").write_text("", encoding="utf-8")
    result = run("test", "--transcripts", "afile/sub")
    assert result.code == 1
    assert result.out == "ok    conversations.d/order_status.yaml (3 turns, 4 tool calls)\n"
    assert "cannot write or read afile/sub" in result.err


def test_transcripts_are_not_written_among_the_tool_files(project: Path, run: Any) -> None:
    """plan and apply would read them as tools."""
    result = run("test", "--transcripts", "tools.d/transcripts")
    assert result.code == 1
    assert "--transcripts tools.d/transcripts is inside the tools directory tools.d" in result.err
    assert not (project / "tools.d" / "transcripts").exists()


def test_a_huge_tool_answer_reaches_the_model_cut_not_as_a_request_the_gateway_refuses(project: Path, run: Any) -> None:
    """A tool may answer megabytes (the runtime takes up to 16 MiB); fed back whole, the next completion request
    was refused (413 here; a real model's context overflows), and the turn died. The model gets the start of it
    and is told it was cut."""
    blob = "x" * 3_000_000
    (project / "conversations.d" / "big.yaml").write_text(
        "name: big\n"
        f"stubs: {{check_inventory: {{blob: {blob}}}}}\n"
        "turns:\n"
        "  - user: stock?\n"
        "    expect:\n"
        "      tool_calls: [{name: check_inventory}]\n"
        "      reply_contains: 'cut: the tool answered 3,000,012 characters'\n"
        "    script:\n"
        "      - tool_calls: [{name: check_inventory, arguments: {sku: A}}]\n"
        "      - content: '{{tool:check_inventory}}'\n",
        encoding="utf-8",
    )
    result = run("test", "--transcripts", "out")
    assert result.code == 0, result.output
    reply = json.loads((project / "out" / "big.json").read_text(encoding="utf-8"))["turns"][0]["reply"]
    assert reply.startswith('{"blob": "xxx')
    assert len(reply) < 70_000


EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m"
"""What a prompt-injected model may write: set the clipboard (OSC 52), clear the screen, a C1 control sequence."""


def test_chat_prints_what_the_model_wrote_without_its_terminal_control_sequences(
    scripted_gateway: Any, project: Path, run: Any
) -> None:
    """The model's words are untrusted (a tool's output may steer them): escape sequences in its answer or in the
    name of a tool it calls are shown as text, never sent to the user's terminal."""
    call = {"id": "c1", "type": "function", "function": {"name": f"x{EVIL}", "arguments": "{}"}}
    answers = [(200, _answer(content=None, tool_calls=[call]), {}), (200, _answer(content=f"line one\n{EVIL}!"), {})]
    scripted_gateway(answers)
    result = run("chat", "-m", "hi")
    assert result.code == 0, result.output
    for control in ("\x1b", "\x07", "\x9b"):
        assert control not in result.output
    assert result.out == "line one\n\\u001b]52;c;ZXZpbA==\\u0007\\u001b[2J\\u009b31m!\n"
    assert "tool x\\u001b]52;c;ZXZpbA==\\u0007\\u001b[2J\\u009b31m (" in result.err


def test_a_failure_line_shows_a_tool_name_the_model_made_up_as_one_escaped_line(
    scripted_gateway: Any, project: Path, run: Any
) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": f"x{EVIL}\n::error::forged", "arguments": "{}"}}
    answers = [(200, _answer(content=None, tool_calls=[call]), {}), (200, _answer(content="done"), {})]
    scripted_gateway(answers)
    (project / "conversations.d" / "order_status.yaml").unlink()
    (project / "conversations.d" / "one.yaml").write_text(
        "name: one\nturns:\n  - user: hi\n    expect: {tool_calls: [{name: check_inventory}]}\n", encoding="utf-8"
    )
    result = run("test")
    assert result.code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert not any(line.startswith("::") for line in result.out.splitlines())
    assert "the calls were: x\\u001b]52;c;ZXZpbA==\\u0007\\u001b[2J\\u009b31m\\n::error::forged({})" in result.out


def test_the_transcript_keeps_what_the_model_wrote_safe_to_cat(scripted_gateway: Any, project: Path, run: Any) -> None:
    """JSON escapes C0 controls itself; C1 controls and bidi overrides would reach a terminal that cats the file."""
    scripted_gateway([(200, _answer(content=f"a{EVIL}\u202eb"), {})])
    result = run("chat", "-m", "hi", "--transcript", "t.json")
    assert result.code == 0, result.output
    text = (project / "t.json").read_text(encoding="utf-8")
    assert not any(character in text for character in ("\x1b", "\x07", "\x9b", "\u202e"))
    assert json.loads(text)["turns"][0]["reply"] == f"a{EVIL}\u202eb"  # the same value, escaped


def test_on_a_terminal_a_turn_the_gateway_refused_is_said_and_the_conversation_goes_on(project: Path) -> None:
    """One refused request (a 400 for one message) does not throw away the conversation typed so far."""
    refused = {"message": "this message trips the content policy", "code": "bad.request", "status": 400}
    gateway = _ScriptedGateway([(400, refused, {}), (200, _answer(content="fine"), {})])
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "chat", "--transcript", "t.json"],
        cwd=project,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "NO_COLOR": "1",
            "GENESYS_CLOUD_API_URL": gateway.url,
            "GENESYS_CLOUD_ACCESS_TOKEN": "local",
        },
    )
    os.close(secondary)
    try:
        os.write(primary, b"first\nsecond\n\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(primary)
        gateway.close()
    assert process.returncode == 1, err  # a turn failed: the session says so in its exit code
    assert out == "fine\n"
    assert "content policy" in err
    assert err.count("you> ") == 3
    turns = json.loads((project / "t.json").read_text(encoding="utf-8"))["turns"]
    assert [(t["user"], t["stop_reason"]) for t in turns] == [("first", "gateway_error"), ("second", "answered")]
    assert [m["role"] for m in gateway.bodies[1]["messages"]] == ["user", "user"]


def test_a_gateway_error_fails_its_file_on_one_line_and_says_the_rest_did_not_run(
    scripted_gateway: Any, project: Path, run: Any
) -> None:
    refused = {"message": "bad request\n::error::forged", "code": "bad.request", "status": 400}
    scripted_gateway([(400, refused, {})])
    (project / "conversations.d" / "order_status.yaml").unlink()
    (project / "conversations.d" / "two.yaml").write_text(
        "name: two\nturns:\n  - user: one\n  - user: two\n", encoding="utf-8"
    )
    result = run("test")
    assert result.code == 1
    assert not any(line.startswith("::") for line in result.out.splitlines())
    (line,) = [line for line in result.out.splitlines() if "two.yaml:3:" in line]
    assert "bad request" in line
    assert line.endswith("; the rest of this file was not run")


@pytest.mark.parametrize("where", ["state.yaml", "tools.d/t.json"])
def test_chat_does_not_write_its_transcript_over_its_inputs(project: Path, run: Any, where: str) -> None:
    """Over the state file it would destroy it; in tools.d the next plan would read it as a tool."""
    (project / "state.yaml").write_text("user_id: USR-1\n", encoding="utf-8")
    before = sorted(p.name for p in (project / "tools.d").iterdir())
    result = run("chat", "-m", "hi", "--state", "state.yaml", "--transcript", where)
    assert result.code == 1
    assert f"--transcript {where}" in result.err
    assert (project / "state.yaml").read_text(encoding="utf-8") == "user_id: USR-1\n"
    assert sorted(p.name for p in (project / "tools.d").iterdir()) == before
    assert "gateway:" not in result.err


@pytest.mark.parametrize("output_format", ["text", "github", "json"])
@pytest.mark.parametrize("contents", [{}, {"README.md": "# notes\n"}, {"empty.yaml": ""}])
def test_a_folder_without_conversations_fails_rather_than_passing_nothing(
    project: Path, run: Any, output_format: str, contents: dict[str, str]
) -> None:
    """A CI job whose conversation files were lost (moved, renamed to .txt, emptied) ran no test and exited 0, so
    it stayed green; as pytest's 'no tests collected' it must not pass."""
    shutil.rmtree(project / "conversations.d")
    (project / "conversations.d").mkdir()
    for name, text in contents.items():
        (project / "conversations.d" / name).write_text(text, encoding="utf-8")
    result = run("test", "--format", output_format)
    assert result.code == 1, result.output
    said = "no conversation files (.yaml, .yml or .json) to run; add one"
    if output_format == "json":
        report = json.loads(result.out)
        assert report["ok"] is False and report["conversations"] == []
        [problem] = report["diagnostics"]
        assert problem["file"] == "conversations.d" and said in problem["message"]
    elif output_format == "github":
        assert result.out.startswith(f"::error title=reconciler::conversations.d: {said}")
    else:
        assert f"conversations.d: error: {said}" in result.err  # a folder: no line to point at
    assert "gateway:" not in result.err  # nothing ran, no gateway was opened
    assert "Traceback" not in result.output


def test_a_missing_conversations_folder_is_named_by_its_path_alone(project: Path, run: Any) -> None:
    """A folder has no lines: `conversations.d:1:1` pointed at a line that is not there (as tools.d is shown)."""
    shutil.rmtree(project / "conversations.d")
    result = run("test")
    assert result.code == 1, result.output
    assert "conversations.d: error: no such directory" in result.err
    assert ":1:1" not in result.err and "Traceback" not in result.output
    report = json.loads(run("test", "--format", "json").out)
    [problem] = report["diagnostics"]
    assert (problem["file"], problem["line"], problem["column"]) == ("conversations.d", None, None)


RETRIED = """\
name: retried after a refused call
state: {user_id: USR-1, session_token: tok_1}
stubs: {get_order_status: {status: shipped}}
turns:
  - user: Where is 123?
    expect:
      tool_calls: [{name: get_order_status, arguments: {order_id: "123"}}]
    script:
      - tool_calls: [{name: get_order_status, arguments: {order_id: "123", include_items: "yes"}}]
      - tool_calls: [{name: get_order_status, arguments: {order_id: "123"}}]
      - content: "{{tool:get_order_status}}"
"""


def test_an_expected_call_is_met_by_a_retry_that_succeeded_after_a_refused_one(project: Path, run: Any) -> None:
    """A model that sends a wrong argument, reads the error and calls again correctly made the expected call, and
    it succeeded; the test failed all the same, on the first (refused) attempt that matched the same arguments."""
    (project / "conversations.d" / "order_status.yaml").unlink()
    (project / "conversations.d" / "retried.yaml").write_text(RETRIED, encoding="utf-8")
    result = run("test")
    assert result.code == 0, result.output

    failing = RETRIED.replace('      - tool_calls: [{name: get_order_status, arguments: {order_id: "123"}}]\n', "")
    (project / "conversations.d" / "retried.yaml").write_text(failing, encoding="utf-8")
    result = run("test")
    assert result.code == 1
    assert "was called but did not succeed: INVALID_ARGUMENTS" in result.out


@pytest.mark.parametrize("where", WHERE)
def test_ctrl_c_while_reconciler_test_waits_for_the_gateway_ends_the_run_at_once(project: Path, where: str) -> None:
    silent = _SilentGateway()
    url = f"http://127.0.0.1:{silent.server.server_address[1]}"
    environment = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "GENESYS_CLOUD_API_URL": url}
    environment["GENESYS_CLOUD_ACCESS_TOKEN"] = "local"
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "test"],
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )
    try:
        assert silent.asked.wait(60)
        _ctrl_c(process, where)
        err = _stderr_once_ended(process, "reconciler test")
    finally:
        silent.close()
    assert process.returncode == 130, err
    assert err.decode().rstrip().endswith("error: interrupted")


@pytest.mark.parametrize("tool_calls", [5, True, "get_order_status", {"name": "get_order_status"}])
def test_a_gateway_whose_tool_calls_are_not_a_list_is_said_so_not_an_internal_error(
    scripted_gateway: Any, project: Path, run: Any, tool_calls: Any
) -> None:
    """An OpenAI-compatible gateway that answers `tool_calls` as something other than a list (or null) is not
    speaking the API: chat says which gateway and what was wrong, as for an answer without `choices`, exit 1,
    and the transcript keeps the turn (`gateway_error`). A number stopped chat with "internal error (TypeError
    ...); this is a bug in reconciler" and no transcript of the turn; a text or an object was read as a list of
    calls, and said a call "without a function name"."""
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": tool_calls}}]}
    gateway = scripted_gateway([(200, answer, {})])
    result = run("chat", "-m", "where is 123?", "--transcript", "t.json")
    assert result.code == 1, result.output
    host = gateway.url.removeprefix("http://")
    assert (
        f"the LLM gateway at {host} sent `tool_calls` that is not a list of calls; is this an OpenAI-compatible "
        "gateway?"
    ) in result.err, result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    [turn] = json.loads((project / "t.json").read_text(encoding="utf-8"))["turns"]
    assert (turn["stop_reason"], turn["tool_calls"]) == ("gateway_error", [])
