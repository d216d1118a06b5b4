"""A written `request` binding (what `export` writes for an OpenAPI-derived tool) is what `serve` calls, exactly:
it is held to the rules its compiled form meets. Its URL is an endpoint (https, http only for loopback), its
method is HTTP's, each `{name}` of the URL is filled by a path parameter, and each parameter of the tool, the
model's and the context's, has a place in it (the tool service refuses an argument it cannot place)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from reconciler.errors import Diagnostic
from reconciler.model import Tool

METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST", "PATCH", "TRACE"))
_TEMPLATE = re.compile(r"\{([^{}]*)\}")


def check_request(tool: Tool, check_url: Callable[[Tool, str, str], Iterator[Diagnostic]]) -> Iterator[Diagnostic]:
    """Errors of a hand-written tool's `request`; `check_url` is the endpoint rule, given the field to blame."""
    binding = tool.request
    if not isinstance(binding, Mapping):
        return
    method, url = binding.get("method"), binding.get("url")
    if isinstance(method, str) and method.upper() not in METHODS:
        yield Diagnostic(
            "error",
            tool.location_of("request.method"),
            f"request method {method!r} of '{tool.name}' is not an HTTP method; use one of "
            f"{', '.join(sorted(METHODS))}",
            "request",
        )
    parameters: Mapping[str, Any] = binding.get("parameters") or {}
    if isinstance(url, str):
        yield from check_url(tool, url, "request.url")
        paths = {str(place.get("name", key)) for key, place in parameters.items() if _in(place) == "path"}
        for name in dict.fromkeys(_TEMPLATE.findall(url)):
            if name not in paths:
                yield Diagnostic(
                    "error",
                    tool.location_of("request.url"),
                    f"request url of '{tool.name}' holds '{{{name}}}', which no path parameter of its request fills "
                    f"(request.parameters: {{PARAMETER: {{in: path, name: {name}}}}})",
                    "request",
                )
    found = tool.schema.get("properties")
    properties: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    for name in [*properties, *tool.context]:
        if name not in parameters:
            yield Diagnostic(
                "error",
                tool.location_of("request.parameters"),
                f"parameter {name!r} of '{tool.name}' has no place in its request (request.parameters: {{{name}: "
                "{in: path | query | header | cookie | body, name: ...}}); the tool service would refuse every call "
                "that gives it",
                "request",
            )


def _in(place: Any) -> Any:
    return place.get("in") if isinstance(place, Mapping) else None
