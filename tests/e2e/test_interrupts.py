"""Ctrl-C during apply: no write starts after it, every change is accounted for (done, failed, unknown, not
started) in the output and the audit log, and the user is told what to run next. Two applies at once: each
audit log says what its own run wrote."""

from __future__ import annotations

import _thread
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import ApplyInterrupted, Outcome, apply_plan
from reconciler.emulator import RunningEmulator
from reconciler.errors import NotFoundError
from reconciler.plan import Change, Plan
from reconciler.state import Record
from tests.ctrl_c import once_the_main_thread_hears_ctrl_c


def write_tools(directory: Path, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (directory / f"tool_{i:03d}.yaml").write_text(
            f"name: tool_{i:03d}\ndescription: Does thing {i}.\nendpoint: https://tools.example.com/{i}\n",
            encoding="utf-8",
        )


class BlockingApi:
    """A registry whose writes stay in flight until the test releases them. Ctrl-C comes when the write number
    `interrupt_at + 1` starts; the second write answers just after it (inside the grace period)."""

    def __init__(self, interrupt_at: int) -> None:
        self.interrupt_at = interrupt_at
        self.lock = threading.Lock()
        self.started: list[str] = []
        self.release = threading.Event()
        self.signalled = threading.Event()

    def create(self, payload: dict[str, Any]) -> Any:
        with self.lock:
            self.started.append(payload["name"])
            count = len(self.started)
        if count == 1:  # the first write goes alone and answers at once
            return _written(payload["name"])
        if count == self.interrupt_at + 1:
            _thread.interrupt_main()  # Ctrl-C, while the writes before this one are in flight
            self.signalled.set()
        if count == 2:
            self.signalled.wait(timeout=30)
            return _written(payload["name"])
        self.release.wait(timeout=30)  # in flight past the grace period
        return _written(payload["name"])

    def find_by_name(self, name: str) -> None:
        return None

    def get(self, entity_id: str) -> Record:
        raise NotFoundError("gone")


def _written(name: str) -> Any:
    from reconciler.api import WriteResult

    return WriteResult(Record(name=name, content={}, id=f"id-{name}", version=1), 201, None)


def _plan(count: int) -> Plan:
    changes = tuple(Change("create", f"tool_{i:02d}", after={"name": f"tool_{i:02d}"}) for i in range(count))
    return Plan(changes=changes, target="test")


def test_ctrl_c_starts_no_further_write_and_accounts_for_every_change() -> None:
    api = BlockingApi(interrupt_at=4)
    seen: list[Outcome] = []

    with pytest.raises(ApplyInterrupted) as info:
        apply_plan(_plan(20), api, parallelism=4, on_outcome=seen.append, grace=0.5)  # type: ignore[arg-type]
    api.release.set()  # the writes still in flight answer now: too late to be reported again
    for thread in threading.enumerate():
        if thread.name.startswith("apply-"):
            thread.join(timeout=10)
    report = info.value.report
    by_status: dict[str, list[str]] = {}
    for outcome in report.outcomes:
        by_status.setdefault(outcome.status, []).append(outcome.change.name)
    started = set(api.started)
    # the first, then 4 at a time; the worker whose write answered as Ctrl-C came may have taken one more before
    # the interrupt reached the main thread, but none starts after it
    assert len(started) in (5, 6)
    assert set(by_status["ok"]) == {"tool_00", "tool_01"}
    assert set(by_status["unknown"]) == started - {"tool_00", "tool_01"}
    assert set(by_status["not_attempted"]) == {f"tool_{i:02d}" for i in range(20)} - started
    assert sorted(o.change.name for o in seen) == sorted(o.change.name for o in report.outcomes)  # each once
    assert len(report.outcomes) == 20
    assert info.value.exit_code == 130
    assert "Run `reconciler plan` to see what is left" in str(info.value)


def test_ctrl_c_during_the_first_write_reports_it_unknown() -> None:
    class Interrupting(BlockingApi):
        def create(self, payload: dict[str, Any]) -> Any:
            raise KeyboardInterrupt  # as the signal lands in the middle of the request on the main thread

    with pytest.raises(ApplyInterrupted) as info:
        apply_plan(_plan(3), Interrupting(0), parallelism=2, grace=0.1)  # type: ignore[arg-type]
    assert [o.status for o in info.value.report.outcomes] == ["unknown", "not_attempted", "not_attempted"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_during_a_real_apply_leaves_an_audit_log_that_matches_the_registry(
    repo: Path, start: Callable[..., RunningEmulator]
) -> None:
    emulator = start(latency_ms=150)
    write_tools(repo / "tools.d", 40)
    environ = {
        **os.environ,
        "GENESYS_CLOUD_API_URL": emulator.url,
        "GENESYS_CLOUD_ACCESS_TOKEN": "t",
        "NO_COLOR": "1",
    }
    argv = [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--parallelism", "8"]
    with subprocess.Popen(
        [*argv, "--audit-log", "audit.jsonl"], cwd=repo, env=environ, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:  # Ctrl-C once a few writes are done and others are in flight
            lines.append(line)
            if line.startswith("[3/40]"):
                process.send_signal(signal.SIGINT)
                break
        lines += process.stderr.readlines()
        code = process.wait(timeout=60)
    stderr = "".join(lines)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted:" in stderr
    assert "Run `reconciler plan` to see what is left, then `reconciler apply` again" in stderr
    audit = [json.loads(line) for line in (repo / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(audit) == 40  # every change, once
    assert len({entry["name"] for entry in audit}) == 40
    registry = {tool["name"] for tool in emulator.registry.listing()}
    done = {entry["name"] for entry in audit if entry["outcome"] == "ok"}
    unknown = {entry["name"] for entry in audit if entry["outcome"] == "unknown"}
    not_started = {entry["name"] for entry in audit if entry["outcome"] == "not_attempted"}
    assert done <= registry  # what the log calls done was done
    assert registry <= done | unknown  # nothing was written that the log does not mention as done or unknown
    assert not_started and not (not_started & registry)  # no write started after the interrupt
    assert f"Apply incomplete: 0 failed, {len(unknown)} unknown, {len(not_started)} not attempted." in stderr

    again = subprocess.run(argv, cwd=repo, env=environ, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert len(emulator.registry.listing()) == 40


def test_two_applies_at_once_each_log_only_what_they_wrote(repo: Path, start: Callable[..., RunningEmulator]) -> None:
    emulator = start(latency_ms=20)
    write_tools(repo / "tools.d", 12)
    environ = {**os.environ, "GENESYS_CLOUD_API_URL": emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "t"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--audit-log", f"audit-{n}.jsonl"],
            cwd=repo,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    results = [process.communicate(timeout=120) for process in runs]
    assert [process.returncode for process in runs] == [0, 0], results
    logs = [
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
        for path in (repo / "audit-1.jsonl", repo / "audit-2.jsonl")  # a run that planned after the other has none
    ]
    claimed = [{e["name"] for e in log if e["written"] is True} for log in logs]
    assert not claimed[0] & claimed[1]  # no write is claimed by both runs
    assert claimed[0] | claimed[1] == {tool["name"] for tool in emulator.registry.listing()}
    assert len(emulator.registry.listing()) == 12
    for log in logs:  # what a run found already written, it says so
        for entry in log:
            if entry["written"] is False:
                assert "another writer" in entry["note"]
    # each summary counts what its own run made, and names apart what it found made by the other run (a run that
    # planned after the other finished has nothing to do, and no summary of writes)
    pattern = re.compile(
        r"Resources: 0 adopted, (\d+) added, 0 changed, 0 destroyed(?:; (\d+) found already made by another writer)?\."
    )
    added = 0
    for (_, stderr), log in zip(results, logs, strict=True):
        match = pattern.search(stderr)
        assert (match is not None) == bool(log), stderr
        if match is not None:
            added += int(match[1])
            assert int(match[2] or 0) == sum(1 for entry in log if entry["written"] is False), stderr
    assert added == 12


def test_a_wait_for_the_rate_limit_is_said_on_stderr(
    repo: Path, start: Callable[..., RunningEmulator], run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = start(rate_limit=1, rate_window=4.0)  # the list spends the window: the create waits for the next
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", emulator.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
    write_tools(repo / "tools.d", 1)
    result = run("apply", "--auto-approve")
    assert result.code == 0, result.err
    waits = [line for line in result.err.splitlines() if line.startswith("waiting ")]
    assert waits, result.err
    assert re.fullmatch(r"waiting \d+ s (for the API's rate limit|before trying .+ again \(429.*\))", waits[0])


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_the_workers_leave_ctrl_c_to_the_main_thread() -> None:
    """The kernel hands a process's SIGINT to any thread that does not block it, and Python hears it on the main
    thread only: a worker must block it, or a Ctrl-C landing there waits for the next outcome to be heard."""
    masks: dict[str, set[int]] = {}

    class Recording(BlockingApi):
        def create(self, payload: dict[str, Any]) -> Any:
            masks[threading.current_thread().name] = set(signal.pthread_sigmask(signal.SIG_BLOCK, []))
            return _written(payload["name"])

    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    apply_plan(_plan(12), Recording(0), parallelism=4, grace=0.1)  # type: ignore[arg-type]
    workers = {name: mask for name, mask in masks.items() if name.startswith("apply-")}
    assert workers and all(signal.SIGINT in mask for mask in workers.values()), masks
    assert signal.SIGINT not in masks[threading.current_thread().name]  # the first write, on the caller's thread
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before  # the caller's own mask is left as it was


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc tells which signals each thread blocks")
def test_while_plan_waits_for_the_api_ctrl_c_can_only_land_on_the_main_thread(repo: Path) -> None:
    """The thread that says which requests are slow lives as long as the client. It took Ctrl-C as any thread may,
    and Python runs the handler on the main thread only, once it runs Python code again: `plan` went on waiting
    for an API that did not answer, until its timeout."""
    write_tools(repo / "tools.d", 1)
    with socket.socket() as silent:  # an API that takes the request and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(60)
        environ = {
            **os.environ,
            "GENESYS_CLOUD_API_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "GENESYS_CLOUD_ACCESS_TOKEN": "t",
            "NO_COLOR": "1",
        }
        argv = [sys.executable, "-m", "reconciler", "plan"]
        with subprocess.Popen(argv, cwd=repo, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
            try:
                connection, _ = silent.accept()
                with connection:
                    connection.settimeout(60)
                    assert connection.recv(65536).startswith(b"GET ")  # plan waits for its answer now
                    hearing = once_the_main_thread_hears_ctrl_c(process.pid)
                    process.send_signal(signal.SIGINT)
                    _, err = process.communicate(timeout=30)
            finally:
                process.kill()
    assert hearing == [process.pid]  # the main thread's id is the process's
    assert process.returncode == 130, err
    assert err.decode().rstrip().endswith("error: interrupted")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc tells which signals each thread blocks")
def test_while_plan_reads_data_actions_ctrl_c_can_only_land_on_the_main_thread(
    repo: Path, start: Callable[..., RunningEmulator], run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Data Actions plan reads each action in a pool of threads while the main thread waits for their results:
    a Ctrl-C landing on a reader was heard when the API answered that read."""
    from reconciler.emulator.server import Handler

    emulator = start()
    emulator.actions.add_integration("Reconciler Actions")
    (repo / "reconciler.yaml").write_text("target: data-actions\nintegration: Reconciler Actions\n", encoding="utf-8")
    write_tools(repo / "tools.d", 1)
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", emulator.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
    assert run("apply", "--auto-approve").code == 0
    reading, release = threading.Event(), threading.Event()
    dispatch = Handler._dispatch

    def held(handler: Handler) -> None:  # an API slow to answer the read of one action
        if handler.command == "GET" and "expand=contract" in handler.path and "/draft" not in handler.path:
            reading.set()
            release.wait(60)
        dispatch(handler)

    monkeypatch.setattr(Handler, "_dispatch", held)
    argv = [sys.executable, "-m", "reconciler", "plan"]
    with subprocess.Popen(
        argv, cwd=repo, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        try:
            assert reading.wait(60)  # plan's main thread waits for the read now
            hearing = once_the_main_thread_hears_ctrl_c(process.pid)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
        finally:
            release.set()
            process.kill()
    assert hearing == [process.pid]
    assert process.returncode == 130, err
