"""Ctrl-C is heard whichever thread of the process the kernel hands it to, and a command started with Ctrl-C
ignored (in the background) keeps ignoring it. Linux gives a process's SIGINT to any thread that does not block
it; Python runs the handler on the main thread only, when that thread next runs Python code."""

from __future__ import annotations

import ctypes
import os
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
from tests.ctrl_c import threads_that_may_take_ctrl_c

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
            [bystander] = [tid for tid in threads_that_may_take_ctrl_c(process.pid) if tid != process.pid]
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
            [bystander] = [tid for tid in threads_that_may_take_ctrl_c(process.pid) if tid != process.pid]
            _tgkill(process.pid, bystander)
            err = _stderr_once_ended(process, "plan")
        finally:
            release.set()
            process.kill()
    assert process.returncode == 130, err
    assert err.rstrip().endswith("error: interrupted")
