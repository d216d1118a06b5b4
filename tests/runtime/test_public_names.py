"""The runtime's and the tool service's public names are what chat and scripts import: they must not drift."""

from __future__ import annotations

import reconciler.runtime
import reconciler.serve


def test_the_public_names_do_not_drift() -> None:
    assert reconciler.runtime.__all__ == [
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
    assert reconciler.serve.__all__ == [
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
    for module in (reconciler.runtime, reconciler.serve):
        assert all(hasattr(module, name) for name in module.__all__)
