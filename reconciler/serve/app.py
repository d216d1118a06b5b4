"""The tool service as an ASGI application (Starlette): the `executionEndpoint` of the tools it serves.

    POST /tools/{name}            the invocation → {output, status: "success", metadata} | {status: "error", …}
    GET  /api/v1/tools/registry   the served tools: name, version (digest), status, capabilities
    GET  /healthz, /readyz        200 once ready; /readyz answers 503 while the service drains, or while its
                                  audit log cannot be written or is not keeping up (audit.py)
    GET  /metrics                 Prometheus text format

With a caller secret (`auth.py`), every path but /healthz, /readyz and /metrics answers 401 to a caller that
does not present it, before its body is read.

An error answer carries an HTTP status that matches its code (400 INVALID_PAYLOAD, 404 UNKNOWN_TOOL, 422
INVALID_ARGUMENTS, 502 UPSTREAM_ERROR, 503 CIRCUIT_OPEN, 504 TOOL_EXECUTION_TIMEOUT, 500 EXECUTION_FAILURE), so
load balancers and dashboards see failures without reading bodies. Every invocation with a parseable payload
is counted and audited, unknown tools included.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.compile.payload import digest, tool_input
from reconciler.runtime import Invocation, Outcome, Runtime, ToolError
from reconciler.runtime.binding import services_via
from reconciler.runtime.invocation import unwritable
from reconciler.runtime.jsonread import finite, no_constant, read_json
from reconciler.serve.audit import AuditLog, audit_record
from reconciler.serve.auth import CHALLENGES, MISSING, OPEN_PATHS, WRONG, CallerAuth
from reconciler.serve.telemetry import CONTENT_TYPE, UNKNOWN, Metrics

MAX_BODY = 1024 * 1024
STATUS = {
    "INVALID_PAYLOAD": 400,
    "UNKNOWN_TOOL": 404,
    "INVALID_ARGUMENTS": 422,
    "UPSTREAM_ERROR": 502,
    "CIRCUIT_OPEN": 503,
    "TOOL_EXECUTION_TIMEOUT": 504,
    "EXECUTION_FAILURE": 500,
}


@dataclass
class Service:
    runtime: Runtime
    audit: AuditLog = field(default_factory=lambda: AuditLog(None))
    metrics: Metrics = field(default_factory=Metrics)
    ready: bool = False
    draining: bool = False
    auth: CallerAuth | None = None
    """None: every caller is served (loopback, or `--allow-unauthenticated`)."""


class _Json(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def answer_invocation(
    service: Service, name: str, body: bytes | None, via: str | None = None
) -> tuple[int, bytes]:
    """The HTTP status and JSON body answering `body` posted to /tools/`name` (None: it was too large), with the
    request's `Via` header."""
    if body is None:
        return 413, _dumps(_error_body("INVALID_PAYLOAD", f"the invocation is larger than {MAX_BODY} bytes"))
    try:
        # strict: no JSON can carry NaN, the infinities or a number past the float range on to the upstream, nor
        # the audit log hash it
        payload = read_json(body, no_constant, finite)  # orjson where it reads what json.loads reads
    except (ValueError, RecursionError):
        outcome = Outcome("error", None, "INVALID_PAYLOAD", "the body is not JSON")
        service.metrics.record(name if name in service.runtime.tools else UNKNOWN, outcome)
        return _status(outcome), _dumps(outcome.answer())
    if isinstance(payload, dict) and "tool_name" not in payload:
        payload = {**payload, "tool_name": name}
    try:
        invocation = Invocation.from_payload(payload, services_via(via))
        if invocation.tool_name != name:
            raise ToolError("INVALID_PAYLOAD", "'tool_name' differs from the tool named in the URL")
    except ToolError as error:
        outcome = Outcome("error", None, error.code, error.message)
        parameters = payload.get("parameters") if isinstance(payload, dict) else None
        await _account(service, name, _ids(payload), parameters, outcome)
        return _status(outcome), _dumps(outcome.answer())
    outcome = await service.runtime.invoke(invocation)
    encoded = _encoded(outcome)
    if encoded is None:  # an output JSON cannot hold: a handler's bug, or an upstream's answer nested too deep
        outcome = unwritable(outcome, name)
        encoded = _dumps(outcome.answer())
    await _account(service, name, (invocation.conversation_id, invocation.user_id), invocation.parameters, outcome)
    return _status(outcome), encoded


def create_app(service: Service) -> ASGIApp:
    """The service's ASGI app: POST /tools/{name}, the one route on the hot path, is answered by `Invocations`
    straight from the ASGI messages; everything else (lifespan, the other routes, 404/405) by Starlette."""
    registry = _registry(service.runtime)

    async def invoke(request: Request) -> Response:
        name, via = request.path_params["name"], request.headers.get("via")
        status, body = await answer_invocation(service, name, await _read(request), via)
        return Response(body, status, media_type="application/json")

    async def tools(request: Request) -> Response:
        return _Json(registry)

    async def healthz(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok"} if service.ready else {"status": "starting"}, 200 if service.ready else 503
        )

    async def readyz(request: Request) -> Response:
        if service.audit.behind:  # its file system keeps the writer waiting: calls go to a replica that keeps up
            return JSONResponse({"status": "not ready", "reason": "the audit log is not keeping up"}, 503)
        if service.audit.failing and not await service.audit.probe():
            # calls it cannot audit go to another replica (audit.py); polling this tries the log again
            return JSONResponse({"status": "not ready", "reason": "the audit log cannot be written"}, 503)
        ok = service.ready and not service.draining
        return JSONResponse({"status": "ready" if ok else "not ready"}, 200 if ok else 503)

    async def metrics(request: Request) -> Response:
        service.metrics.audit_failures = service.audit.failures  # lines lost while nothing was answered too
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.ready = True
        try:
            yield
        finally:
            service.ready = False
            await service.runtime.aclose()
            service.audit.close()
            service.metrics.shutdown()

    routes = Starlette(
        routes=[
            Route("/tools/{name}", invoke, methods=["POST"]),
            Route("/api/v1/tools/registry", tools, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    return Invocations(service, routes)


class Invocations:
    """POST /tools/{name} without Starlette's routing, middleware, Request and Response: measured in process,
    ~15-30 µs less CPU per call, of the ~200 µs a served call costs once the upstream client is cheap. Same
    answers as the Starlette route it passes everything else to: the name is one path segment, a body past
    MAX_BODY is a 413 read no further, and an unexpected exception is a plain 500 (as Starlette's
    ServerErrorMiddleware answers) raised on to the server."""

    def __init__(self, service: Service, fallback: ASGIApp) -> None:
        self.service = service
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        auth = self.service.auth
        if auth is not None and scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            authorization = _header(scope, b"authorization")
            if not auth.admits(authorization):
                self.service.metrics.unauthorized += 1
                await _send_unauthorized(send, WRONG if authorization else MISSING)
                return
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            path: str = scope["path"]
            if path.startswith("/tools/") and len(path) > 7 and "/" not in path[7:]:
                await self._invoke(path[7:], scope, receive, send)
                return
        await self.fallback(scope, receive, send)

    async def _invoke(self, name: str, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        try:
            try:
                body = await _receive_body(scope, receive)
            except _Disconnected:
                return  # the caller left before its payload arrived: nothing to answer or account
            status, answer = await answer_invocation(self.service, name, body, _via(scope))
            started = True
            await send({"type": "http.response.start", "status": status, "headers": _json_headers(len(answer))})
            await send({"type": "http.response.body", "body": answer})
        except Exception:
            if not started:
                text = b"Internal Server Error"
                headers = [
                    (b"content-length", str(len(text)).encode()),
                    (b"content-type", b"text/plain; charset=utf-8"),
                ]
                await send({"type": "http.response.start", "status": 500, "headers": headers})
                await send({"type": "http.response.body", "body": text})
            raise


class _Disconnected(Exception):
    pass


async def _receive_body(scope: Scope, receive: Receive) -> bytes | None:
    """The request body, or None once it passes MAX_BODY (read no further: a huge body costs no memory)."""
    for key, value in scope["headers"]:
        if key == b"content-length" and value.isdigit() and int(value) > MAX_BODY:
            return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


async def _send_unauthorized(send: Send, message: str) -> None:
    """401, in the shape of every error answer, with a challenge for each scheme accepted (RFC 9110 11.6.1)."""
    body = _dumps(_error_body("UNAUTHORIZED", message))
    headers = [*_json_headers(len(body)), *((b"www-authenticate", challenge) for challenge in CHALLENGES)]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _via(scope: Scope) -> str | None:
    found = [value.decode("latin-1") for key, value in scope["headers"] if key == b"via"]
    return ", ".join(found) if found else None


def _json_headers(length: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-length", str(length).encode()), (b"content-type", b"application/json")]


async def _account(
    service: Service, name: str, ids: tuple[str | None, str | None], parameters: Any, outcome: Outcome
) -> None:
    known = name in service.runtime.tools
    service.metrics.record(name if known else UNKNOWN, outcome)
    # written by the audit log's thread, waited for up to audit.LINE_WAIT; the answer goes back all the same,
    # whether or not the line could be written: the call has happened
    await service.audit.log(audit_record(name, ids[0], ids[1], parameters, outcome))
    service.metrics.audit_failures = service.audit.failures


def _ids(payload: Any) -> tuple[str | None, str | None]:
    if not isinstance(payload, dict):
        return None, None
    found = [payload.get(key) for key in ("conversation_id", "user_id")]
    return (found[0] if isinstance(found[0], str) else None, found[1] if isinstance(found[1], str) else None)


def _status(outcome: Outcome) -> int:
    return 200 if outcome.ok else STATUS.get(outcome.error_code or "", 500)


def _encoded(outcome: Outcome) -> bytes | None:
    """The answer as JSON bytes; orjson first (fast), the standard library for integers past 64 bits."""
    answer = outcome.answer()
    try:
        encoded = orjson.dumps(answer)
    except TypeError:
        pass
    else:
        # orjson writes NaN and the infinities as null: a handler's output holding one is the handler's bug, to
        # be said, not a silent null (the standard library refuses them; an upstream's output holds none, as
        # its answer is read as strict JSON)
        if outcome.upstream_status is not None or b"null" not in encoded:
            return encoded
    try:
        return json.dumps(answer, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError):  # RecursionError: nested ~1,000 levels deep
        return None


async def _read(request: Request) -> bytes | None:
    """The body, or None once it passes MAX_BODY (read no further: a huge body costs no memory)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {"status": "error", "error_code": code, "message": message}


def _dumps(answer: Any) -> bytes:
    return orjson.dumps(answer)


def _registry(runtime: Runtime) -> dict[str, Any]:
    entries = []
    for tool in sorted(runtime.tools.values(), key=lambda t: t.name):
        properties = tool.schema.get("properties") if isinstance(tool.schema, dict) else None
        entries.append(
            {
                "name": tool.name,
                "description": tool.description,
                "version": digest(tool_input(tool)),
                "status": "active",
                "capabilities": list(properties) if isinstance(properties, dict) else [],
            }
        )
    return {"tools": entries}


__all__ = ["STATUS", "Invocations", "Service", "answer_invocation", "create_app"]
