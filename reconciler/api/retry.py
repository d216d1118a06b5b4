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
    """429 answers waited out per call; the next one fails the call."""
    max_retry_after: float = 60.0
    """The longest `Retry-After` honoured; a longer one is cut to this."""
    backoff_initial: float = 0.5
    backoff_max: float = 10.0
    jitter: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


class RefreshToken(Exception):
    """A 401 that a fresh token may cure: retried at once, and only once per call."""

    def __init__(self, error: AuthenticationError) -> None:
        super().__init__(str(error))
        self.error = error


def should_retry(exc: BaseException) -> bool:
    if isinstance(exc, (RefreshToken, RateLimitedError)):
        return True
    if isinstance(exc, ServerError):
        return exc.status in RETRYABLE_STATUSES and not exc.maybe_committed
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
    # wait_exponential + wait_random rather than wait_exponential_jitter, whose `initial` is deprecated in
    # tenacity 9.2 and whose replacement does not exist in 8.x.
    backoff = tenacity.wait_exponential(
        multiplier=policy.backoff_initial, max=policy.backoff_max
    ) + tenacity.wait_random(0, policy.jitter)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, RefreshToken):
            return 0.0
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return min(exc.retry_after, policy.max_retry_after)
        return float(backoff(state))

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

    outcomes: dict[int, bool] = {}  # attempt number → whether it was a 429

    def stop(state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome is not None else None
        outcomes[state.attempt_number] = isinstance(exc, RateLimitedError)
        limited = sum(outcomes.values())
        return limited >= policy.max_rate_limited or len(outcomes) - limited >= policy.max_attempts

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
            log.debug("retry: %s gave up after %d attempts (%s)", describe, len(outcomes), _reason(exc))
        raise


__all__ = ["RefreshToken", "RetryPolicy", "call_with_retries", "should_retry"]
