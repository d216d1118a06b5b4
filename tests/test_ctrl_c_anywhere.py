"""Ctrl-C is heard whichever thread of the process the kernel hands it to, and a command started with Ctrl-C
ignored (in the background) keeps ignoring it. Linux gives a process's SIGINT to any thread that does not block
it; Python runs the handler on the main thread only, when that thread next runs Python code."""

from __future__ import annotations

import ast
import ctypes
import os
import pty
import select
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import RunningEmulator
from tests.ctrl_c import once_the_main_thread_hears_ctrl_c

ROOT = Path(__file__).resolve().parents[1]
LINUX_TGKILL = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(ctypes.CDLL(None), "tgkill"),
    reason="a signal to one thread of another process: Linux (glibc 2.30+) only",
)
# The CLI, with one more thread started the plain way (SIGINT not blocked), as a thread added to the product
# without threads_leave_ctrl_c_to_main would be: the kernel may hand it a Ctrl-C.
WITH_A_BYSTANDER = (
    "import sys, threading; "
    "threading.Thread(target=threading.Event().wait, name='bystander', daemon=True).start(); "
    "from reconciler.cli import main; raise SystemExit(main())"
)


def _tgkill(pid: int, tid: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.tgkill(pid, tid, signal.SIGINT) == 0, ctypes.get_errno()


def _wait_in_the_kernel(pid: int) -> None:
    """Until the main thread of `pid` sleeps on a futex: a lock or condition wait (or, briefly, the GIL)."""
    guard = time.monotonic() + 60  # a hang guard, not a deadline
    while "futex" not in Path(f"/proc/{pid}/task/{pid}/wchan").read_text(encoding="ascii"):
        assert time.monotonic() < guard, "the main thread never waited"
        time.sleep(0.01)


def _stderr_once_ended(process: subprocess.Popen[bytes], what: str) -> str:
    """`process`'s stderr once it has ended after a Ctrl-C; 60 s is a hang guard, not a deadline."""
    try:
        return process.communicate(timeout=60)[1].decode()
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{what} was still running 60 s after Ctrl-C") from None


@LINUX_TGKILL
def test_apply_hears_a_ctrl_c_that_lands_on_a_thread_that_does_not_block_it(
    repo: Path, start: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """apply's main thread waited for its workers' outcomes with no timeout: a Ctrl-C the kernel gave another
    thread was heard only when a write answered, and an API slow to answer kept the apply writing meanwhile."""
    from reconciler.emulator.server import Handler

    emulator = start()
    for i in range(5):
        (repo / "tools.d" / f"tool_{i}.yaml").write_text(
            f"name: tool_{i}\ndescription: Does thing {i}.\nendpoint: https://tools.example.com/{i}\n",
            encoding="utf-8",
        )
    lock, both_held, release = threading.Lock(), threading.Event(), threading.Event()
    posts: list[str] = []
    dispatch = Handler._dispatch

    def held(handler: Handler) -> None:  # the first write answers; the two after it wait in the API
        if handler.command == "POST":
            with lock:
                posts.append(handler.path)
                count = len(posts)
            if count > 1:
                if count == 3:
                    both_held.set()
                release.wait(60)
        dispatch(handler)

    monkeypatch.setattr(Handler, "_dispatch", held)
    environ = {**os.environ, "GENESYS_CLOUD_API_URL": emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "t"}
    argv = [sys.executable, "-c", WITH_A_BYSTANDER, "apply", "--auto-approve", "--parallelism", "2"]
    with subprocess.Popen(argv, cwd=repo, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        try:
            assert both_held.wait(60)  # two writes in flight: apply's main thread waits for their outcomes
            _wait_in_the_kernel(process.pid)
            [bystander] = [tid for tid in once_the_main_thread_hears_ctrl_c(process.pid) if tid != process.pid]
            _tgkill(process.pid, bystander)
            stderr = _stderr_once_ended(process, "apply")  # after the 10 s apply gives the writes in flight
            written = {tool["name"] for tool in emulator.registry.listing()}
        finally:
            release.set()
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "Apply incomplete: 0 failed, 2 unknown, 2 not attempted." in stderr
    assert len(posts) == 3 and len(written) == 1  # no write started after the Ctrl-C


@LINUX_TGKILL
def test_a_data_actions_plan_hears_a_ctrl_c_that_lands_on_a_thread_that_does_not_block_it(
    repo: Path, start: Callable[..., RunningEmulator], run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan's main thread joined the threads reading the actions with no timeout: a Ctrl-C given to another
    thread was heard once the API answered every read."""
    from reconciler.emulator.server import Handler

    emulator = start()
    emulator.actions.add_integration("Reconciler Actions")
    (repo / "reconciler.yaml").write_text("target: data-actions\nintegration: Reconciler Actions\n", encoding="utf-8")
    (repo / "tools.d" / "t.yaml").write_text(
        "name: tool_0\ndescription: Does thing 0.\nendpoint: https://tools.example.com/0\n", encoding="utf-8"
    )
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", emulator.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
    assert run("apply", "--auto-approve").code == 0
    reading, release = threading.Event(), threading.Event()
    dispatch = Handler._dispatch

    def held(handler: Handler) -> None:  # an API slow to answer the read of the action
        if handler.command == "GET" and "expand=contract" in handler.path and "/draft" not in handler.path:
            reading.set()
            release.wait(60)
        dispatch(handler)

    monkeypatch.setattr(Handler, "_dispatch", held)
    argv = [sys.executable, "-c", WITH_A_BYSTANDER, "plan"]
    with subprocess.Popen(
        argv, cwd=repo, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        try:
            assert reading.wait(60)  # plan's main thread waits for the read now
            _wait_in_the_kernel(process.pid)
            [bystander] = [tid for tid in once_the_main_thread_hears_ctrl_c(process.pid) if tid != process.pid]
            _tgkill(process.pid, bystander)
            err = _stderr_once_ended(process, "plan")
        finally:
            release.set()
            process.kill()
    assert process.returncode == 130, err
    assert err.rstrip().endswith("error: interrupted")


def _read_until(fd: int, wanted: bytes, seen: bytes = b"") -> bytes:
    guard = time.monotonic() + 60  # a hang guard, not a deadline
    while wanted not in seen:
        ready, _, _ = select.select([fd], [], [], max(guard - time.monotonic(), 0))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            raise AssertionError(f"never saw {wanted!r}; saw {seen!r}")
        seen += chunk
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="a shell's `trap '' INT`")
def test_chat_started_with_ctrl_c_ignored_goes_on_when_it_comes(tmp_path: Path) -> None:
    """A shell starts a background job (`reconciler chat < script &`, nohup) with SIGINT ignored: a Ctrl-C meant
    for the foreground is not the job's. chat installs its own Ctrl-C handling in the event loop, which would
    take the signal back; started that way it leaves it ignored."""
    shutil.copytree(ROOT / "tools.d", tmp_path / "tools.d")
    primary, secondary = pty.openpty()
    command = shlex.join([sys.executable, "-m", "reconciler", "chat", "--transcript", "t.json"])
    process = subprocess.Popen(
        ["sh", "-c", f"trap '' INT; exec {command}"],
        cwd=tmp_path,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )
    os.close(secondary)
    try:
        assert process.stderr is not None
        seen = _read_until(process.stderr.fileno(), b"you> ")  # in its event loop, waiting for a line
        process.send_signal(signal.SIGINT)  # ignored: the kernel drops it before this call returns
        os.write(primary, b"still here\n\n")
        out, rest = process.communicate(timeout=60)
    finally:
        process.kill()
        os.close(primary)
    err = (seen + rest).decode()
    assert process.returncode == 0, err
    assert "interrupted" not in err
    assert out.decode() == "(emulated model, no script) You said: still here\n"


# Where the product starts threads without threads_leave_ctrl_c_to_main, and why a Ctrl-C is heard anyway.
UNMASKED = {
    ("reconciler/runtime/threads.py", "in_daemon_thread"): "event-loop commands (chat, test: run_interruptible; "
    "serve: uvicorn looks every 0.1 s): the C handler wakes the loop from any thread",
    ("reconciler/emulator/server.py", "Background.__init__"): "the embedded registry: it answers at once, and the "
    "commands that use it wait in bounded waits or an event loop",
    ("reconciler/emulator/server.py", "EmulatorServer"): "a thread per connection, started by the serving thread: "
    "Background's, or `reconciler emulator`'s main thread, which looks for Ctrl-C every 0.2 s",
}
STARTERS = {"Thread", "Timer", "ThreadPoolExecutor", "to_thread", "run_in_executor", "start_new_thread"}
THREADED_BASES = {"Thread", "ThreadingMixIn", "ThreadingHTTPServer", "ThreadingTCPServer", "ThreadingUDPServer"}


def _name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _masked(function: ast.AST) -> bool:
    """`function` starts threads inside `with threads_leave_ctrl_c_to_main():`."""
    for node in ast.walk(function):
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call) and _name(item.context_expr.func) == "threads_leave_ctrl_c_to_main"
            for item in node.items
        ):
            body = ast.Module(body=node.body, type_ignores=[])
            if any(isinstance(n, ast.Call) and _name(n.func) == "start" for n in ast.walk(body)):
                return True
    return False


def _thread_starters(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """(qualified name, node) of each function that makes a thread, and of each class that makes them."""
    found: list[tuple[str, ast.AST]] = []

    def visit(node: ast.AST, scope: list[str], function: ast.AST | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                if any(_name(base) in THREADED_BASES for base in child.bases):
                    found.append((".".join([*scope, child.name]), child))
                visit(child, [*scope, child.name], function)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, [*scope, child.name], child)
            else:
                if isinstance(child, ast.Call) and _name(child.func) in STARTERS:
                    owner = function if function is not None else child
                    found.append((".".join(scope) or "<module>", owner))
                visit(child, scope, function)

    visit(tree, [], None)
    return found


def test_every_thread_the_product_starts_leaves_ctrl_c_to_main_or_says_why() -> None:
    """A thread started without threads_leave_ctrl_c_to_main may be handed a Ctrl-C that the main thread hears
    only once it runs Python code again: plan waited 30 s for a silent API that way. A new thread goes through
    it, or into UNMASKED with the reason a Ctrl-C is heard anyway."""
    unmasked = set()
    for path in sorted((ROOT / "reconciler").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), relative)
        for name, node in _thread_starters(tree):
            if isinstance(node, ast.ClassDef) or not _masked(node):
                unmasked.add((relative, name))
    assert unmasked == set(UNMASKED), "start it in `with threads_leave_ctrl_c_to_main():`, or say why not here"


def test_the_guard_sees_a_thread_started_the_plain_way() -> None:
    plain = "import threading\ndef go():\n    threading.Thread(target=print).start()\n"
    masked = (
        "import threading\ndef go():\n    t = threading.Thread(target=print)\n"
        "    with threads_leave_ctrl_c_to_main():\n        t.start()\n"
    )
    pooled = "from concurrent import futures\nclass A:\n    def go(self):\n        futures.ThreadPoolExecutor(2)\n"
    assert [(name, _masked(node)) for name, node in _thread_starters(ast.parse(plain))] == [("go", False)]
    assert [(name, _masked(node)) for name, node in _thread_starters(ast.parse(masked))] == [("go", True)]
    assert [(name, _masked(node)) for name, node in _thread_starters(ast.parse(pooled))] == [("A.go", False)]
