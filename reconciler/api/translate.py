"""Foreign failures → our typed errors, at the client boundary: HTTP error responses and httpx exceptions.

Every message says what happened and what to do, names the host for network failures, and carries the
`inin-correlation-id` when the server sent one. Secrets never reach a message (`Secrets.scrub`).
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson

from reconciler.api.redact import Secrets
from reconciler.errors import (
    ApiError,
    ApiErrorDetail,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)

Kind = Literal["list", "get", "create", "update", "delete", "token", "completion"]
WRITE_KINDS = frozenset({"create", "update", "delete"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})
CORRELATION_HEADER = "inin-correlation-id"
MESSAGE_LIMIT = 300
READ_SCOPE = "ai:tool:read"
WRITE_SCOPE = "ai:tool:write"


@dataclass(frozen=True)
class Family:
    """An API's words for messages: its name, what it holds, and the OAuth scopes it asks for."""

    name: str
    plural: str
    read_scope: str
    write_scope: str


TOOLS_API = Family("the Tools API", "tools", READ_SCOPE, WRITE_SCOPE)
DATA_ACTIONS_API = Family("the Data Actions API", "data actions", "integrations:readonly", "integrations")


@dataclass(frozen=True)
class Operation:
    """One logical call: what kind, which method, and how to name its subject in a message."""

    kind: Kind
    method: str
    subject: str
    api: Family = TOOLS_API

    @property
    def resends_are_safe(self) -> bool:
        """GET and DELETE (and a token request, and an LLM completion, which changes nothing) may be sent again
        after an answer was lost; POST and PUT may not."""
        return self.method in ("GET", "HEAD", "DELETE") or self.kind in ("token", "completion")

    @property
    def scope(self) -> str:
        return self.api.write_scope if self.kind in WRITE_KINDS else self.api.read_scope


def correlation_id(response: httpx.Response) -> str | None:
    value: str | None = response.headers.get(CORRELATION_HEADER)
    return value


def response_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content or b"null")  # refuses NaN and lone surrogates, as the client does
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), never negative; None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _details(body: dict[str, Any]) -> list[ApiErrorDetail]:
    details = []
    for item in body.get("details") or []:
        if isinstance(item, dict) and item.get("errorCode"):
            field = item.get("fieldName")
            details.append(ApiErrorDetail(str(item["errorCode"]), str(field) if field else None))
    return details


def _server_message(body: dict[str, Any], secrets: Secrets) -> str:
    message = secrets.scrub(str(body.get("message") or body.get("error_description") or body.get("error") or ""))
    message = " ".join(message.split())
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…"


def conflict_reason(body: dict[str, Any], operation: Operation) -> Literal["name_exists", "version_changed"]:
    """Tell "name exists" from "version changed": by the server's code, else its message, else by the call."""
    for text in (str(body.get("code") or "").lower(), str(body.get("message") or "").lower()):
        if "version" in text:
            return "version_changed"
        if "name" in text or "exist" in text or "duplicate" in text:
            return "name_exists"
    return "name_exists" if operation.kind == "create" else "version_changed"


def error_for_response(
    response: httpx.Response, operation: Operation, *, host: str, secrets: Secrets, auth_advice: str
) -> ApiError:
    """The typed error for an HTTP error response."""
    status = response.status_code
    cid = correlation_id(response)
    body = response_body(response)
    said = _server_message(body, secrets)
    said_part = f": {said}" if said else ""
    details = _details(body)
    committed = not operation.resends_are_safe
    if status == 401 or (operation.kind == "token" and status == 400):
        return AuthenticationError(
            f"{host} refused the credentials ({status}){said_part}; {auth_advice}", status=status, correlation_id=cid
        )
    if operation.kind == "completion" and status in (400, 403, 404, 422):
        return _gateway_error(status, said_part, cid, details, operation)
    if status == 403:
        plural = operation.api.plural
        verb = f"list or read {plural}" if operation.kind not in WRITE_KINDS else f"create, update or delete {plural}"
        return PermissionDeniedError(
            f"permission denied (403) for {operation.subject}: the OAuth client needs the `{operation.scope}` "
            f"scope to {verb}; add it to the client's role in Genesys Cloud",
            status=403,
            correlation_id=cid,
        )
    if status == 404:
        return NotFoundError(
            f"{operation.subject} was not found (404): it was deleted outside the reconciler or never existed; "
            "run plan again",
            status=404,
            correlation_id=cid,
        )
    if status == 409:
        reason = conflict_reason(body, operation)
        if reason == "name_exists":
            text = (
                f"{operation.subject} cannot be created: {'a tool' if operation.api is TOOLS_API else 'one'} with "
                f"that name already exists (409){said_part}; "
                "run plan again to adopt or update it"
            )
        else:
            text = (
                f"{operation.subject} changed on the server since it was read (409 version changed){said_part}; "
                "run plan again"
            )
        return ConflictError(text, reason=reason, correlation_id=cid, details=details)
    if status in (400, 422):
        fields = ", ".join(f"{d.field_name or '(body)'}: {d.error_code}" for d in details)
        text = f"{operation.api.name} rejected {operation.subject} ({status}){said_part}"
        if fields:
            text += f" [{fields}]"
        text += "; fix the definition (reconciler validate checks the capability matrix) and try again"
        return InvalidInputError(text, status=status, correlation_id=cid, details=details)
    if status == 429:
        return RateLimitedError(
            f"{host} kept rate limiting (429) {operation.subject} until the retries ran out; wait a minute, "
            "or lower --parallelism",
            retry_after=retry_after(response),
            correlation_id=cid,
        )
    if status >= 500:
        text = f"{host} answered {status} {response.reason_phrase} to {operation.method} {operation.subject}"
        if committed:
            text += "; the change may have been applied, so look before sending it again (run plan)"
        else:
            text += "; the server is having trouble, try again later"
        error = ServerError(text, status=status, correlation_id=cid, details=details, maybe_committed=committed)
        error.any_retried = operation.kind == "completion"
        return error
    return ApiError(
        f"{host} answered {status} {response.reason_phrase} to {operation.method} {operation.subject}{said_part}",
        status=status,
        correlation_id=cid,
        details=details,
    )


def _gateway_error(
    status: int, said_part: str, cid: str | None, details: list[ApiErrorDetail], operation: Operation
) -> ApiError:
    """The LLM gateway's refusals: its own words, and what to check (the Tools API's advice would mislead)."""
    advice = {
        403: "the OAuth client's role must allow the LLM gateway",
        404: "check GENESYS_CLOUD_API_URL / GENESYS_CLOUD_REGION: this org serves no LLM gateway there",
    }.get(status, "check the model name and the messages sent (run with --debug to see the exchange)")
    text = f"the LLM gateway refused {operation.subject} ({status}){said_part}; {advice}"
    if status == 403:
        return PermissionDeniedError(text, status=status, correlation_id=cid)
    if status == 404:
        return NotFoundError(text, status=status, correlation_id=cid)
    return InvalidInputError(text, status=status, correlation_id=cid, details=details)


NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def network_error(
    exc: httpx.TransportError, operation: Operation, *, host: str, secrets: Secrets, advice: str
) -> NetworkError:
    """The typed error for a failure below HTTP; `maybe_committed` when a POST/PUT may have arrived."""
    reason = secrets.scrub(str(exc) or type(exc).__name__)
    if isinstance(exc, NOT_SENT):
        return NetworkError(f"cannot reach {host}: {reason}; {advice}")
    if isinstance(exc, httpx.TimeoutException):
        what = f"no answer from {host} to {operation.method} {operation.subject} in time ({reason})"
    else:
        what = f"lost the connection to {host} during {operation.method} {operation.subject} ({reason})"
    if operation.resends_are_safe:
        return NetworkError(f"{what}; check the network and try again")
    return NetworkError(
        f"{what}: the change may have been applied, so look before sending it again (run plan)", maybe_committed=True
    )


def was_sent(exc: httpx.TransportError) -> bool:
    return not isinstance(exc, NOT_SENT)


__all__ = [
    "CORRELATION_HEADER",
    "DATA_ACTIONS_API",
    "READ_SCOPE",
    "RETRYABLE_STATUSES",
    "TOOLS_API",
    "WRITE_SCOPE",
    "Family",
    "Kind",
    "Operation",
    "conflict_reason",
    "correlation_id",
    "error_for_response",
    "network_error",
    "response_body",
    "retry_after",
    "was_sent",
]
