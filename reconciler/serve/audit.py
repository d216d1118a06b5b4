"""The audit log: one JSON line per invocation whose payload could be parsed, unknown tools included.

    {"event": "tool.invocation", "time": "2026-11-29T13:20:00.123456+00:00", "tool": "get_order",
     "conversation_id": "C-1", "user_id": "U-1", "outcome": "success", "error_code": null,
     "latency_ms": 12.3, "upstream_status": 200, "parameters_sha256": "…", "output_withheld": null}

`tool` is the name as requested, cut at 64 characters (no served name is longer) with `…` marking the cut, and
the ids at 256: a caller must not be able to grow the log by a megabyte a line. The parameters appear only as
the SHA-256 of their canonical JSON (sorted keys, no spaces, UTF-8: `compile.payload.canonical_json`), so a
line can be matched to a known call without holding its values (null for a refused payload nested too deeply to
be written as JSON). `output_withheld` is why a 2xx answer was not passed on (`too_large`, `too_deep`,
`unreadable`), as the answer's metadata says, or null. Each line is written when the invocation ends, before
its answer goes back, so the file is complete once the service has exited.

The lines are written by a thread of their own, never on the event loop: a write to a network file system (NFS,
SMB) can block for seconds, or for as long as its server is away, and on the loop that would stop every call,
/healthz included. The back-pressure rule: an invocation's answer waits for its line up to `LINE_WAIT` (1 s);
past that it goes back all the same, its line still queued and written, in order, once the file system takes it.
/readyz answers 503 while a queued line has waited longer than that, so a load balancer sends the calls to a
replica that keeps up. The queue holds `MAX_QUEUED` lines (10,000: a few MB); a line that finds it full is lost,
as a line that fails is (below).

A line that cannot be written (a full disk, a reader of the FIFO gone) does not fail the call it records: the
call has happened, its answer goes back, and an error answer would make a model repeat a call that may not be
repeated. The failure is made visible instead, without a value: a warning on stderr (the file and the OS error),
`reconciler_audit_write_failures_total` in /metrics, and `failing`, which turns /readyz to 503 so a load balancer
sends calls to a replica that can audit them. Once a write succeeds again, a `{"event": "audit.gap", "lost": N}`
line says how many lines are missing there, and readiness comes back; /readyz tries that line itself, so a
replica taken out of rotation recovers without traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import threading
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from reconciler.api.threads import threads_leave_ctrl_c_to_main
from reconciler.audit import LineAppender, open_for_append
from reconciler.compile.payload import canonical_bytes, canonical_json
from reconciler.errors import ConfigurationError
from reconciler.runtime import Outcome

log = logging.getLogger("reconciler.serve")

MAX_TOOL = 64
"""The longest tool name there can be (`^[a-zA-Z0-9_-]{1,64}$`): a longer one is cut, as requested up to here."""
MAX_ID = 256
LINE_WAIT = 1.0
"""Seconds an invocation's answer waits for its audit line to be written (the rule is in the module's text)."""
MAX_QUEUED = 10_000
"""Lines waiting for the writer thread at most; a line past that is lost (counted, and an audit.gap says so)."""
CLOSE_WAIT = 10.0
"""Seconds a stopping service waits for the lines still queued (a file system that never answers must not keep
it from exiting)."""


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
        "output_withheld": outcome.withheld,
    }


class AuditLog:
    """Appends to `path` (created with its folders); `None`: records are dropped."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._descriptor: int | None = None
        self.lost = 0
        """Lines not written since the last one that was (0 while writes succeed)."""
        self._lines: LineAppender | None = None
        self.failures = 0
        """Lines lost since the start (reconciler_audit_write_failures_total)."""
        # the writer thread's queue: (the line, or None to try the gap line; when it was queued; the loop and the
        # future of the invocation waiting for it); `_lock` guards it, and `lost`, which the loop adds to too
        self._queue: deque[tuple[bytes | None, float, asyncio.AbstractEventLoop, asyncio.Future[bool]]] = deque()
        self._lock = threading.Condition()
        self._writer: threading.Thread | None = None
        self._closing = False
        if path is not None:
            try:
                descriptor = open_for_append(path)
            except OSError as exc:
                if exc.errno == errno.ENXIO:
                    raise ConfigurationError(
                        f"--audit-log {path}: a FIFO that nobody reads; start its reader first, or name a file"
                    ) from None
                raise
            os.set_blocking(descriptor, True)  # a line waits for a slow reader rather than fail
            self._descriptor = descriptor
            self._lines = LineAppender(descriptor)

    @property
    def failing(self) -> bool:
        return self.lost > 0

    @property
    def behind(self) -> bool:
        """Whether a line has waited for the writer thread longer than LINE_WAIT (a file system that blocks)."""
        try:
            oldest = self._queue[0][1]
        except IndexError:  # nothing waits (or the thread took the last line just now)
            return False
        return time.monotonic() - oldest > LINE_WAIT

    async def log(self, record: dict[str, Any]) -> bool:
        """`write`, by the writer thread: False when the line could not be written, or was lost for want of room;
        True when it was written, or is still queued after LINE_WAIT (the answer then goes back without it)."""
        if self._descriptor is None:
            return True
        return await self._queued(orjson.dumps(record) + b"\n")

    async def probe(self) -> bool:
        """`recover`, by the writer thread (after the lines queued before it)."""
        if not self.lost or self._descriptor is None:
            return True
        return await self._queued(None)

    async def _queued(self, line: bytes | None) -> bool:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        with self._lock:
            if len(self._queue) >= MAX_QUEUED:
                self.lost += 1
                self.failures += 1
                return False
            self._queue.append((line, time.monotonic(), loop, done))
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_queued, name="audit-log", daemon=True)
                with threads_leave_ctrl_c_to_main():  # a Ctrl-C is the main thread's, which stops the server
                    self._writer.start()
            self._lock.notify()
        timer = loop.call_later(LINE_WAIT, _settle, done, True)  # late: written later, not lost
        try:
            return await done
        finally:
            timer.cancel()

    def _write_queued(self) -> None:
        """The writer thread: writes the queued lines in order, and tells each waiting invocation how it went."""
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._lock.wait()
                if not self._queue:
                    return
                batch = list(self._queue)
            results = [self.recover() if line is None else self._write_line(line) for line, _, _, _ in batch]
            with self._lock:
                for _ in batch:
                    self._queue.popleft()
            settled: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool]]] = {}
            for (_, _, loop, done), result in zip(batch, results, strict=True):
                settled.setdefault(loop, []).append((done, result))
            for loop, futures in settled.items():  # one wake-up of each loop for the whole batch
                with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits for these lines
                    loop.call_soon_threadsafe(_settle_all, futures)

    def write(self, record: dict[str, Any]) -> bool:
        """Append `record` as one line; False when it could not be: reported, never raised (see the module)."""
        if self._descriptor is None:
            return True
        return self._write_line(orjson.dumps(record) + b"\n")

    def _write_line(self, line: bytes) -> bool:
        if self.lost and not self.recover():
            self._failed(None)
            return False
        error = self._append(line)
        if error is not None:
            self._failed(error)
            return False
        return True

    def recover(self) -> bool:
        """Whether lines can be written: while failing, it writes the gap line (how many lines are missing)."""
        lost = self.lost
        if not lost or self._descriptor is None:
            return True
        gap = {"event": "audit.gap", "time": datetime.now(timezone.utc).isoformat(), "lost": lost}
        if self._append(orjson.dumps(gap) + b"\n") is not None:
            return False
        log.warning(
            "audit log %s: writing again; %d lines are missing (an audit.gap line marks where)", self.path, lost
        )
        with self._lock:  # the event loop may have lost more meanwhile (a full queue): those are the next gap's
            self.lost -= lost
        return True

    def _append(self, line: bytes) -> OSError | None:
        assert self._lines is not None
        return self._lines.append(line)

    def _failed(self, error: OSError | None) -> None:
        with self._lock:
            self.lost += 1
            self.failures += 1
        if error is not None and self.lost == 1:  # said once per gap, not once per call
            reason = errno.errorcode.get(error.errno or 0, type(error).__name__)
            log.warning(
                "audit log %s: a line could not be written (%s: %s); the call was answered, the line is counted in "
                "reconciler_audit_write_failures_total, and /readyz answers 503 until the log takes lines again",
                self.path,
                reason,
                error.strerror or "no detail",
            )

    def close(self) -> None:
        """Writes the lines still queued (for up to CLOSE_WAIT seconds), then closes the log."""
        with self._lock:
            self._closing = True
            self._lock.notify()
            writer = self._writer
        if writer is not None:
            writer.join(CLOSE_WAIT)
            if writer.is_alive():  # the file system does not answer: its descriptor stays with the thread
                log.warning("audit log %s: %d lines could not be written before exit", self.path, len(self._queue))
                return
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def _settle(done: asyncio.Future[bool], result: bool) -> None:
    if not done.done():
        done.set_result(result)


def _settle_all(futures: list[tuple[asyncio.Future[bool], bool]]) -> None:
    for done, result in futures:
        _settle(done, result)


__all__ = ["AuditLog", "audit_record", "parameters_sha256"]
