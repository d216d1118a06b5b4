"""The tool service (`reconciler serve`, DESIGN §9): the compiled tools of a directory, callable over HTTP.

`app` is the Starlette application (routes, answers, accounting), `audit` the JSON-lines audit log,
`telemetry` the OpenTelemetry metrics exposed for Prometheus, `handlers` loads `--app module:object`, and
`server` runs it all under uvicorn with a graceful stop. The execution itself is `reconciler.runtime`'s.
Needs the `serve` extra: `pip install '.[serve]'` in a checkout (`reconciler` on PyPI is another project).
"""

from reconciler.serve.app import STATUS, Service, create_app
from reconciler.serve.audit import AuditLog, audit_record, parameters_sha256
from reconciler.serve.handlers import load_handlers
from reconciler.serve.server import bind, make_server, serve, url_of
from reconciler.serve.telemetry import Metrics

__all__ = [
    "STATUS",
    "AuditLog",
    "Metrics",
    "Service",
    "audit_record",
    "bind",
    "create_app",
    "load_handlers",
    "make_server",
    "parameters_sha256",
    "serve",
    "url_of",
]
