"""What `reconciler serve` needs beyond what the registry needs: every secured operation's credentials.

An OpenAPI operation with a security requirement is served only when one of its alternatives has a credential
for each of its schemes (from its source's `credentials:`, or given to the runtime); otherwise every call would
be a 401. `reconciler serve` refuses to start on these errors, and `reconciler validate --serve` reports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.errors import Diagnostic
from reconciler.model import Tool


def check_serve(tools: Iterable[Tool], credentials: Mapping[str, str] | None = None) -> list[Diagnostic]:
    extra = credentials or {}
    problems: list[Diagnostic] = []
    for tool in tools:
        security = tool.security
        if security is None:
            continue
        known = {**security.credentials, **extra}
        if any(all(scheme.name in known for scheme in alternative) for alternative in security.alternatives):
            continue
        if security.alternatives:
            missing = [scheme.name for scheme in security.alternatives[0] if scheme.name not in known]
            names = ", ".join(repr(name) for name in missing)
            example = ", ".join(f"{name}: ${{{name.upper()}}}" for name in missing)
            message = (
                f"{tool.name} needs credentials for security scheme {names}; add `credentials: {{{example}}}` to "
                "the source of its description (a `source:` document), with the values in environment variables"
            )
        else:
            names = ", ".join(repr(name) for name in security.unsupported)
            message = (
                f"{tool.name} needs security scheme {names}, which the tool service cannot fill (it fills API keys, "
                "HTTP basic and bearer tokens); exclude the operation from the source"
            )
        problems.append(Diagnostic("error", security.location, message, "serve-credentials"))
    return problems


__all__ = ["check_serve"]
