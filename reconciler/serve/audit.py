"""The audit log: one JSON line per invocation whose payload could be parsed, unknown tools included.

    {"event": "tool.invocation", "time": "2026-11-29T13:20:00.123456+00:00", "tool": "get_order",
     "conversation_id": "C-1", "user_id": "U-1", "outcome": "success", "error_code": null,
     "latency_ms": 12.3, "upstream_status": 200, "parameters_sha256": "…"}

`tool` is the name as requested, cut at 64 characters (no served name is longer) with `…` marking the cut, and
the ids at 256: a caller must not be able to grow the log by a megabyte a line. The parameters appear only as
the SHA-256 of their canonical JSON (sorted keys, no spaces, UTF-8: `compile.payload.canonical_json`), so a
line can be matched to a known call without holding its values (null for a refused payload nested too deeply to
be written as JSON). Each line is written and flushed when the
invocation ends, so the file is complete once the service has exited.
"""

from __future__ import annotations

import errno
import hashlib
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import orjson

from reconciler.compile.payload import canonical_bytes, canonical_json
from reconciler.errors import ConfigurationError
from reconciler.runtime import Outcome

MAX_TOOL = 64
"""The longest tool name there can be (`^[a-zA-Z0-9_-]{1,64}$`): a longer one is cut, as requested up to here."""
MAX_ID = 256


def bounded(text: str | None, limit: int) -> str | None:
    """`text` as it is, or its first `limit` characters and `…` when it is longer."""
    return text if text is None or len(text) <= limit else text[:limit] + "…"


def parameters_sha256(parameters: Any) -> str | None:
    """None for parameters nested too deeply to write as JSON (the payload was refused): the line is still written."""
    try:  # canonical_json's bytes, written by orjson where it writes the same (a third of the audit's CPU per call)
        return hashlib.sha256(canonical_bytes(parameters)).hexdigest()
    except UnicodeEncodeError:  # a lone surrogate (JSON can hold one): its line is still written
        return hashlib.sha256(canonical_json(parameters).encode("utf-8", "surrogatepass")).hexdigest()
    except (RecursionError, ValueError):  # too deep, or a float JSON cannot write (the app refuses both first)
        return None


def audit_record(
    tool: str, conversation_id: str | None, user_id: str | None, parameters: Any, outcome: Outcome
) -> dict[str, Any]:
    return {
        "event": "tool.invocation",
        "time": datetime.now(timezone.utc).isoformat(),
        "tool": bounded(tool, MAX_TOOL),
        "conversation_id": bounded(conversation_id, MAX_ID),
        "user_id": bounded(user_id, MAX_ID),
        "outcome": outcome.status,
        "error_code": outcome.error_code,
        "latency_ms": round(outcome.latency_ms, 3),
        "upstream_status": outcome.upstream_status,
        "parameters_sha256": parameters_sha256(parameters),
    }


class AuditLog:
    """Appends to `path` (created with its folders); `None`: records are dropped."""

    def __init__(self, path: Path | None) -> None:
        self._file: IO[bytes] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # without blocking: opening a FIFO to append would wait for a reader forever, saying nothing
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
            try:
                descriptor = os.open(path, flags, 0o644)
            except OSError as exc:
                if exc.errno == errno.ENXIO:
                    raise ConfigurationError(
                        f"--audit-log {path}: a FIFO that nobody reads; start its reader first, or name a file"
                    ) from None
                raise
            os.set_blocking(descriptor, True)  # a line waits for a slow reader rather than fail
            self._file = os.fdopen(descriptor, "ab")

    def write(self, record: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(orjson.dumps(record) + b"\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


__all__ = ["AuditLog", "audit_record", "parameters_sha256"]
