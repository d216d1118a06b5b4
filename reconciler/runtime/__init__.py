"""Running compiled tools: the execution core of the tool service (`reconciler serve`) and the conversation loop.

    Runtime(tools, handlers=, credentials=, clock=)   .invoke(Invocation) -> Outcome
    Invocation(tool_name, parameters, conversation_id, user_id, conversation)
    Outcome(status, output, error_code, message, latency_ms, upstream_status)

Inside, one idea per module: `invocation` (the records and error codes), `arguments` (context parameters and
schema checks), `styles` (OpenAPI parameter serialization), `binding` (arguments → an HTTP request), `security`
(credentials), `breaker` (one circuit breaker per upstream host:port), `clock` (injectable time), `threads` (the
threads sync handlers run in), `upstream` (the connection pool a request is sent through) and `core` (the
Runtime: handlers, forwarding, timeouts, retries).
"""

from reconciler.runtime.binding import UpstreamRequest, build_request, forward_request
from reconciler.runtime.breaker import BreakerPolicy, Breakers
from reconciler.runtime.clock import Clock, SystemClock
from reconciler.runtime.core import Handler, Runtime
from reconciler.runtime.invocation import ERROR_CODES, ErrorCode, Invocation, Outcome, ToolError

__all__ = [
    "ERROR_CODES",
    "BreakerPolicy",
    "Breakers",
    "Clock",
    "ErrorCode",
    "Handler",
    "Invocation",
    "Outcome",
    "Runtime",
    "SystemClock",
    "ToolError",
    "UpstreamRequest",
    "build_request",
    "forward_request",
]
