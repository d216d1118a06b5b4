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
