"""Stage 5: Plan → writes, concurrent and idempotent, and an outcome for every change.

Creates, adoptions and updates run first; deletes only when all of them succeeded, so a rename never leaves
the org without the tool. Every write is resolved against the registry when its answer was lost: a create is
never repeated blindly (the tool is looked up by name and its digest compared), an update that meets
"version changed" checks whether the change it wanted is already there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from reconciler.api import TargetClient, WriteResult
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

MAX_ATTEMPTS = 5
"""Writes per change when answers are lost or refused: as many as the client gives any request
(`RetryPolicy.max_attempts`). Before each new attempt the outcome is settled by a lookup, so a write is never
repeated blindly; with 3, an apply through 10% of 5xx left one of ~1,000 writes failed."""

Status = Literal["ok", "failed", "not_attempted"]

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

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.status == "ok" and o.change.action == action)

    def raise_for_failures(self) -> None:
        if self.failed or self.not_attempted:
            raise ApplyError(
                f"apply finished with {len(self.failed)} failed and {len(self.not_attempted)} not attempted of "
                f"{len(self.outcomes)} changes; fix the cause and run apply again: it converges",
                failures=[f"{o.change.action} {o.change.name}: {o.error}" for o in self.failed],
                not_attempted=[f"{o.change.action} {o.change.name}" for o in self.not_attempted],
            )


def apply_plan(
    plan: Plan,
    api: TargetClient,
    *,
    parallelism: int = 4,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> ApplyReport:
    writes = [c for c in plan.actionable if c.action != "delete"]
    deletes = [c for c in plan.actionable if c.action == "delete"]
    notify = on_outcome or (lambda outcome: None)
    outcomes = _run(writes, api, parallelism, notify)
    if any(o.status == "failed" for o in outcomes):
        skipped = [Outcome(c, "not_attempted", error="held back because an earlier change failed") for c in deletes]
        for outcome in skipped:
            notify(outcome)
        outcomes += skipped
    else:
        outcomes += _run(deletes, api, parallelism, notify)
    return ApplyReport(tuple(outcomes))


def _run(
    changes: Iterable[Change], api: TargetClient, parallelism: int, notify: Callable[[Outcome], None]
) -> list[Outcome]:
    changes = list(changes)
    if not changes:
        return []
    halted: list[str] = []  # why the remaining changes are held back; set once, by the first halting refusal
    lock = threading.Lock()

    def execute(change: Change) -> Outcome:
        if halted:
            outcome = Outcome(change, "not_attempted", error=halted[0])
        else:
            outcome, refusal = _execute(change, api)
            if isinstance(refusal, HALTING):
                with lock:
                    if not halted:
                        status = f" ({refusal.status})" if refusal.status else ""
                        halted.append(f"held back: the API refused {change.action} {change.name}{status}")
        notify(outcome)
        return outcome

    # the first write goes alone: a client that may not write at all is refused once, not `parallelism` times
    outcomes = [execute(changes[0])]
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="apply") as pool:
        return outcomes + list(pool.map(execute, changes[1:]))


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
    return Outcome(change, "ok", record=result.record, correlation_id=result.correlation_id)


def _is_ours(record: Record | None, change: Change) -> bool:
    """The live entity already holds exactly what this change would write."""
    return record is not None and record.digest == change.digest and not record.drifted


def _settle(change: Change, found: Record | None, exc: ApiError, note: str) -> Outcome | None:
    """After a write whose answer was an error or was lost: done if the registry already holds exactly what
    the change would write, else None (the caller decides between failing and writing again)."""
    if _is_ours(found, change):
        return Outcome(change, "ok", record=found, correlation_id=exc.correlation_id, note=note)
    return None


def _failed(change: Change, exc: ApiError, error: str) -> Outcome:
    return Outcome(change, "failed", correlation_id=exc.correlation_id, error=error)


def _create(change: Change, api: TargetClient) -> Outcome:
    assert change.after is not None
    for _ in range(MAX_ATTEMPTS):
        try:
            return _result(change, api.create(change.after))
        except ConflictError as exc:
            existing = api.find_by_name(change.name)
            return _settle(change, existing, exc, "already created (an earlier answer was lost)") or _failed(
                change,
                exc,
                f"a different {api.form.noun} of this name appeared in the registry since the plan; plan again",
            )
        except ApiError as exc:
            if not exc.maybe_committed:
                raise
            # Never create blindly after a lost answer: look for the tool by name first.
            existing = api.find_by_name(change.name)
            settled = _settle(change, existing, exc, "created; the answer was lost and the tool found by name")
            if settled:
                return settled
            if existing is not None:
                return _failed(
                    change, exc, f"a different {api.form.noun} of this name appeared in the registry; plan again"
                )
    return Outcome(change, "failed", error=f"no answer after {MAX_ATTEMPTS} attempts to create it")


def _update(change: Change, api: TargetClient) -> Outcome:
    assert change.after is not None and change.id is not None and change.live_version is not None
    for _ in range(MAX_ATTEMPTS):
        try:
            return _result(change, api.update(change.id, change.after, change.live_version))
        except NotFoundError as exc:
            return _failed(change, exc, "deleted from the registry since the plan; plan again")
        except ConflictError as exc:
            current = api.get(change.id)
            return _settle(change, current, exc, "already updated (an earlier answer was lost)") or _failed(
                change,
                exc,
                f"changed in the registry since the plan (version {current.version}, planned against "
                f"{change.live_version}); plan again",
            )
        except ApiError as exc:
            if not exc.maybe_committed:
                raise
            current = api.get(change.id)
            settled = _settle(change, current, exc, "updated; the answer was lost and the result read back")
            if settled:
                return settled
            if current.version != change.live_version:
                return _failed(change, exc, "changed in the registry while it was being updated; plan again")
    return Outcome(change, "failed", error=f"no answer after {MAX_ATTEMPTS} attempts to update it")


def _delete(change: Change, api: TargetClient) -> Outcome:
    assert change.id is not None
    for _ in range(MAX_ATTEMPTS):
        try:
            result = api.delete(change.id)
        except ApiError as exc:
            if not exc.maybe_committed:
                raise
            continue  # deleting twice is harmless: the second answers 404, which counts as done
        note = "already gone" if result.status == 404 else None
        return Outcome(change, "ok", correlation_id=result.correlation_id, note=note)
    return Outcome(change, "failed", error=f"no answer after {MAX_ATTEMPTS} attempts to delete it")
