"""Stage 5: Plan → writes, concurrent and idempotent, and an outcome for every change.

Creates, adoptions and updates run first; deletes only when all of them succeeded, so a rename never leaves
the org without the tool. Every write is resolved against the registry when its answer was lost: a create is
never repeated blindly (the tool is looked up by name and its digest compared), an update that meets
"version changed" checks whether the change it wanted is already there.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from reconciler.api import TargetClient, WriteResult
from reconciler.api.threads import HEAR_CTRL_C_EVERY, threads_leave_ctrl_c_to_main
from reconciler.errors import (
    ApiError,
    ApplyError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from reconciler.plan import Change, Plan
from reconciler.state import Record
from reconciler.words import counted

MAX_ATTEMPTS = 5
"""Writes per change when answers are lost or refused: as many as the client gives any request
(`RetryPolicy.max_attempts`). Before each new attempt the outcome is settled by a lookup, so a write is never
repeated blindly; with 3, an apply through 10% of 5xx left one of ~1,000 writes failed."""

Status = Literal["ok", "failed", "not_attempted", "unknown"]
"""`unknown`: the write was in flight when the run was interrupted; it may or may not have been applied."""

INTERRUPT_GRACE = 10.0
"""Seconds an interrupted apply waits for the writes in flight to answer before it reports them as unknown."""

HALTING = (AuthenticationError, PermissionDeniedError)
"""Refusals that every later write would meet too (the credentials, or the client's role): after one, the
changes not yet started are held back instead of being sent to be refused one by one (those already sent,
at most `parallelism`, finish)."""


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    record: Record | None = None
    error: str | None = None
    correlation_id: str | None = None
    note: str | None = None
    written: bool | None = None
    """Whether this run's own write made the change (True), found it already made by another writer (False),
    or cannot tell (None: not written, failed, or the answer was lost and the result found in the registry)."""

    @property
    def version_after(self) -> int | None:
        return self.record.version if self.record is not None else None

    @property
    def id(self) -> str | None:
        value = (self.record.id if self.record is not None else None) or self.change.id
        return str(value) if value else None


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def not_attempted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "not_attempted"]

    @property
    def unknown(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "unknown"]

    def count(self, action: str) -> int:
        """The changes of this action this run made: not those it found already made by another writer."""
        return sum(
            1 for o in self.outcomes if o.status == "ok" and o.change.action == action and o.written is not False
        )

    @property
    def made_by_another_writer(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "ok" and o.written is False]

    def raise_for_failures(self) -> None:
        if self.failed or self.not_attempted:
            raise ApplyError(
                f"apply finished with {len(self.failed)} failed and {len(self.not_attempted)} not attempted of "
                f"{len(self.outcomes)} changes; fix the cause and run apply again: it converges",
                failures=[f"{o.change.action} {o.change.name}: {o.error}" for o in self.failed],
                not_attempted=[f"{o.change.action} {o.change.name}" for o in self.not_attempted],
            )


class ApplyInterrupted(ApplyError):
    """Ctrl-C during an apply: no write was started after it, and each change is accounted for."""

    exit_code = 130

    def __init__(self, report: ApplyReport) -> None:
        self.report = report
        done = report.count("create") + report.count("update") + report.count("adopt") + report.count("delete")
        super().__init__(
            f"interrupted: {done} done, {len(report.failed)} failed, {len(report.unknown)} unknown (in flight when "
            f"interrupted; they may or may not have been applied), {len(report.not_attempted)} not started. "
            "Run `reconciler plan` to see what is left, then `reconciler apply` again: it converges",
            failures=[f"{o.change.action} {o.change.name}: {o.error}" for o in report.failed + report.unknown],
        )


class OutcomeNotRecorded(ApplyError):
    """What an `on_outcome` raises when it could not record an outcome (the audit log stopped taking lines):
    `apply_plan` then starts no further write, lets those in flight finish, reports every change to
    `on_outcome` all the same, and raises ApplyStopped."""

    def __init__(self, message: str, change: str) -> None:
        super().__init__(message)
        self.reason = message
        self.change = change
        """The change and its outcome, as a user reads them (`create get_order (ok)`)."""


class ApplyStopped(ApplyError):
    """An apply stopped because its outcomes could not be recorded; `report` has an outcome for every change."""

    def __init__(self, report: ApplyReport, unrecorded: list[OutcomeNotRecorded]) -> None:
        self.report = report
        unwritten = len(unrecorded)
        super().__init__(
            f"{unrecorded[0].reason}, so the apply stopped: no change was started after it, and those in flight "
            f"finished; {counted(unwritten, 'outcome')} {'has' if unwritten == 1 else 'have'} no line there "
            "(each is shown above). "
            "Make room for the log and run `reconciler apply` again: it converges (`reconciler plan` shows what "
            "is left)",
            failures=[f"{o.change.action} {o.change.name}: {o.error}" for o in report.failed],
            not_attempted=[f"{o.change.action} {o.change.name}" for o in report.not_attempted],
        )


def apply_plan(
    plan: Plan,
    api: TargetClient,
    *,
    parallelism: int = 4,
    on_outcome: Callable[[Outcome], None] | None = None,
    grace: float = INTERRUPT_GRACE,
) -> ApplyReport:
    """Every change of `plan`, each with its outcome. On KeyboardInterrupt no further write starts, the writes in
    flight get `grace` seconds to answer, and `ApplyInterrupted` carries an outcome for every change (`unknown`
    for those still in flight); `on_outcome` has seen each of them, once."""
    writes = [c for c in plan.actionable if c.action != "delete"]
    deletes = [c for c in plan.actionable if c.action == "delete"]
    run = _Run(api, parallelism, on_outcome or (lambda outcome: None), grace)
    try:
        outcomes = run.all(writes)
        if any(o.status == "failed" for o in outcomes):
            outcomes += run.skip(deletes, "held back because an earlier change failed")
        else:
            outcomes += run.all(deletes)
    except KeyboardInterrupt:
        settled = run.settled()
        remaining = [c for c in writes + deletes if _key(c) not in settled]
        outcomes = [*settled.values(), *run.skip(remaining, "not started: the apply was interrupted")]
        raise ApplyInterrupted(ApplyReport(tuple(outcomes))) from None
    if run.unrecorded:
        raise ApplyStopped(ApplyReport(tuple(outcomes)), run.unrecorded)
    return ApplyReport(tuple(outcomes))


class _Run:
    """Changes run on daemon threads, each outcome reported once, even when an interrupt races it.

    Daemon threads rather than a ThreadPoolExecutor: after an interrupt and its grace period, a write still
    waiting for its answer must not hold the process open (the executor's threads are joined at exit)."""

    def __init__(self, api: TargetClient, parallelism: int, notify: Callable[[Outcome], None], grace: float) -> None:
        self.api = api
        self.parallelism = max(1, parallelism)
        self.notify = notify
        self.grace = grace
        self.lock = threading.Condition()
        self.outcomes: dict[_Key, Outcome] = {}  # in the order they settled
        self.halted: list[str] = []  # why the remaining changes are held back; set once, by the first refusal
        self.queue: deque[Change] = deque()
        self.running: set[_Key] = set()
        self.crash: list[BaseException] = []  # a bug in a worker, raised again on the caller's thread
        self.unrecorded: list[OutcomeNotRecorded] = []  # outcomes `notify` could not record, in order

    def settled(self) -> dict[_Key, Outcome]:
        with self.lock:
            return dict(self.outcomes)

    def settle(self, outcome: Outcome) -> Outcome:
        with self.lock:
            key = _key(outcome.change)
            if key in self.outcomes:  # reported unknown at the interrupt: its late answer is not reported again
                return self.outcomes[key]
            self.outcomes[key] = outcome
            try:
                self.notify(outcome)
            except OutcomeNotRecorded as exc:  # an audit log that stopped taking lines: the changes not yet
                # started are held back (each would be made without its line), those in flight finish, and
                # every outcome is still reported, so none is lost to the user and a re-run converges
                self.unrecorded.append(exc)
                if not self.halted:
                    self.halted.append(f"held back: the outcome of {exc.change} could not be recorded")
            self.lock.notify_all()
            return outcome

    def skip(self, changes: Iterable[Change], why: str) -> list[Outcome]:
        return [self.settle(Outcome(change, "not_attempted", error=why)) for change in changes]

    def execute(self, change: Change) -> Outcome:
        if self.halted:
            return self.settle(Outcome(change, "not_attempted", error=self.halted[0]))
        outcome, refusal = _execute(change, self.api)
        if isinstance(refusal, HALTING):
            with self.lock:
                if not self.halted:
                    status = f" ({refusal.status})" if refusal.status else ""
                    self.halted.append(f"held back: the API refused {change.action} {change.name}{status}")
        return self.settle(outcome)

    def all(self, changes: list[Change]) -> list[Outcome]:
        """Run `changes`, the first alone (a client that may not write at all is refused once, not
        `parallelism` times). On Ctrl-C: start no further write, give those in flight `grace` seconds, settle
        the rest (`unknown` when in flight, else `not_attempted`), and pass the interrupt on."""
        if not changes:
            return []
        with self.lock:
            self.queue.extend(changes)
            target = len(self.outcomes) + len(changes)
        try:
            self.work(limit=1)
            self.start_workers(min(self.parallelism, len(changes) - 1))
            with self.lock:
                while not self.crash and len(self.outcomes) < target:
                    # bounded: a Ctrl-C handed to a thread that does not block SIGINT was heard at the next outcome
                    self.lock.wait(HEAR_CTRL_C_EVERY)
        except KeyboardInterrupt:
            self.interrupted(changes)
            raise
        if self.crash:
            raise self.crash[0]
        return [self.outcomes[_key(change)] for change in changes]

    def start_workers(self, count: int) -> None:
        """Start `count` workers, each with SIGINT blocked (`threads_leave_ctrl_c_to_main`): landing on a worker,
        a Ctrl-C went unheard until the next outcome woke the main thread, and workers took further changes
        meanwhile. Blocked in the workers, it goes to the main thread, waiting for outcomes."""
        with threads_leave_ctrl_c_to_main():
            for number in range(count):
                threading.Thread(target=self.work, name=f"apply-{number}", daemon=True).start()

    def interrupted(self, changes: list[Change]) -> None:
        with self.lock:
            self.queue.clear()
            deadline = time.monotonic() + self.grace
            with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C cuts the grace short
                while self.running and (left := deadline - time.monotonic()) > 0:
                    self.lock.wait(min(left, HEAR_CTRL_C_EVERY))  # bounded, as in `all`
            in_flight = set(self.running)
        for change in changes:
            if _key(change) in in_flight:
                self.settle(Outcome(change, "unknown", error=_IN_FLIGHT))
            else:  # settled already (then this is a no-op), or never started
                self.settle(Outcome(change, "not_attempted", error="not started: the apply was interrupted"))

    def work(self, limit: int | None = None) -> None:
        """Take changes from the queue until it is empty, or `limit` of them (on the caller's thread, where an
        exception, KeyboardInterrupt included, propagates; a worker's bug is handed to the caller instead)."""
        taken = 0
        while limit is None or taken < limit:
            with self.lock:
                if not self.queue or self.crash:
                    return
                change = self.queue.popleft()
                self.running.add(_key(change))
            taken += 1
            try:
                self.execute(change)
            except KeyboardInterrupt:  # on the caller's thread, in the middle of this write: sent or not?
                self.settle(Outcome(change, "unknown", error=_IN_FLIGHT))
                raise
            except Exception as exc:
                if limit is not None:
                    raise
                with self.lock:
                    self.crash.append(exc)
                return
            finally:
                with self.lock:
                    self.running.discard(_key(change))
                    self.lock.notify_all()


_Key = tuple[str, str, str | None]
_IN_FLIGHT = "in flight when interrupted; it may or may not have been applied"


def _key(change: Change) -> _Key:
    return (change.action, change.name, change.id)


def _execute(change: Change, api: TargetClient) -> tuple[Outcome, ApiError | None]:
    """The outcome of `change`, and the error that ended it, if one did."""
    try:
        if change.action == "create":
            return _create(change, api), None
        if change.action in ("update", "adopt"):
            return _update(change, api), None
        return _delete(change, api), None
    except ApiError as exc:
        return Outcome(change, "failed", error=str(exc), correlation_id=exc.correlation_id), exc


def _result(change: Change, result: WriteResult) -> Outcome:
    return Outcome(change, "ok", record=result.record, correlation_id=result.correlation_id, written=True)


def _is_ours(record: Record | None, change: Change, owner: str | None) -> bool:
    """The live entity already holds exactly what this change would write, under the owner it writes (the digest
    leaves the owner out: a tool moved to a new `managed_by`, or another repository's tool of the same content,
    has the digest of the change and is not yet done)."""
    return record is not None and record.digest == change.digest and not record.drifted and record.owner == owner


def _settle(
    change: Change, found: Record | None, exc: ApiError, note: str, lost: bool = True, *, api: TargetClient
) -> Outcome | None:
    """After a write whose answer was an error or was lost: done if the registry already holds exactly what
    the change would write, else None (the caller decides between failing and writing again). `lost`: an
    earlier write of this run may have made it; else another writer did (a concurrent apply), not this run."""
    if _is_ours(found, change, api.form.owner_of(change.after or {})):
        if not lost:
            note = "already made by another writer (a concurrent apply?); this run wrote nothing"
        return Outcome(
            change, "ok", record=found, correlation_id=exc.correlation_id, note=note, written=None if lost else False
        )
    return None


def _failed(change: Change, exc: ApiError, error: str) -> Outcome:
    return Outcome(change, "failed", correlation_id=exc.correlation_id, error=error)


def _create(change: Change, api: TargetClient) -> Outcome:
    assert change.after is not None
    lost = False  # an answer of this run was lost: a write of ours may have landed
    for _ in range(MAX_ATTEMPTS):
        try:
            return _result(change, api.create(change.after))
        except ConflictError as exc:
            existing = api.find_by_name(change.name)
            noun = api.form.noun
            if existing is None:  # planning again plans this create again: say what holds the name instead
                return _failed(
                    change,
                    exc,
                    f"the registry refused the name as taken (409) but lists no {noun} of exactly this name: one "
                    f"whose name differs only in case, or one this client cannot see, holds it; rename the {noun} "
                    "in tools.d, or the other one",
                )
            return _settle(
                change, existing, exc, "already created (an earlier answer was lost)", lost, api=api
            ) or _failed(
                change, exc, f"a different {noun} of this name appeared in the registry since the plan; plan again"
            )
        except ApiError as exc:
            if not exc.maybe_committed:
                raise
            # Never create blindly after a lost answer: look for the tool by name first.
            lost = True
            existing = api.find_by_name(change.name)
            settled = _settle(change, existing, exc, "created; the answer was lost and the tool found by name", api=api)
            if settled:
                return settled
            if existing is not None:
                return _failed(
                    change, exc, f"a different {api.form.noun} of this name appeared in the registry; plan again"
                )
    return Outcome(change, "failed", error=f"no answer after {MAX_ATTEMPTS} attempts to create it")


def _update(change: Change, api: TargetClient) -> Outcome:
    assert change.after is not None and change.id is not None and change.live_version is not None
    lost = False
    for _ in range(MAX_ATTEMPTS):
        try:
            return _result(change, api.update(change.id, change.after, change.live_version))
        except NotFoundError as exc:
            return _failed(change, exc, "deleted from the registry since the plan; plan again")
        except ConflictError as exc:
            current = api.get(change.id)
            return _settle(
                change, current, exc, "already updated (an earlier answer was lost)", lost, api=api
            ) or _failed(
                change,
                exc,
                f"changed in the registry since the plan (version {current.version}, planned against "
                f"{change.live_version}); plan again",
            )
        except ApiError as exc:
            if not exc.maybe_committed:
                raise
            lost = True
            current = api.get(change.id)
            settled = _settle(change, current, exc, "updated; the answer was lost and the result read back", api=api)
            if settled:
                return settled
            if current.version != change.live_version:
                return _failed(change, exc, "changed in the registry while it was being updated; plan again")
    return Outcome(change, "failed", error=f"no answer after {MAX_ATTEMPTS} attempts to update it")


def _delete(change: Change, api: TargetClient) -> Outcome:
    assert change.id is not None
    lost = False
    for _ in range(MAX_ATTEMPTS):
        try:
            result = api.delete(change.id)
        except ApiError as exc:
            if not exc.maybe_committed:
                raise
            lost = True
            continue  # deleting twice is harmless: the second answers 404, which counts as done
        if result.status != 404:
            return Outcome(change, "ok", correlation_id=result.correlation_id, written=True)
        lost = lost or result.resent  # the client sent it again after a lost answer: the 404 may be our own
        note = "already gone" if lost else "already gone (deleted by another writer); this run wrote nothing"
        return Outcome(change, "ok", correlation_id=result.correlation_id, note=note, written=None if lost else False)
    return Outcome(change, "failed", error=f"no answer after {MAX_ATTEMPTS} attempts to delete it")
