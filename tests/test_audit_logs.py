"""The two audit logs, byte for byte: `apply --audit-log` (reconciler/audit.py) and `serve --audit-log`
(reconciler/serve/audit.py). Pipelines parse these lines; a change of a key, an order or a separator is a change
users meet, so each line is pinned whole here (the time frozen)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from reconciler import audit as apply_audit
from reconciler.apply import Outcome as ApplyOutcome
from reconciler.plan.model import Change
from reconciler.runtime import Outcome
from reconciler.serve import audit as serve_audit
from reconciler.state.record import Record

NOW = datetime(2026, 11, 30, 2, 30, 0, 123456, tzinfo=timezone.utc)


class _FrozenTime:
    @staticmethod
    def now(tz: Any = None) -> datetime:
        return NOW


def test_an_apply_audit_line_is_these_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply_audit, "datetime", _FrozenTime)
    path = tmp_path / "logs" / "audit.jsonl"
    log = apply_audit.AuditLog.open(
        path, actor="octocat", commit="abc123", target="https://api.example.com", scrub=lambda t: t.replace("s3", "*")
    )
    change = Change("update", "get_order", id="t-1", live_version=3, digest="d" * 8)
    log.record(ApplyOutcome(change, "ok", Record("get_order", {}, id="t-1", version=4), written=True))
    log.record(ApplyOutcome(change, "failed", error="422: s3cret é \u2028", correlation_id="c-1"))
    log.close()
    assert path.read_bytes() == (
        b'{"action": "update", "actor": "octocat", "commit": "abc123", "correlation_id": null, "digest": "dddddddd", '
        b'"error": null, "id": "t-1", "name": "get_order", "note": null, "outcome": "ok", "target": '
        b'"https://api.example.com", "time": "2026-11-30T02:30:00.123+00:00", "version_after": 4, '
        b'"version_before": 3, "written": true}\n'
        b'{"action": "update", "actor": "octocat", "commit": "abc123", "correlation_id": "c-1", "digest": '
        b'"dddddddd", "error": "422: *cret \\u00e9 \\u2028", "id": "t-1", "name": "get_order", "note": null, '
        b'"outcome": "failed", "target": "https://api.example.com", "time": "2026-11-30T02:30:00.123+00:00", '
        b'"version_after": null, "version_before": 3, "written": null}\n'
    )


def test_a_serve_audit_line_is_these_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve_audit, "datetime", _FrozenTime)
    path = tmp_path / "logs" / "audit.jsonl"
    log = serve_audit.AuditLog(path)
    success = Outcome("success", {"x": 1}, latency_ms=12.34567, upstream_status=200, withheld="too_large")
    failure = Outcome("error", None, "UNKNOWN_TOOL", "no tool", 0.5)
    log.write(serve_audit.audit_record("get_order", "C-1", "U-é", {"b": 1, "a": "x"}, success))
    log.write(serve_audit.audit_record("t" * 70, None, None, None, failure))
    log.lost = 2  # two lines were lost before: the next write says so first
    log.write(serve_audit.audit_record("get_order", None, None, {}, failure))
    log.close()
    sha = {value: hashlib.sha256(value).hexdigest().encode() for value in (b'{"a":"x","b":1}', b"null", b"{}")}
    assert path.read_bytes() == (
        b'{"event":"tool.invocation","time":"2026-11-30T02:30:00.123456+00:00","tool":"get_order",'
        b'"conversation_id":"C-1","user_id":"U-\xc3\xa9","outcome":"success","error_code":null,"latency_ms":12.346,'
        b'"upstream_status":200,"parameters_sha256":"' + sha[b'{"a":"x","b":1}'] + b'","output_withheld":"too_large"}\n'
        b'{"event":"tool.invocation","time":"2026-11-30T02:30:00.123456+00:00","tool":"' + b"t" * 64 + b'\xe2\x80\xa6",'
        b'"conversation_id":null,"user_id":null,"outcome":"error","error_code":"UNKNOWN_TOOL","latency_ms":0.5,'
        b'"upstream_status":null,"parameters_sha256":"' + sha[b"null"] + b'","output_withheld":null}\n'
        b'{"event":"audit.gap","time":"2026-11-30T02:30:00.123456+00:00","lost":2}\n'
        b'{"event":"tool.invocation","time":"2026-11-30T02:30:00.123456+00:00","tool":"get_order",'
        b'"conversation_id":null,"user_id":null,"outcome":"error","error_code":"UNKNOWN_TOOL","latency_ms":0.5,'
        b'"upstream_status":null,"parameters_sha256":"' + sha[b"{}"] + b'","output_withheld":null}\n'
    )


AUDIT_ROOM = 65536
"""The audit log's size limit in the test below (RLIMIT_FSIZE): past it, a write fails with EFBIG, as on a full disk."""


def test_an_apply_whose_audit_log_stops_taking_lines_reports_every_change_and_a_rerun_converges(
    repo: Path, start: Any
) -> None:
    """A log that stops taking lines mid-apply (its file reaches the size limit after the first line, cutting the
    second short; a full disk, as an apply in CI meets it). No change is started after that; the changes in
    flight finish; every change is still shown with its outcome, and the error names the log, the change, the
    OS error and what to do. It used to stop at the first line it could not write, leaving the changes in flight
    unreported (made or not, nobody was told). Run again with room in the log, the apply converges."""
    import os
    import subprocess
    import sys

    running = start()
    env = {
        **os.environ,
        "GENESYS_CLOUD_API_URL": running.url,
        "GENESYS_CLOUD_ACCESS_TOKEN": "local",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    names = [f"tool_{i}" for i in range(8)]
    for name in names:
        (repo / "tools.d" / f"{name}.yaml").write_text(
            f"name: {name}\ndescription: Does {name}.\nendpoint: https://tools.example.com/{name}\n", encoding="utf-8"
        )
    earlier = b'{"outcome": "ok"}\n'  # an earlier run's lines: room is left for one line and part of another
    (repo / "audit.jsonl").write_bytes(earlier * ((AUDIT_ROOM - 600) // len(earlier)))

    # the limit set in the child itself, before it becomes the apply (preexec_fn may deadlock in a threaded test)
    limited = [
        sys.executable,
        "-c",
        "import os, resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]),) * 2); "
        "os.execv(sys.argv[2], sys.argv[2:])",
        str(AUDIT_ROOM),
    ]

    def apply(limit: bool) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--parallelism", "4"]
        return subprocess.run(
            [*(limited if limit else []), *argv, "--audit-log", "audit.jsonl"],
            check=False,
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    stopped = apply(limit=True)
    assert stopped.returncode == 1, stopped.stderr
    assert "Traceback" not in stopped.stderr
    shown = [line for line in stopped.stderr.splitlines() if line.startswith("[")]
    assert len(shown) == 8, stopped.stderr  # every change, with its outcome
    made = {line.split()[1].rstrip(":") for line in shown if ": created" in line}
    held = {line.split()[1].rstrip(":") for line in shown if "not attempted: held back" in line}
    assert made | held == set(names) and len(made) >= 2 and len(held) >= 3, stopped.stderr
    assert {tool["name"] for tool in running.registry.all_tools()} == made  # shown made: made; held: not sent
    error = stopped.stderr[stopped.stderr.index("error: ") :]
    assert error.startswith("error: --audit-log audit.jsonl: the line for create tool_"), error
    assert (
        "(ok) could not be written (EFBIG: File too large), so the apply stopped: no change was started after "
        "it, and those in flight finished;"
    ) in error
    assert "7 outcomes have no line there (each is shown above)" in error  # all but the first
    assert "run `reconciler apply` again: it converges" in error
    written = (repo / "audit.jsonl").read_bytes().splitlines()
    assert len(written) == (AUDIT_ROOM - 600) // len(earlier) + 2  # the first line whole, the second cut short

    again = apply(limit=False)
    assert again.returncode == 0, again.stderr
    assert {tool["name"] for tool in running.registry.all_tools()} == set(names)
    rerun = (repo / "audit.jsonl").read_bytes().splitlines()[len(written) :]
    assert sorted(json.loads(line)["name"] for line in rerun) == sorted(held)  # each on a line of its own
    argv = [sys.executable, "-m", "reconciler", "plan", "--detailed-exitcode"]
    planned = subprocess.run(argv, check=False, cwd=repo, env=env, capture_output=True, timeout=120)
    assert planned.returncode == 0, planned.stderr
