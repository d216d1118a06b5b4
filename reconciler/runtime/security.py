"""An operation's security requirement, filled from credentials: which alternative, and what it adds.

The first alternative whose every scheme has a credential is used (an empty alternative needs none). The
credentials are the source's `credentials: {SCHEME: ${VAR}}`, overridden by those the Runtime is given.
`reconciler serve` checks at start-up that one alternative can be met (`validate.check_serve`), so a missing
key is an error with the file and line of the requirement, not a 401 at run time.

A credential is the operator's, given for the upstream, never the model's: an upstream that echoes the request
(a debug endpoint, an error page quoting its URL or headers) would put it in the model's context, and from there
in replies, transcripts and logs, or hand it to whoever talks the model into repeating it. So each value a call
sent (an HTTP basic credential as its token and its password too) is replaced by `(sensitive)` in that call's
output, in any form a JSON or text answer may hold it (escaped, percent-encoded, UTF-16 read as UTF-8), keys
included.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Mapping
from typing import Any

import orjson

from reconciler.model import SecurityScheme, Tool
from reconciler.redaction import REDACTED, encodings, value_pattern
from reconciler.runtime import styles
from reconciler.runtime.binding import UpstreamRequest
from reconciler.runtime.invocation import ToolError
from reconciler.runtime.jsonread import read_json

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UTF16 = ("utf-16-le", "utf-16-be")


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


def sent_secrets(schemes: tuple[SecurityScheme, ...], credentials: Mapping[str, str]) -> tuple[str, ...]:
    """The credential values a call filled by `apply_credentials` carries, as an upstream may echo them."""
    found: list[str] = []
    for scheme in schemes:
        value = credentials[scheme.name]
        found.append(value)
        if scheme.kind == "basic":  # sent as base64 of user:password; the password alone is the secret too
            found.extend((base64.b64encode(value.encode()).decode(), value.partition(":")[2]))
    return tuple(value for value in found if value)


def conceal(output: Any, secrets: tuple[str, ...]) -> Any:
    """`output` (JSON data as read, or text) with each of `secrets` replaced by `(sensitive)`; itself when it
    holds none, told from its JSON text by substring searches (C speed: most outputs hold none)."""
    if not secrets or output is None or isinstance(output, (bool, int, float)):
        return output
    forms, pattern = _concealing(secrets)
    if isinstance(output, str):
        if "\x00" in output:  # perhaps UTF-16 that named its encoding neither by label nor by byte order mark,
            # read as UTF-8: each letter then stands beside a NUL, which a model reads through
            paired, paired_pattern = _concealing_utf16(secrets)
            if any(form in output for form in paired):
                output = paired_pattern.sub(REDACTED, output)
        return pattern.sub(REDACTED, output) if any(form in output for form in forms) else output
    try:
        text = orjson.dumps(output).decode()
    except TypeError:  # an integer past 64 bits, or nested past orjson's 255 levels
        try:
            text = json.dumps(output, ensure_ascii=False)
        except RecursionError:  # nested past what JSON writers write: never passed on (invocation.unwritable)
            return output
    if not any(form in text for form in forms):
        return output
    concealed = pattern.sub(REDACTED, text)  # inside a JSON string, (sensitive) needs no escape
    try:
        return read_json(concealed.encode())
    except (ValueError, RecursionError):  # it stood where a string cannot (a number): the text, as for non-JSON
        return concealed


@functools.lru_cache(maxsize=256)
def _concealing(secrets: tuple[str, ...]) -> tuple[frozenset[str], re.Pattern[str]]:
    """The forms to look for (the redactor's, and a JSON text's `/` written `\\/`, as PHP writes it), and one
    pattern replacing them, longest first; a tool's calls send the same few values, so this is made once."""
    forms = {form for secret in secrets for form in encodings(secret)}
    forms |= {json.dumps(secret)[1:-1].replace("/", "\\/") for secret in secrets if "/" in secret}
    pattern = value_pattern(forms)
    assert pattern is not None  # `secrets` holds no empty value (sent_secrets)
    return frozenset(forms), pattern


@functools.lru_cache(maxsize=256)
def _concealing_utf16(secrets: tuple[str, ...]) -> tuple[frozenset[str], re.Pattern[str]]:
    """`_concealing`'s forms as UTF-16 (either byte order) reads when decoded as UTF-8."""
    forms = {
        form.encode(codec).decode("utf-8", "replace").strip("\x00")
        for form in _concealing(secrets)[0]
        for codec in _UTF16
    }
    pattern = value_pattern(forms)
    assert pattern is not None
    return frozenset(forms), pattern


def _refuse_taken(tool_name: str, parameter: str, written: str, pairs: list[str]) -> None:
    """An argument that already set the header, query parameter or cookie a credential fills (a description
    that lists its auth header as a parameter too, an exploded object naming its own pairs): sent before the
    credential, it is the one most servers read, so the call would carry the model's key instead of the tool's."""
    if any(pair.partition("=")[0] == written for pair in pairs):
        raise ToolError(
            "INVALID_ARGUMENTS", f"the arguments of {tool_name} set {parameter!r}, which the tool's credentials fill"
        )


__all__ = ["apply_credentials", "chosen_alternative", "conceal", "credentials_for", "sent_secrets"]
