"""The emulator's HTTP side: routes, auth, rate limit, faults and the platform's bodies and headers.

`http.server.ThreadingHTTPServer` (one thread per connection, HTTP/1.1 keep-alive) is enough for loopback.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from reconciler.emulator.actions import ActionProblem, ActionStore
from reconciler.emulator.actions_http import (
    ACTION_QUERY,
    allowed_methods,
    is_actions_path,
    permission,
    route_actions,
)
from reconciler.emulator.capabilities import Problem, check_tool_input, normalize_tool_input
from reconciler.emulator.config import READ_SCOPE, WRITE_SCOPE, EmulatorConfig, EmulatorStats
from reconciler.emulator.faults import Faults
from reconciler.emulator.gateway import GATEWAY_PATH, SCRIPT_HEADER, GatewayRequestError, complete, error_body
from reconciler.emulator.limits import RateWindow, WindowState
from reconciler.emulator.openapi import openapi_document
from reconciler.emulator.paging import numbered_page, token_page
from reconciler.emulator.poison import MAX_BODY, BadBody, read_chunked, refusal
from reconciler.emulator.registry import TOOLS_PATH, NameExists, Registry, VersionChanged
from reconciler.emulator.tokens import TokenStore

log = logging.getLogger("reconciler.emulator")
ROUTES: dict[str, tuple[str, ...]] = {
    "token": ("POST",),
    "openapi": ("GET",),
    "collection": ("GET", "POST"),
    "item": ("GET", "PUT", "DELETE"),
    "gateway": ("POST",),
}


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # listen backlog: a burst of new connections must not be reset

    def __init__(self, config: EmulatorConfig, registry: Registry, *, stats: EmulatorStats | None = None) -> None:
        self.config = config
        self.registry = registry
        self.actions = ActionStore(registry.store)
        self.stats = stats if stats is not None else EmulatorStats()
        self.faults = Faults(
            p_429=config.fault_429,
            p_5xx=config.fault_5xx,
            p_drop_after_commit=config.fault_drop_after_commit,
            seed=config.seed,
        )
        self.tokens = TokenStore(
            client_id=config.client_id,
            client_secret=config.client_secret,
            lifetime=config.token_lifetime,
            require_token=config.require_token,
        )
        self.window = RateWindow(config.rate_limit, config.rate_window)
        super().__init__((config.host, config.port), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """socketserver prints a traceback on stderr for any error of a connection; a client that hangs up
        (BrokenPipe, reset) is not one, and the rest go to the debug log."""
        log.debug("emulator: connection from %s failed", client_address, exc_info=True)

    def server_close(self) -> None:
        super().server_close()
        self.registry.close()

    @property
    def url(self) -> str:
        host, port = self.server_address[0], self.server_address[1]
        host = host.decode() if isinstance(host, bytes) else host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"


def _route(path: str) -> tuple[str | None, str | None]:
    path = path.rstrip("/") or "/"
    if path == "/oauth/token":
        return "token", None
    if path == "/openapi.json":
        return "openapi", None
    if path == TOOLS_PATH:
        return "collection", None
    if path == GATEWAY_PATH:
        return "gateway", None
    if is_actions_path(path):  # a Data Actions path that serves nothing is no resource, whatever the method
        return ("actions", None) if allowed_methods(path) else (None, None)
    prefix = f"{TOOLS_PATH}/"
    if path.startswith(prefix) and "/" not in path[len(prefix) :]:
        return "item", unquote(path[len(prefix) :])
    return None, None


def _query_parameters(route: str, method: str, config: EmulatorConfig) -> tuple[str, ...]:
    if route == "actions":  # each Data Actions path checks its own
        return tuple(ACTION_QUERY)
    if route != "collection" or method != "GET":
        return ()
    paging = ("next_page_token",) if config.paging == "token" else ("pageSize", "pageNumber")
    return ("page_size", "name", *paging)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorServer
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    wbufsize = -1  # buffered: headers and body leave in one segment (handle_one_request flushes)
    disable_nagle_algorithm = True
    error_content_type = "application/json"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.config.log_requests:
            log.debug("emulator: %s", format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, headers or version) in the platform's JSON
        shape, and always with a status line: a request that looks like HTTP/0.9 is not answered as one."""
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        self.close_connection = True
        self._cid = getattr(self, "_cid", None) or str(uuid.uuid4())
        self._window: WindowState | None = None
        reason = message or HTTPStatus(code).phrase
        self._error(code, "bad.request" if code < 500 else "server.error", reason.encode("ascii", "replace").decode())

    def __getattr__(self, name: str) -> Any:
        """Every method (`do_GET`, `do_PATCH`, `do_QUERY`, …) goes through one dispatcher, so a method a path
        does not serve is a 405 with `Allow`, never http.server's 501 page."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    # -- the request ---------------------------------------------------------------------------------------------

    def _handle(self) -> None:
        self._cid = self.headers.get("inin-correlation-id") or str(uuid.uuid4())
        self._window = None
        self._responded = False
        try:
            self._dispatch()
        except ConnectionError:  # the client went away (BrokenPipe, reset): nobody to answer
            self.close_connection = True
        except Exception:  # a bug of ours: a 500 in the platform's shape, the traceback only in the debug log
            log.debug("emulator: %s %s failed", self.command, self.path, exc_info=True)
            self.close_connection = True
            if not self._responded:
                self._error(500, "internal.server.error", "the emulator failed on this request; see its debug log")

    def _dispatch(self) -> None:
        server = self.server
        server.stats.request(self.command)
        body = self._read_body()
        if body is None:
            return
        if server.config.latency_ms:
            time.sleep(server.config.latency_ms / 1000)
        parts = urlsplit(self.path)
        route, tool_id = _route(parts.path)
        parsed = parse_qs(parts.query, keep_blank_values=True)
        query = {key: values[0] for key, values in parsed.items()}
        if route is None:
            self._error(404, "not.found", f"no such resource: {parts.path}")
            return
        methods = allowed_methods(parts.path) if route == "actions" else ROUTES[route]  # each Data Actions path its own
        if self.command not in methods:
            allowed = ", ".join(methods)
            self._error(
                405,
                "method.not.allowed",
                f"{self.command} is not allowed here; use {allowed}",
                headers={"Allow": allowed},
            )
            return
        unknown = sorted(set(query) - set(_query_parameters(route, self.command, server.config)))
        if unknown:
            problems = [Problem("query.unknown", name, "") for name in unknown]
            self._error(400, "bad.request", f"unknown query parameter {unknown[0]!r}", problems=problems)
            return
        repeated = sorted(key for key, values in parsed.items() if len(values) > 1)
        if repeated:
            problems = [Problem("query.repeated", name, "") for name in repeated]
            self._error(400, "bad.request", f"query parameter {repeated[0]!r} given more than once", problems=problems)
            return
        if route == "openapi":
            # the server's own URL, never the request's Host header: what a client sends is not echoed back
            self._json(200, openapi_document(server.config, server.url))
            return
        if route == "token":
            self._token(body)
            return
        accepted, why = server.tokens.accepts(self.headers.get("Authorization"))
        if not accepted:
            self._error(401, "bad.credentials", why)
            return
        needed = READ_SCOPE if self.command == "GET" else WRITE_SCOPE
        if route != "gateway" and needed not in server.config.scopes:  # the gateway needs no tool scope
            if route == "actions":
                needed = permission(self.command, parts.path)
            message = f"Unable to perform the requested action. You are missing the following permission: {needed}"
            self._error(403, "missing.permissions", message)
            return
        admitted, self._window = server.window.hit()
        if not admitted:
            message = (
                f"rate limit exceeded: {self._window.allowed} requests per {server.config.rate_window:g} s; "
                "retry after Retry-After seconds"
            )
            self._error(429, "too.many.requests", message, headers={"Retry-After": self._window.retry_after})
            return
        fault = server.faults.before(self.command)
        if fault == "429":
            self._error(429, "too.many.requests", "rate limit exceeded (injected)", headers={"Retry-After": "1"})
            return
        if fault in ("502", "503", "504"):
            assert fault is not None
            self._error(int(fault), "service.unavailable", "the service is unavailable (injected); try again")
            return
        if fault == "drop":
            self._drop()
            return
        if route == "gateway":
            self._complete(body)
            return
        if route == "actions":
            self._actions(parts.path, query, body)
            return
        if route == "collection":
            if self.command == "GET":
                self._list(query)
            else:
                self._create(body)
            return
        assert tool_id is not None
        if self.command == "GET":
            tool = server.registry.get(tool_id)
            if tool is None:
                self._error(404, "not.found", f"tool {tool_id} does not exist")
            else:
                self._json(200, tool)
        elif self.command == "PUT":
            self._update(tool_id, body)
        else:
            self._delete(tool_id)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            try:
                body = read_chunked(self.rfile)
            except BadBody as exc:
                self.close_connection = True  # the rest of the stream cannot be trusted to be a next request
                self._error(exc.status, "bad.request", str(exc))
                return None
            return self._unpoisoned(body)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._error(413 if length > 0 else 400, "bad.request", "the body is too large or its length is invalid")
            return None
        return self._unpoisoned(self.rfile.read(length) if length else b"")

    def _unpoisoned(self, body: bytes) -> bytes | None:
        why = refusal(body)
        if why is None:
            return body
        self._error(400, "bad.request", why)
        return None

    # -- the API ------------------------------------------------------------------------------------------------

    def _token(self, body: bytes) -> None:
        tokens = self.server.tokens
        if not tokens.client_allowed(self.headers.get("Authorization")):
            self._json(
                401,
                {
                    "error": "invalid_client",
                    "description": "unknown client or wrong secret",
                    "error_description": "unknown client or wrong secret",
                },
            )
            return
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            self._json(
                400,
                {
                    "error": "unsupported_grant_type",
                    "description": "use grant_type=client_credentials",
                    "error_description": "use grant_type=client_credentials",
                },
            )
            return
        lifetime = max(1, math.ceil(tokens.lifetime))
        self._json(200, {"access_token": tokens.issue(), "token_type": "bearer", "expires_in": lifetime})

    def _list(self, query: dict[str, str]) -> None:
        config = self.server.config
        size = self._positive(query.get("page_size"), "page_size", config.default_page_size, maximum=100)
        if size is None:
            return
        if config.paging == "nexturi":
            alias = self._positive(query.get("pageSize"), "pageSize", size, maximum=100)
            number = self._positive(query.get("pageNumber"), "pageNumber", 1)
            if alias is None or number is None:
                return
            size = alias
        else:
            number = 1
        name = query.get("name")
        tools = self.server.registry.listing(name)
        if config.paging == "token":
            self._json(200, token_page(tools, size, query.get("next_page_token")))
        else:
            self._json(200, numbered_page(tools, size, number, keep={"name": name} if name else None))

    def _positive(self, text: str | None, field: str, default: int, *, maximum: int | None = None) -> int | None:
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1 or (maximum is not None and value > maximum):
            limit = f"1..{maximum}" if maximum else "at least 1"
            self._error(
                400,
                "bad.request",
                f"{field} must be an integer in {limit}",
                problems=[Problem("invalid.value", field, "")],
            )
            return None
        return value

    def _parse(self, body: bytes) -> tuple[bool, Any]:
        try:
            return True, json.loads(body)
        except ValueError:
            self._error(400, "bad.request", "the body is not valid JSON")
            return False, None

    def _checked(self, data: Any, *, update: bool) -> bool:
        config = self.server.config
        problems = check_tool_input(
            data,
            max_parameters=config.max_parameters,
            max_description_length=config.max_description_length,
            allow_version=update,
        )
        if not problems:
            return True
        status = 400 if problems[0].error_code == "body.invalid" else 422
        message = "; ".join(problem.message for problem in problems)
        self._error(status, "invalid.tool" if status == 422 else "bad.request", message, problems=problems)
        return False

    def _create(self, body: bytes) -> None:
        ok, data = self._parse(body)
        if not ok or not self._checked(data, update=False):
            return
        data = normalize_tool_input(data)
        if self.server.config.default_rate_limit is not None and "rateLimit" not in data:
            data["rateLimit"] = dict(self.server.config.default_rate_limit)
        try:
            tool = self.server.registry.create(data)
        except NameExists as exc:
            self._error(409, "tool.name.exists", str(exc), problems=[Problem("tool.name.exists", "name", "")])
            return
        if self.server.faults.drop_after_commit("POST"):
            self._drop()
            return
        self._json(201, tool, headers={"Location": str(tool["selfUri"])})

    def _update(self, tool_id: str, body: bytes) -> None:
        registry = self.server.registry
        if registry.get(tool_id) is None:
            self._error(404, "not.found", f"tool {tool_id} does not exist")
            return
        ok, data = self._parse(body)
        if not ok or not self._checked(data, update=True):
            return
        data = normalize_tool_input(data)
        if self.server.config.default_rate_limit is not None and "rateLimit" not in data:
            data["rateLimit"] = dict(self.server.config.default_rate_limit)
        try:
            tool = registry.update(tool_id, data, data.get("version"))
        except VersionChanged as exc:
            problems = [Problem("tool.version.conflict", "version", "")]
            self._error(409, "tool.version.conflict", f"version changed: {exc}", problems=problems)
            return
        except NameExists as exc:
            self._error(409, "tool.name.exists", str(exc), problems=[Problem("tool.name.exists", "name", "")])
            return
        if tool is None:
            self._error(404, "not.found", f"tool {tool_id} does not exist")
            return
        if self.server.faults.drop_after_commit("PUT"):
            self._drop()
            return
        self._json(200, tool)

    def _complete(self, body: bytes) -> None:
        try:
            try:
                data = json.loads(body)
            except ValueError:  # refused here, not by _parse: an OpenAI client reads the `error` object
                raise GatewayRequestError("the body is not valid JSON") from None
            answer = complete(data, self.headers.get(SCRIPT_HEADER))
        except GatewayRequestError as exc:
            self._json(400, error_body(exc.message, exc.param, status=400, code="bad.request", context_id=self._cid))
            return
        self._json(200, answer)

    def _delete(self, tool_id: str) -> None:
        if not self.server.registry.delete(tool_id):
            self._error(404, "not.found", f"tool {tool_id} does not exist")
            return
        if self.server.faults.drop_after_commit("DELETE"):
            self._drop()
            return
        self._send(204, None)

    def _actions(self, path: str, query: dict[str, str], body: bytes) -> None:
        try:
            answer = route_actions(self.server.actions, self.command, path, query, body)
        except ActionProblem as problem:
            problems = [Problem(problem.code, problem.field, "")] if problem.field else None
            self._error(problem.status, problem.code, problem.message, problems=problems, headers=problem.headers)
            return
        if answer.committed and self.server.faults.drop_after_commit(self.command):
            self._drop()
            return
        if answer.status == 204:
            self._send(204, None)
        elif answer.text is not None:
            self._send(answer.status, answer.text.encode("utf-8"), content_type="text/plain; charset=utf-8")
        else:
            self._json(answer.status, answer.payload)

    # -- answers --------------------------------------------------------------------------------------------------

    def _drop(self) -> None:
        """Close the connection without a word: the client cannot tell whether the request was processed."""
        self.server.stats.dropped()
        self.close_connection = True

    def _error(
        self,
        status: int,
        code: str,
        message: str,
        *,
        problems: list[Problem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        details = []
        for problem in problems or []:
            detail = {"errorCode": problem.error_code}
            if problem.field_name is not None:
                detail["fieldName"] = problem.field_name
            details.append(detail)
        body = {
            "message": message,
            "code": code,
            "status": status,
            "contextId": self._cid,
            "details": details,
            "errors": [],
        }
        self._json(status, body, headers=headers)

    def _json(self, status: int, payload: Any, *, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers=headers)

    def _send(
        self,
        status: int,
        data: bytes | None,
        *,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        window = self._window or self.server.window.peek()
        self._responded = True
        self.send_response(status)
        if data is not None:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
        self.send_header("inin-correlation-id", self._cid)
        for name, value in {**window.headers(), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if data is not None and self.command != "HEAD":
            self.wfile.write(data)
        self.server.stats.response(status)


class Background:
    """The emulator served from a daemon thread. `stop` never hangs: the loop polls a flag (unlike
    `serve_forever`/`shutdown`, which wait forever when the interpreter is already tearing threads down)."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self._stop = threading.Event()
        server.timeout = 0.05  # how long handle_request waits for a connection before looking at the flag
        self._thread = threading.Thread(
            target=self._serve, daemon=True, name=f"reconciler-emulator-{server.server_address[1]}"
        )
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self.server.handle_request()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.server.server_close()


__all__ = ["Background", "EmulatorServer", "Handler"]
