"""The two audit logs, byte for byte: `apply --audit-log` (reconciler/audit.py) and `serve --audit-log`
(reconciler/serve/audit.py). Pipelines parse these lines; a change of a key, an order or a separator is a change
users meet, so each line is pinned whole here (the time frozen)."""

from __future__ import annotations

import hashlib
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


def test_an_apply_whose_audit_log_stops_taking_lines_says_so_and_what_was_made(
    repo: Path, run: Any, start: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills during an apply (simulated: the log's second line fails with ENOSPC). The change that
    line records was made: the error names the log, the change and the OS error, and says how to see what the
    apply did. It said `No space left on device; check the paths you passed`, as for a path given wrong."""
    import errno
    import io

    class FillsUp(io.StringIO):
        lines = 0

        def write(self, text: str) -> int:
            FillsUp.lines += 1
            if FillsUp.lines >= 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(text)

        def close(self) -> None:  # as a file's: flushing what it still holds fails again
            if FillsUp.lines >= 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            super().close()

    real_open = apply_audit.AuditLog.open.__func__  # type: ignore[attr-defined]

    def opened(cls: Any, path: Path, **settings: Any) -> apply_audit.AuditLog:
        log = real_open(cls, path, **settings)
        log.stream.close()
        log.stream = FillsUp()
        return log

    monkeypatch.setattr(apply_audit.AuditLog, "open", classmethod(opened))
    running = start()
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", running.url)
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "local")
    for i in range(3):
        (repo / "tools.d" / f"t{i}.yaml").write_text(
            f"name: tool_{i}\ndescription: Does {i}.\nendpoint: https://tools.example.com/{i}\n", encoding="utf-8"
        )
    result = run("apply", "--auto-approve", "--parallelism", "1", "--audit-log", "audit.jsonl")
    assert result.code == 1, result.output
    assert (
        "error: --audit-log audit.jsonl: the line for create tool_1 (ok) could not be written (ENOSPC: No space "
        "left on device), so the apply stopped; changes in flight may have been made without a line: run "
        "`reconciler plan` to see what is left"
    ) in result.err, result.err
    assert "Traceback" not in result.err and "check the paths" not in result.err
    assert sorted(tool["name"] for tool in running.registry.all_tools()) == ["tool_0", "tool_1"]
