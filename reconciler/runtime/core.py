"""The Runtime: runs one invocation of a compiled tool and says how it ended.

    invoke(invocation)
      ├─ the tool, by name                                   UNKNOWN_TOOL
      ├─ context parameters from the conversation state     INVALID_PAYLOAD (state lacks the path)
      ├─ the model's arguments against the tool's schema     INVALID_ARGUMENTS (nothing is sent)
      └─ within the tool's timeout (retries included)        TOOL_EXECUTION_TIMEOUT
           ├─ a registered handler                           EXECUTION_FAILURE when it raises
           ├─ else the request binding (OpenAPI-derived)  ┐
           └─ else a POST of the invocation to `endpoint` ┴─ CIRCUIT_OPEN, UPSTREAM_ERROR (3xx-5xx, unreachable)

Retries only where repeating is safe: idempotent HTTP methods (on connection errors, 502, 503 and 504), and
handlers that say so with an `idempotent = True` attribute; with exponential backoff, inside the timeout.
The upstream's JSON answer is the output as received (text when it is not strict JSON: NaN and Infinity are
not), less the credentials the call sent (security.conceal). A 2xx answer too large to pass on is a success
all the same (the call happened), its output a note.
Nothing here logs or raises an argument value, a credential or a filled URL: messages name tools, parameters,
hosts and statuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from reconciler.model import DEFAULT_TIMEOUT, Tool
from reconciler.network import check_proxies, tls_context
from reconciler.runtime.arguments import ArgumentChecker, context_values, conversation_state
from reconciler.runtime.binding import UpstreamRequest, build_request, forward_request
from reconciler.runtime.breaker import BreakerPolicy, Breakers
from reconciler.runtime.clock import Clock, SystemClock
from reconciler.runtime.invocation import Invocation, Outcome, ToolError, withheld_note
from reconciler.runtime.jsonread import finite, no_constant, read_json
from reconciler.runtime.security import apply_credentials, chosen_alternative, conceal, credentials_for, sent_secrets
from reconciler.runtime.threads import HandlerThreads
from reconciler.runtime.upstream import MAX_ANSWER_BYTES, Answer, Client, Pool, Unreachable, open_pool

Handler = Callable[[dict[str, Any]], Any]
"""A hand-written tool's code: called with the checked arguments and the filled context parameters; may be async."""

log = logging.getLogger("reconciler.runtime")

RETRIED_STATUSES = frozenset((502, 503, 504))
MAX_FORWARDS = 8
"""Services a call may be forwarded through (`Via`): past that, a loop among replicas that forward it."""
MAX_ATTEMPTS = 3
FIRST_BACKOFF = 0.05


class Runtime:
    """Runs invocations of `tools`. Use it as an async context manager, or call `aclose()`, to release the
    upstream connections; it pools them in the event loop of its first call, so it lives in one loop. Stateless
    apart from its breakers, so replicas need share nothing."""

    def __init__(
        self,
        tools: list[Tool] | Mapping[str, Tool],
        *,
        handlers: Mapping[str, Handler] | None = None,
        credentials: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        breaker: BreakerPolicy | None = None,
        client: Client | None = None,
    ) -> None:
        self.tools: dict[str, Tool] = dict(tools) if isinstance(tools, Mapping) else {t.name: t for t in tools}
        self.handlers = dict(handlers or {})
        self.credentials = dict(credentials or {})
        self.clock = clock or SystemClock()
        self.breakers = Breakers(self.clock, breaker)
        self._checkers: dict[str, ArgumentChecker] = {}
        self._client = client
        self._pool: Pool | None = None
        self._threads = HandlerThreads()
        self.instance = secrets.token_hex(6)
        """This runtime in the `Via` header of the calls it forwards, so a call that comes back is told."""
        # the network settings, checked before the first call: a proxy no pool speaks, or an SSL_CERT_FILE that is
        # not there, is the operator's to fix (a ConfigurationError naming the variable), not every call's failure
        check_proxies()
        if any(_https(tool) for tool in self.tools.values()):
            tls_context()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()

    async def invoke(self, invocation: Invocation) -> Outcome:
        start = self.clock.now()
        upstream: list[int] = []  # the statuses the upstream answered, in order
        try:
            tool = self.tools.get(invocation.tool_name)
            if tool is None:
                raise ToolError("UNKNOWN_TOOL", f"no tool named {invocation.tool_name[:64]!r} is served here")
            context = self._arguments(tool, invocation)
            timeout = tool.timeout if tool.timeout is not None else DEFAULT_TIMEOUT
            work = self._run(tool, invocation.parameters, context, upstream, timeout, invocation.via)
            output = await self._within(timeout, tool, work)
            if isinstance(output, _TooLarge):  # a 2xx answer past MAX_ANSWER_BYTES: the call happened all the same
                note = withheld_note(tool.name, output.status, TOO_LARGE)
                return Outcome("success", note, None, None, self._since(start), output.status, "too_large")
            if isinstance(output, _Unreadable):  # a 2xx answer cut short or undecodable: the call happened too
                note = withheld_note(tool.name, output.status, UNREADABLE)
                return Outcome("success", note, None, None, self._since(start), output.status, "unreadable")
            return Outcome("success", output, latency_ms=self._since(start), upstream_status=_last(upstream))
        except ToolError as error:
            status = error.upstream_status if error.upstream_status is not None else _last(upstream)
            return Outcome("error", None, error.code, error.message, self._since(start), status)
        except Exception as exc:  # a handler's own failure, or a bug: the type only, its text may hold values
            log.warning("tool %s failed: %s", invocation.tool_name[:64], type(exc).__name__)
            message = f"{invocation.tool_name[:64]} failed ({type(exc).__name__})"
            return Outcome("error", None, "EXECUTION_FAILURE", message, self._since(start), _last(upstream))

    def _since(self, start: float) -> float:
        return (self.clock.now() - start) * 1000.0

    def _arguments(self, tool: Tool, invocation: Invocation) -> dict[str, Any]:
        """The context parameters' values, once the model's arguments are checked."""
        checker = self._checkers.get(tool.name)
        if checker is None:
            checker = self._checkers[tool.name] = ArgumentChecker(tool)
        checker.check(invocation.parameters)
        return context_values(tool, conversation_state(invocation)) if tool.context else {}

    async def _within(self, seconds: float, tool: Tool, work: Awaitable[Any]) -> Any:
        """`work`'s result, or TOOL_EXECUTION_TIMEOUT once `seconds` have passed on the clock (work cancelled)."""
        if type(self.clock) is SystemClock:
            return await self._within_loop_time(seconds, tool, work)
        task = asyncio.ensure_future(work)
        timer = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait((task, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            timer.cancel()
        if task.cancelled() or not task.done():
            raise ToolError("TOOL_EXECUTION_TIMEOUT", f"{tool.name} did not finish within {seconds:g} s")
        return task.result()

    async def _within_loop_time(self, seconds: float, tool: Tool, work: Awaitable[Any]) -> Any:
        """`_within` on the system clock, with the event loop's own timer: a timer handle instead of a sleeping
        task and asyncio.wait, ~6 µs less per call. The same outcomes as the clock-driven path the tests drive."""
        task = asyncio.ensure_future(work)
        expired: list[bool] = []
        timer = asyncio.get_running_loop().call_later(seconds, _expire, task, expired)
        try:
            return await task
        except (asyncio.CancelledError, Exception):
            # Once the timer has fired, any ending but a result is the timeout: the upstream client's own timer
            # (set to the same deadline, and on uvloop's per-iteration clock) may fire in the same loop turn and
            # end the work with its own timeout error before the cancellation lands.
            if not expired:
                raise  # the work's own failure, or this invocation itself cancelled (a server stopping)
        finally:
            timer.cancel()
            # The task holds the error raised through this frame, and the error's traceback this frame: let the
            # task go, so that reference counting frees the failed call at once (serve tunes the cyclic
            # collector on calls leaving no cycles behind: server.settle_heap).
            del task
        raise ToolError("TOOL_EXECUTION_TIMEOUT", f"{tool.name} did not finish within {seconds:g} s")

    async def _run(
        self,
        tool: Tool,
        parameters: Mapping[str, Any],
        context: dict[str, Any],
        upstream: list[int],
        timeout: float,
        via: tuple[str, ...] = (),
    ) -> Any:
        handler = self.handlers.get(tool.name)
        if handler is not None:
            return await self._handle(tool, handler, {**parameters, **context})
        if tool.request is not None:
            request = build_request(tool, {**parameters, **context})
            credentials = credentials_for(tool, self.credentials)
            schemes = chosen_alternative(tool, credentials)
            if schemes is None:
                raise ToolError("EXECUTION_FAILURE", f"{tool.name} has no credentials for its security requirement")
            apply_credentials(request, schemes, credentials, tool.name)
            # the values sent are taken out of the output: an upstream echoing them must not hand them to the model
            return await self._send(tool, request, upstream, timeout, sent_secrets(schemes, credentials))
        if self.instance in via or len(via) >= MAX_FORWARDS:
            # the endpoint leads back here (often: the tool's endpoint is this very service, which has no
            # handler for it): forwarded again, the call would go round until its timeout
            log.warning("tool %s: its endpoint forwards the call back to this service; not sending it", tool.name)
            raise ToolError(
                "EXECUTION_FAILURE",
                f"{tool.name} is forwarded to its endpoint, which leads back to a service that forwards it; "
                "serve its handler (--app) where the endpoint points",
            )
        request = forward_request(tool, parameters, context, (*via, self.instance))
        return await self._send(tool, request, upstream, timeout)

    async def _handle(self, tool: Tool, handler: Handler, arguments: dict[str, Any]) -> Any:
        attempts = MAX_ATTEMPTS if getattr(handler, "idempotent", False) is True else 1
        for attempt in range(1, attempts + 1):
            try:
                if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
                    getattr(handler, "__call__", None)  # noqa: B004 (a callable object's async __call__)
                ):
                    return await handler(arguments)
                result = await self._threads.run(handler, arguments)  # a daemon thread: see threads.py
                return await result if inspect.isawaitable(result) else result
            except ToolError:
                raise
            except SystemExit:  # a library of the handler's exiting (argparse, click): this call fails, not the
                # service (raised on, it would stop the event loop from inside the invocation's task)
                log.warning("tool %s failed: SystemExit", tool.name)
                raise ToolError("EXECUTION_FAILURE", f"{tool.name} failed (SystemExit)") from None
            except Exception:
                if attempt == attempts:
                    raise
                await self.clock.sleep(FIRST_BACKOFF * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def _send(
        self, tool: Tool, request: UpstreamRequest, upstream: list[int], timeout: float, secrets: tuple[str, ...] = ()
    ) -> Any:
        key = _host_port(request.url)
        attempts = MAX_ATTEMPTS if request.idempotent else 1
        if self._pool is None:
            self._pool = open_pool(self._client)
        for attempt in range(1, attempts + 1):
            if not self.breakers.allow(key):
                wait = self.breakers.retry_after(key)
                raise ToolError(
                    "CIRCUIT_OPEN", f"calls to {key} are paused after repeated failures; retry in {wait:.1f} s"
                )
            try:
                response = await self._pool.send(request.method, request.url, request.headers, request.content, timeout)
            except asyncio.CancelledError:
                self.breakers.failed(key)  # the timeout ran out while the upstream kept us waiting
                raise
            except Unreachable as exc:
                if exc.kind == "AnswerTooLarge":  # the host answers; asking again would bring the same answer
                    if exc.status is not None and exc.status >= 500:
                        self.breakers.failed(key)  # a 5xx is the host failing, however long its body
                        if attempt < attempts and exc.status in RETRIED_STATUSES:
                            # a gateway's 502/503/504 says nothing of the next try, however long its error page
                            upstream.append(exc.status)
                            await self.clock.sleep(FIRST_BACKOFF * 2 ** (attempt - 1))
                            continue
                    else:
                        self.breakers.succeeded(key)
                    if exc.status is not None and 200 <= exc.status < 300 and exc.kind != "TimeoutError":
                        # the upstream did the call (an order placed): an error would have a model place it again
                        upstream.append(exc.status)
                        return _TooLarge(exc.status)
                    # an error answer (3xx-5xx) is the error it says, however long; its size only when unknown
                    said = f"{exc.status}" if exc.status is not None else f"more than {MAX_ANSWER_BYTES:,} bytes"
                    raise ToolError(
                        "UPSTREAM_ERROR", f"the upstream of {tool.name} answered {said}", upstream_status=exc.status
                    ) from None
                self.breakers.failed(key)
                if attempt < attempts:
                    await self.clock.sleep(FIRST_BACKOFF * 2 ** (attempt - 1))
                    continue
                if exc.status is not None and 200 <= exc.status < 300:
                    # the upstream answered 2xx, then its body broke off or could not be decoded: the call was
                    # done (an order placed), and an error would have a model place it again (a timeout stays the
                    # tool's timeout, as the invocation's own timer says it at the same deadline)
                    upstream.append(exc.status)
                    return _Unreadable(exc.status)
                raise ToolError("UPSTREAM_ERROR", f"could not reach {key} ({exc.kind})") from None
            except Exception:
                self.breakers.abandoned(key)  # not the upstream's doing (a bug): a probe must not stay out forever
                raise
            upstream.append(response.status)
            if response.status >= 500:
                self.breakers.failed(key)
                if attempt < attempts and response.status in RETRIED_STATUSES:
                    await self.clock.sleep(FIRST_BACKOFF * 2 ** (attempt - 1))
                    continue
            else:
                self.breakers.succeeded(key)
            if response.status >= 300:  # redirects are not followed: they could carry credentials elsewhere
                raise ToolError(
                    "UPSTREAM_ERROR",
                    f"the upstream of {tool.name} answered {response.status}",
                    upstream_status=response.status,
                )
            return conceal(_output(response), secrets)
        raise AssertionError("unreachable")


TOO_LARGE = f"too large to pass on (more than {MAX_ANSWER_BYTES:,} bytes)"


class _TooLarge:
    """What `_send` gives for a 2xx answer past MAX_ANSWER_BYTES (not an output a handler could return)."""

    __slots__ = ("status",)

    def __init__(self, status: int) -> None:
        self.status = status


UNREADABLE = "unreadable (its body was cut short or could not be decoded)"


class _Unreadable:
    """What `_send` gives for a 2xx answer whose body broke off or could not be decoded."""

    __slots__ = ("status",)

    def __init__(self, status: int) -> None:
        self.status = status


def _expire(task: asyncio.Future[Any], expired: list[bool]) -> None:
    expired.append(True)
    task.cancel()


def _output(answer: Answer) -> Any:
    if not answer.content:
        return None
    try:
        # as json.loads reads it (integers past 64 bits too), by orjson mostly; strict: NaN, the infinities and a
        # number past the float range are not JSON, and would be passed on as null (orjson) or as no JSON at all
        return read_json(answer.content, no_constant, finite)
    except (ValueError, RecursionError):  # not JSON, or nested past what json.loads can read: the text
        return answer.text()


def _host_port(url: str) -> str:
    """The breaker's key: the upstream's host and port (the scheme's port when the URL names none)."""
    start = url.find("//")
    end = url.find("/", start + 2) if start >= 0 else -1
    origin = url if end < 0 else url[:end]  # holds the whole authority: one origin, one key
    key = _HOST_PORTS.get(origin)
    if key is None:  # urlsplit once per origin, not per call; the origins are the tools' (a few), or bounded
        if len(_HOST_PORTS) >= 1024:
            _HOST_PORTS.clear()
        parts = urlsplit(url)
        key = _HOST_PORTS[origin] = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    return key


_HOST_PORTS: dict[str, str] = {}


def _https(tool: Tool) -> bool:
    return str((tool.request or {}).get("url", tool.endpoint)).lower().startswith("https:")


def _last(statuses: list[int]) -> int | None:
    return statuses[-1] if statuses else None


__all__ = ["Handler", "Runtime"]
