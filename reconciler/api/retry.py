"""Retry decisions, in one place (tenacity does the looping).

Retried: 429 (after `Retry-After`, capped), 502/503/504 and network failures (exponential backoff with
jitter), and one 401 that a fresh token may cure. Never retried: 400, 403, 404, 409, 422, a second 401, and
any POST/PUT whose request was sent but whose answer was lost or was a 5xx (`maybe_committed`): sending it
again could create a duplicate or overwrite, so the caller looks first (the apply engine resolves a lost
create by name). Time is injected through `RetryPolicy.sleep`, so tests do not sleep.

A 429 is the server asking to slow down, not a failure: 429s have their own budget (`max_rate_limited`),
apart from the attempts that failed (`max_attempts`), so a busy org's 429s do not use up the attempts a flaky
gateway needs, nor the other way round.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import tenacity

from reconciler.api.translate import RETRYABLE_STATUSES
from reconciler.errors import ApiError, AuthenticationError, NetworkError, RateLimitedError, ServerError

log = logging.getLogger("reconciler.api.retry")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    """Attempts per call that may fail (5xx, network, a 401), the first included; 429s are counted apart."""
    max_rate_limited: int = 10
    """429 answers waited out per call; one more fails the call."""
    max_retry_after: float = 60.0
    """The longest `Retry-After` honoured; a longer one is cut to this."""
    max_total_wait: float = 120.0
    """Seconds one call may spend waiting between its attempts, all waits together; the last wait is cut to what
    is left, and the call then fails with its last error (`Retry-After: 100000` does not hold a run for hours)."""
    backoff_initial: float = 0.5
    backoff_max: float = 10.0
    jitter: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    notice: Callable[[str], None] | None = field(default=None, repr=False)
    """Where to say (the CLI: stderr) that a call waits longer than `notice_after` seconds, so a run is never
    silent for long; the same callback hears of requests slow to answer (`exchange`)."""
    notice_after: float = 3.0
    deadline: float = 60.0
    """Seconds one request may take from sending to the last byte of its answer (a server that drip-feeds its
    body is cut off); each read also has the client's own timeout."""


class RefreshToken(Exception):
    """A 401 that a fresh token may cure: retried at once, and only once per call."""

    def __init__(self, error: AuthenticationError) -> None:
        super().__init__(str(error))
        self.error = error


def should_retry(exc: BaseException) -> bool:
    if isinstance(exc, (RefreshToken, RateLimitedError)):
        return True
    if isinstance(exc, ServerError):
        return (exc.status in RETRYABLE_STATUSES or exc.any_retried) and not exc.maybe_committed
    if isinstance(exc, NetworkError):
        return not exc.maybe_committed
    return False


def _reason(exc: BaseException | None) -> str:
    if isinstance(exc, RefreshToken):
        return "401, with a fresh token"
    if isinstance(exc, ApiError) and exc.status is not None:
        return str(exc.status)
    return type(exc).__name__ if exc is not None else "?"


def call_with_retries(attempt: Callable[[], T], policy: RetryPolicy, *, describe: str) -> T:
    """Run `attempt` until it returns, a failure is not worth retrying, or the attempts run out."""
    kinds: dict[int, bool] = {}  # attempt number → whether it was a 429 (the two are counted apart)

    def tally(state: tenacity.RetryCallState) -> tuple[int, int]:
        """Failed attempts and 429s so far. Both `stop` and `wait` ask, in an order tenacity 8 and 9 differ on,
        so the count is kept by attempt number rather than bumped by whichever comes first."""
        kinds[state.attempt_number] = isinstance(state.outcome and state.outcome.exception(), RateLimitedError)
        limited = sum(kinds.values())
        return len(kinds) - limited, limited

    def stop(state: tenacity.RetryCallState) -> bool:
        failed, limited = tally(state)
        spent = state.idle_for >= policy.max_total_wait
        return failed >= policy.max_attempts or limited > policy.max_rate_limited or spent

    def wait(state: tenacity.RetryCallState) -> float:
        return min(delay(state), max(0.0, policy.max_total_wait - state.idle_for))

    def delay(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, RefreshToken):
            return 0.0
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return min(exc.retry_after, policy.max_retry_after)
        # exponential in this kind's own count: a 503 after six 429s waits 0.5 s, not the 10 s cap
        failed, limited = tally(state)
        count = limited if isinstance(exc, RateLimitedError) else failed
        return min(policy.backoff_max, policy.backoff_initial * 2.0 ** (count - 1)) + random.uniform(0, policy.jitter)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        log.debug(
            "retry: %s got %s; attempt %d in %.2f s",
            describe,
            _reason(exc),
            state.attempt_number + 1,
            delay,
        )
        if policy.notice is not None and delay >= policy.notice_after:
            asked = ""
            if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
                asked = f", Retry-After {exc.retry_after:.0f} s" if exc.retry_after > delay + 0.5 else ""
            policy.notice(f"waiting {delay:.0f} s before trying {describe} again ({_reason(exc)}{asked})")

    retrying = tenacity.Retrying(
        stop=stop,
        wait=wait,
        retry=tenacity.retry_if_exception(should_retry),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except RefreshToken as exc:
        raise exc.error from None
    except ApiError as exc:
        if exc.maybe_committed:
            log.debug("retry: %s not retried: it was sent and may have been applied (%s)", describe, _reason(exc))
        elif not should_retry(exc):
            log.debug("retry: %s not retried: %s is final", describe, _reason(exc))
        else:
            log.debug("retry: %s gave up after %d attempts (%s)", describe, len(kinds), _reason(exc))
            if policy.notice is not None and exc.status == 429:
                policy.notice(f"gave up on {describe}: the API kept answering 429 (too many requests)")
        raise


__all__ = ["RefreshToken", "RetryPolicy", "call_with_retries", "should_retry"]
