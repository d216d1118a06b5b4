"""The tool service as an ASGI application (Starlette): the `executionEndpoint` of the tools it serves.

    POST /tools/{name}            the invocation → {output, status: "success", metadata} | {status: "error", …}
    GET  /api/v1/tools/registry   the served tools: name, version (digest), status, capabilities
    GET  /healthz, /readyz        200 once ready; /readyz answers 503 while the service drains
    GET  /metrics                 Prometheus text format

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

from reconciler.compile.payload import digest, tool_input
from reconciler.runtime import Invocation, Outcome, Runtime, ToolError
from reconciler.serve.audit import AuditLog, audit_record
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


class _Json(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def create_app(service: Service) -> Starlette:
    registry = _registry(service.runtime)

    async def invoke(request: Request) -> Response:
        name = request.path_params["name"]
        body = await _read(request)
        if body is None:
            return _error("INVALID_PAYLOAD", f"the invocation is larger than {MAX_BODY} bytes", 413)
        try:
            payload = json.loads(body, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            outcome = Outcome("error", None, "INVALID_PAYLOAD", "the body is not JSON")
            service.metrics.record(name if name in service.runtime.tools else UNKNOWN, outcome)
            return _answer(outcome)
        if isinstance(payload, dict) and "tool_name" not in payload:
            payload = {**payload, "tool_name": name}
        try:
            invocation = Invocation.from_payload(payload)
            if invocation.tool_name != name:
                raise ToolError("INVALID_PAYLOAD", "'tool_name' differs from the tool named in the URL")
        except ToolError as error:
            outcome = Outcome("error", None, error.code, error.message)
            parameters = payload.get("parameters") if isinstance(payload, dict) else None
            _account(service, name, _ids(payload), parameters, outcome)
            return _answer(outcome)
        outcome = await service.runtime.invoke(invocation)
        body = _encoded(outcome)
        if body is None:  # a handler's output that JSON cannot hold (a set, a date, …)
            outcome = Outcome(
                "error", None, "EXECUTION_FAILURE", f"{name} returned an output that is not JSON", outcome.latency_ms
            )
            body = _encoded(outcome)
        ids = (invocation.conversation_id, invocation.user_id)
        _account(service, name, ids, invocation.parameters, outcome)
        return Response(body, _status(outcome), media_type="application/json")

    async def tools(request: Request) -> Response:
        return _Json(registry)

    async def healthz(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok"} if service.ready else {"status": "starting"}, 200 if service.ready else 503
        )

    async def readyz(request: Request) -> Response:
        ok = service.ready and not service.draining
        return JSONResponse({"status": "ready" if ok else "not ready"}, 200 if ok else 503)

    async def metrics(request: Request) -> Response:
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

    return Starlette(
        routes=[
            Route("/tools/{name}", invoke, methods=["POST"]),
            Route("/api/v1/tools/registry", tools, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _account(
    service: Service, name: str, ids: tuple[str | None, str | None], parameters: Any, outcome: Outcome
) -> None:
    known = name in service.runtime.tools
    service.metrics.record(name if known else UNKNOWN, outcome)
    service.audit.write(audit_record(name, ids[0], ids[1], parameters, outcome))


def _ids(payload: Any) -> tuple[str | None, str | None]:
    if not isinstance(payload, dict):
        return None, None
    found = [payload.get(key) for key in ("conversation_id", "user_id")]
    return (found[0] if isinstance(found[0], str) else None, found[1] if isinstance(found[1], str) else None)


def _answer(outcome: Outcome) -> Response:
    return _Json(outcome.answer(), _status(outcome))


def _status(outcome: Outcome) -> int:
    return 200 if outcome.ok else STATUS.get(outcome.error_code or "", 500)


def _encoded(outcome: Outcome) -> bytes | None:
    """The answer as JSON bytes; orjson first (fast), the standard library for integers past 64 bits."""
    answer = outcome.answer()
    try:
        return orjson.dumps(answer)
    except TypeError:
        pass
    try:
        return json.dumps(answer, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError):
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


def _error(code: str, message: str, status: int = 400) -> Response:
    return _Json({"status": "error", "error_code": code, "message": message}, status)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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


__all__ = ["STATUS", "Service", "create_app"]
