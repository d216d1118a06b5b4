"""An operation's security requirement, filled from credentials: which alternative, and what it adds.

The first alternative whose every scheme has a credential is used (an empty alternative needs none). The
credentials are the source's `credentials: {SCHEME: ${VAR}}`, overridden by those the Runtime is given.
`reconciler serve` checks at start-up that one alternative can be met (`validate.check_serve`), so a missing
key is an error with the file and line of the requirement, not a 401 at run time.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

from reconciler.model import SecurityScheme, Tool
from reconciler.runtime import styles
from reconciler.runtime.binding import UpstreamRequest
from reconciler.runtime.invocation import ToolError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def credentials_for(tool: Tool, extra: Mapping[str, str]) -> dict[str, str]:
    own = dict(tool.security.credentials) if tool.security is not None else {}
    return {**own, **extra}


def chosen_alternative(tool: Tool, credentials: Mapping[str, str]) -> tuple[SecurityScheme, ...] | None:
    """The schemes to fill (empty: none needed), or None when no alternative can be met."""
    if tool.security is None or not tool.security.alternatives:
        return ()
    for alternative in tool.security.alternatives:
        if all(scheme.name in credentials for scheme in alternative):
            return alternative
    return None


def apply_credentials(
    request: UpstreamRequest,
    schemes: tuple[SecurityScheme, ...],
    credentials: Mapping[str, str],
    tool_name: str = "the tool",
) -> None:
    for scheme in schemes:
        value = credentials[scheme.name]
        in_header = scheme.kind == "bearer" or (scheme.kind != "basic" and scheme.location == "header")
        if in_header and _CONTROL.search(value):  # sent as is, it would split the header (or a pool refuse it)
            raise ToolError(
                "EXECUTION_FAILURE",
                f"the credential for {scheme.name!r} holds a line break or another control character (often a "
                "trailing newline from the file it was read from), which a header cannot carry",
            )
        if in_header or scheme.kind == "basic":
            header = scheme.parameter if scheme.kind == "apiKey" else "Authorization"
            _refuse_taken(tool_name, header, header.lower(), [name.lower() for name, _ in request.headers])
        if scheme.kind == "basic":
            token = base64.b64encode(value.encode()).decode()
            request.headers.append(("Authorization", f"Basic {token}"))
        elif scheme.kind == "bearer":
            request.headers.append(("Authorization", f"Bearer {value}"))
        elif scheme.location == "header":
            request.headers.append((scheme.parameter, value))
        elif scheme.location == "query":
            name = styles.encode(scheme.parameter)
            _refuse_taken(tool_name, scheme.parameter, name, request.url.partition("?")[2].split("&"))
            request.url += ("&" if "?" in request.url else "?") + f"{name}={styles.encode(value)}"
        else:
            pair = f"{scheme.parameter}={styles.encode(value)}"
            for index, (name, text) in enumerate(request.headers):
                if name == "Cookie":
                    _refuse_taken(tool_name, scheme.parameter, scheme.parameter, text.split("; "))
                    request.headers[index] = (name, f"{text}; {pair}")
                    break
            else:
                request.headers.append(("Cookie", pair))


def _refuse_taken(tool_name: str, parameter: str, written: str, pairs: list[str]) -> None:
    """An argument that already set the header, query parameter or cookie a credential fills (a description
    that lists its auth header as a parameter too, an exploded object naming its own pairs): sent before the
    credential, it is the one most servers read, so the call would carry the model's key instead of the tool's."""
    if any(pair.partition("=")[0] == written for pair in pairs):
        raise ToolError(
            "INVALID_ARGUMENTS", f"the arguments of {tool_name} set {parameter!r}, which the tool's credentials fill"
        )


__all__ = ["apply_credentials", "chosen_alternative", "credentials_for"]
