"""The audit log of an apply: one JSON line per change, appended as each one finishes.

`outcome` is ok, failed, not_attempted or unknown (in flight when the run was interrupted); `written` says
whether this run's own write made the change (true), found it made by another writer, as a concurrent apply
would (false), or cannot tell (null), so two runs at once do not both claim the same write.

`open_for_append` opens an audit log for `serve`'s log too (serve/audit.py): the two share how a log file is
opened, not what they write nor what a failed write means (an apply refuses a FIFO, and a line it cannot
write stops it: no further change starts, those in flight finish, every outcome is still shown; serve feeds a
FIFO and answers a call whose line failed)."""

from __future__ import annotations

import contextlib
import errno
import getpass
import json
import os
import stat
import subprocess
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path

from reconciler.apply import Outcome, OutcomeNotRecorded
from reconciler.errors import ConfigurationError
from reconciler.redaction import one_line


def current_actor(environ: Mapping[str, str]) -> str:
    if environ.get("GITHUB_ACTOR"):
        return environ["GITHUB_ACTOR"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def current_commit(environ: Mapping[str, str], root: Path) -> str | None:
    if environ.get("GITHUB_SHA"):
        return environ["GITHUB_SHA"]
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None


def open_for_append(path: Path) -> int:
    """A descriptor appending to `path`, created (0644) with its folders. Opened without blocking: opening a
    FIFO to append would wait for a reader forever, saying nothing; with no reader it is OSError ENXIO instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o644)


def _ends_a_line(path: Path) -> bool:
    """Whether `path` is empty or ends with a line break (unreadable: taken as ending one)."""
    try:
        with path.open("rb") as file:
            if file.seek(0, os.SEEK_END) == 0:
                return True
            file.seek(-1, os.SEEK_END)
            return file.read(1) == b"\n"
    except OSError:
        return True


class LineAppender:
    """Writes whole lines to a descriptor, for both audit logs (apply's and serve's). Not through a buffer: a line
    that failed must not be written later, ahead of the next one, by a flush that finds room again. A line cut
    short by a failure (the file reached its size limit midway) is ended, so the next line starts on its own."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.torn = False
        """The last write broke off mid-line."""

    def append(self, line: bytes) -> OSError | None:
        """Writes `line` whole, or says why not."""
        data = b"\n" + line if self.torn else line
        written = 0
        try:
            while written < len(data):  # a regular file takes all at once; a pipe may take it in parts
                written += os.write(self.descriptor, data[written:])
        except OSError as exc:
            if written:
                self.torn = data[written - 1 : written] != b"\n"
            return exc
        self.torn = False
        return None


class AuditLog:
    """Appends one record per outcome; safe to call from the apply threads. Each line passes through `scrub`
    (a server's error may echo the payload, secrets included)."""

    def __init__(
        self,
        descriptor: int,
        *,
        actor: str,
        commit: str | None,
        target: str,
        scrub: Callable[[str], str] = lambda text: text,
    ) -> None:
        self.scrub = scrub
        self.descriptor = descriptor
        self._lines = LineAppender(descriptor)
        self.actor = actor
        self.commit = commit
        self.target = target
        self.lock = threading.Lock()
        self.path: Path | str = "the audit log"

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        actor: str,
        commit: str | None,
        target: str,
        scrub: Callable[[str], str] = lambda text: text,
    ) -> AuditLog:
        descriptor = open_for_append(path)
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise ConfigurationError(f"--audit-log {path}: not a regular file; name a file to append to")
        os.set_blocking(descriptor, True)
        log = cls(descriptor, actor=actor, commit=commit, target=target, scrub=scrub)
        log.path = path
        log._lines.torn = not _ends_a_line(path)  # an earlier run's last line cut short (its disk filled up)
        return log

    def record(self, outcome: Outcome) -> None:
        change = outcome.change
        entry = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "action": change.action,
            "name": change.name,
            "id": outcome.id,
            "version_before": change.live_version,
            "version_after": outcome.version_after,
            "digest": change.digest,
            "outcome": outcome.status,
            "written": outcome.written,
            "error": outcome.error,
            "note": outcome.note,
            "correlation_id": outcome.correlation_id,
            "actor": self.actor,
            "commit": self.commit,
            "target": self.target,
        }
        line = self.scrub(json.dumps(entry, sort_keys=True))
        with self.lock:
            error = self._lines.append((line + "\n").encode("utf-8"))
        if error is not None:  # a full disk mid-run: the change happened; not a path given wrong
            reason = errno.errorcode.get(error.errno or 0, type(error).__name__)
            which = f"{change.action} {one_line(change.name)} ({outcome.status})"
            raise OutcomeNotRecorded(
                f"--audit-log {self.path}: the line for {which} could not be written ({reason}: "
                f"{error.strerror or 'no detail'})",
                which,
            )

    def close(self) -> None:
        # every line was written as it was recorded, or its failure raised: a close has nothing left to write,
        # and an error of its own must not replace that report (it is called in a finally)
        with contextlib.suppress(OSError):
            os.close(self.descriptor)
