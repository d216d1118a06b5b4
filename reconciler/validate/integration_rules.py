"""One Data Actions integration per repository, and what that means for credentials (`target: data-actions`).

The platform adds an integration's Basic Auth credentials to every request of every action of it, by itself.
`reconciler serve` takes its caller secret as such a password, and an OpenAPI operation's upstream may take
its own: a repository whose hand-written tools (served by a tool service) and OpenAPI operations (other
hosts) share one integration sends either secret to the other's host. Per-tool integrations would let them
part; until then `validate` says so, once, at the `integration:` line, naming the hosts.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from reconciler.config import Config
from reconciler.errors import Diagnostic
from reconciler.model import SourceLocation, Tool
from reconciler.words import listed

SHOWN = 3
"""Tool names shown per host."""


def check_shared_integration(tools: Iterable[Tool], config: Config) -> list[Diagnostic]:
    """A warning when hand-written tools and OpenAPI operations of other hosts share the integration."""
    served: dict[str, list[str]] = {}
    upstream: dict[str, list[str]] = {}
    first: Tool | None = None
    for tool in tools:
        hosts = served if tool.origin == "definition" else upstream
        hosts.setdefault(_origin(tool), []).append(tool.name)
        if first is None and tool.origin == "definition":
            first = tool
    if not served or not upstream or len(served.keys() | upstream.keys()) == 1:
        return []
    where = config.integration_at or (first.location if first else SourceLocation(config.file or "reconciler.yaml"))
    message = (
        f"integration {config.integration!r} holds the actions of hand-written tools ({_hosts(served)}) and of "
        f"OpenAPI operations ({_hosts(upstream)}): the platform sends the integration's Basic Auth credentials "
        "with every request of every action, so a `reconciler serve` caller secret would reach those APIs too (and "
        "their password the tool service). Give the hand-written tools an integration of their own (a repository "
        "with its own reconciler.yaml), or keep Basic Auth credentials off this one (docs/data-actions.md)"
    )
    return [Diagnostic("warning", where, message, "data-action")]


def _origin(tool: Tool) -> str:
    url = tool.request.get("url") if tool.request is not None else None
    parts = urlsplit(url if isinstance(url, str) else tool.endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def _hosts(found: dict[str, list[str]]) -> str:
    said = []
    for host, names in sorted(found.items()):
        shown = listed(sorted(names), SHOWN)
        said.append(f"{host}: {shown}")
    return "; ".join(said)


__all__ = ["check_shared_integration"]
