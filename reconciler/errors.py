"""The exception tree. Only the CLI turns these into messages and exit codes.

    ReconcilerError                 exit 1; every error a user can meet
    ├── InputError                  bad files in tools.d/ or reconciler.yaml; carries every Diagnostic found
    ├── ConfigurationError          bad environment or flags (unknown region, missing secret, …)
    ├── PlanError                   a plan that must not be applied (stale, mass delete, unreadable plan file)
    ├── ApplyError                  an apply that finished with failures; lists each and what was left undone
    └── ApiError                    the Tools API said no, or could not be reached; carries the correlation id
        ├── AuthenticationError     401 / token endpoint refused the credentials
        ├── PermissionDeniedError   403: a scope is missing
        ├── NotFoundError           404
        ├── ConflictError           409: `reason` tells "name_exists" from "version_changed"
        ├── InvalidInputError       400 / 422, with the server's field details
        ├── RateLimitedError        429 after retries ran out
        ├── ServerError             5xx after retries ran out
        └── NetworkError            the host could not be reached; names the host

Input errors are collected, not raised one by one: every stage appends `Diagnostic`s to a list and the
pipeline raises one `InputError` carrying them all, sorted by place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.model import SourceLocation
from reconciler.redaction import one_line

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about the input, at a place in it."""

    severity: Severity
    location: SourceLocation
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        # a finding quotes names and paths from the input: one line, escaped, so that none forges a line of its
        # own (a `::error::` workflow command in a GitHub log) or rewrites the terminal
        return one_line(f"{self.location}: {self.severity}: {self.message}")

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.file, self.location.line, self.location.column, self.message)

    def as_record(self) -> dict[str, Any]:
        """The finding in the JSON reports (`validate --format json`, `test --format json`)."""
        where = self.location
        return {
            "severity": self.severity,
            "file": where.file,
            "line": where.line or None,  # a folder: no line to point at
            "column": where.column or None,
            "code": self.code,
            "message": self.message,
        }


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Each finding once, sorted by place. Where a variable reference could not be filled, the other findings
    at that same place are left out: they judge the unfilled `${NAME}` text (an endpoint "must be an https://
    URL"), and vanish once the variable is set."""
    unique = set(diagnostics)
    unfilled = {d.location for d in unique if d.code == "variable" and d.severity == "error"}
    if unfilled:
        unique = {d for d in unique if d.code == "variable" or d.location not in unfilled}
    return sorted(unique, key=lambda d: d.sort_key)


class ReconcilerError(Exception):
    """Base of every error the reconciler reports to a user."""

    exit_code: int = 1


class InputError(ReconcilerError):
    """The desired state is invalid; nothing was sent to the API."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = sorted_diagnostics(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        shown = errors or self.diagnostics
        super().__init__("\n".join(str(d) for d in shown))

    @classmethod
    def at(cls, location: SourceLocation, message: str, code: str = "invalid") -> InputError:
        return cls([Diagnostic("error", location, message, code)])


class ConfigurationError(ReconcilerError):
    """The environment or the command line is wrong (credentials, region, flags)."""


class PlanError(ReconcilerError):
    """A plan that must not be applied as it is."""


class ApplyError(ReconcilerError):
    """An apply that finished with failures. `failures` and `not_attempted` are plain lines for the user."""

    def __init__(self, message: str, failures: Sequence[str] = (), not_attempted: Sequence[str] = ()) -> None:
        # each a line of its own: names and the server's words come from the registry, whose line breaks must not
        # start lines (a forged `::error::` in a CI log)
        self.failures = [one_line(failure) for failure in failures]
        self.not_attempted = [one_line(change) for change in not_attempted]
        lines = [message, *(f"  failed: {f}" for f in self.failures)]
        lines += [f"  not attempted: {n}" for n in self.not_attempted]
        super().__init__("\n".join(lines))


@dataclass
class ApiErrorDetail:
    error_code: str
    field_name: str | None = None


class ApiError(ReconcilerError):
    """The Tools API answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        correlation_id: str | None = None,
        details: Sequence[ApiErrorDetail] = (),
        maybe_committed: bool = False,
    ) -> None:
        self.message = message
        self.status = status
        # True when a write may have reached the server although no answer came back (lost response):
        # the caller must look before it writes again.
        self.maybe_committed = maybe_committed
        self.correlation_id = correlation_id
        self.details = list(details)
        text = message
        if correlation_id:
            text += f" (correlation id {correlation_id})"
        super().__init__(text)


class AuthenticationError(ApiError):
    pass


class PermissionDeniedError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    def __init__(
        self,
        message: str,
        *,
        reason: Literal["name_exists", "version_changed", "unknown"] = "unknown",
        status: int | None = 409,
        correlation_id: str | None = None,
        details: Sequence[ApiErrorDetail] = (),
    ) -> None:
        self.reason = reason
        super().__init__(message, status=status, correlation_id=correlation_id, details=details)


class InvalidInputError(ApiError):
    pass


class RateLimitedError(ApiError):
    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        correlation_id: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status, correlation_id=correlation_id)


class ServerError(ApiError):
    """A 5xx. `any_retried`: its call changes nothing (an LLM completion), so every 5xx is worth another try, as
    the OpenAI clients do; a registry call retries only 502, 503 and 504 (a 500 is taken as a bug, not a blip)."""

    any_retried: bool = False


class NetworkError(ApiError):
    pass


__all__ = [
    "ApiError",
    "ApiErrorDetail",
    "ApplyError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "Diagnostic",
    "InputError",
    "InvalidInputError",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlanError",
    "RateLimitedError",
    "ReconcilerError",
    "ServerError",
    "Severity",
    "one_line",
    "sorted_diagnostics",
]
