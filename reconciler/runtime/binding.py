"""A tool's arguments → the HTTP request its request binding describes (DESIGN §3: the `request` of a tool).

    {"method": "PUT", "url": "https://api.example.com/orders/{id}",
     "parameters": {"id": {"in": "path", "name": "id"}, "note": {"in": "body", "name": "note"}, ...},
     "content_type": "application/json"}

Each argument goes where its binding says, under its original name (a parameter renamed to stay unique, like
`query_id`, is sent as `id`). Path, query and cookie values are percent-encoded by their style (`styles`), or,
for a parameter described by `content` (`"content_type": "application/json"` in its binding), written as JSON
text first, as OpenAPI serializes such a parameter (`?filter=%7B%22a%22%3A1%7D`). An optional query
parameter given "" is left out: OpenAPI reads a zero-length query value as the parameter not used, and a client
sends one only where the parameter says `allowEmptyValue: true` (then `?q=`); a required one is sent as given.
A form body's fields are text as query values are, and the same rule holds for them (Swagger 2.0 defines
`allowEmptyValue` for `formData` too), and for the properties of an object sent a pair a property (`form`
exploded, `deepObject`), by its schema's `required`; so a Data Action's template sends the same. A
header carries text as it is (an optional header or cookie given "" is not sent), so a value a header cannot carry
faithfully (control characters, spaces at its ends) is refused rather than altered. Bodies: JSON (named
properties, or the whole body), form-urlencoded (each property by its OpenAPI 3 Encoding Object,
`style`/`explode` as for a query parameter, `form` exploded by default: arrays as repeated fields, an object's
properties as fields of their own; a JSON `contentType` makes the value JSON text; a Swagger 2.0 `formData`
array is one field joined by its `collectionFormat`), multipart
(one part a property; binary-format strings as files, objects as JSON parts, a part's `Content-Type` its
Encoding Object's `contentType`), and any other media type as the string given (or its JSON).

The result is plain data (`UpstreamRequest`); sending it is the runtime's job.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from reconciler.compile.payload import orjson_as_standard
from reconciler.model import Tool
from reconciler.runtime import styles
from reconciler.runtime.invocation import ToolError

IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"))
_HEADER_SAFE = re.compile(r"[^\x00-\x1f\x7f]*")
_HEADER_BREAK = re.compile(r"[\x00-\x1f\x7f]")
_NO_ENCODING: Mapping[str, Any] = {}


@dataclass
class UpstreamRequest:
    method: str
    url: str
    """The full URL, query included, percent-encoded: it holds argument values, so it is never shown."""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content: bytes | None = None

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS


def build_request(tool: Tool, arguments: Mapping[str, Any]) -> UpstreamRequest:
    """The request for `arguments` (the model's, checked, plus the filled context parameters)."""
    try:
        return _build(tool, arguments)
    except UnicodeEncodeError:
        raise _not_unicode(tool, arguments) from None


def _build(tool: Tool, arguments: Mapping[str, Any]) -> UpstreamRequest:
    binding: Mapping[str, Any] = tool.request or {}
    parameters: Mapping[str, Any] = binding.get("parameters") or {}
    unknown = sorted(name for name in arguments if name not in parameters)
    if unknown:
        shown = ", ".join(repr(name[:64]) for name in unknown[:5])
        raise ToolError("INVALID_ARGUMENTS", f"{tool.name} has no parameter {shown}")
    method = str(binding.get("method", "GET")).upper()
    # a #fragment is never sent (Box tells operations on one path apart by one): the query must not follow it
    url = str(binding.get("url", tool.endpoint)).partition("#")[0]
    template = url
    query: list[str] = []
    headers: list[tuple[str, str]] = []
    cookies: list[str] = []
    body: dict[str, Any] = {}
    encodings: dict[str, Mapping[str, Any]] = {}
    whole_body: tuple[bool, Any] = (False, None)
    listed = tool.schema.get("required") if isinstance(tool.schema, Mapping) else None
    required = listed if isinstance(listed, list) else ()
    schemas = tool.schema.get("properties") if isinstance(tool.schema, Mapping) else None
    media = str(binding.get("content_type", "")).split(";")[0].strip().lower()
    form = media in _FORMS
    for argument, value in arguments.items():
        place = parameters[argument]
        location = place.get("in")
        name = place.get("name", argument)
        if location == "body":
            if form and "name" in place:
                # a form field is text, as a query value is (see the docstring): "" stands for no value
                if value == "" and not place.get("allowEmptyValue") and argument not in required:
                    continue
                if value == [] and "collectionFormat" in place:
                    continue  # (joined, no items are no text, as in a query)
            if "name" in place:
                fields = value
                if media == _URLENCODED and isinstance(value, dict) and _pairs_per_property(place):
                    fields = _given_fields(value, schemas.get(argument) if isinstance(schemas, Mapping) else None)
                body[name] = styles.collection_field(fields, place)
                if "style" in place or "explode" in place or "content_type" in place:
                    encodings[name] = place  # (a form property's Encoding Object)
            else:
                whole_body = (True, value)
            continue
        if value is None:
            continue  # an optional parameter given as null: left out
        # a parameter described by `content`: its value as that media type's text, then placed as text
        sent = _json_text(value) if "json" in str(place.get("content_type", "")) else value
        if location == "path":
            url = url.replace("{" + name + "}", styles.path_segment(name, sent, place))
        elif location == "query":
            if sent == "" and not place.get("allowEmptyValue") and argument not in required:
                continue  # OpenAPI: an empty query value stands for the parameter not used (see the docstring)
            if isinstance(sent, dict) and _pairs_per_property(place):
                sent = _given_fields(sent, schemas.get(argument) if isinstance(schemas, Mapping) else None)
            query += styles.query_pairs(name, sent, place)
        elif location == "header":
            if isinstance(sent, (list, dict)) and not sent:
                continue
            if sent == "" and argument not in required:
                continue  # an optional header given "" is not sent, as a Data Action sends none that renders empty
            text = styles.header_value(sent, place)
            if not _HEADER_SAFE.fullmatch(text) or text != text.strip(" \t"):
                raise ToolError(
                    "INVALID_ARGUMENTS",
                    f"argument {argument!r} of {tool.name} goes in a header, which cannot carry control "
                    "characters or spaces at its ends",
                )
            text.encode()  # UnicodeEncodeError for a lone surrogate, which no pool can send
            headers.append((name, text))
        elif location == "cookie":
            if sent == "" and argument not in required:
                continue  # a cookie is a name=value pair of text, as a query value is: "" stands for no value
            cookies += styles.cookie_pairs(name, sent, place)
    if "{" in url:
        missing = [
            p.get("name") for p in parameters.values() if p.get("in") == "path" and "{" + str(p.get("name")) in url
        ]
        if missing:
            raise ToolError("INVALID_ARGUMENTS", f"{tool.name} needs its path parameter {str(missing[0])!r}")
    if url != template:
        _refuse_dot_segments(tool, template, url, parameters)
    if query:
        url += ("&" if "?" in url else "?") + "&".join(query)
    if cookies:
        headers.append(("Cookie", "; ".join(cookies)))
    request = UpstreamRequest(method, url, headers)
    content_type = str(binding.get("content_type") or "application/json")
    if body or whole_body[0]:
        _body(request, tool, content_type, body, whole_body, encodings)
    elif "json" in content_type and any(p.get("in") == "body" and "name" in p for p in parameters.values()):
        # A JSON body whose properties were all left out is still sent, as {}: an operation that requires a
        # body refuses a request without one.
        _body(request, tool, content_type, {}, (False, None), encodings)
    return request


_URLENCODED = "application/x-www-form-urlencoded"
_FORMS = frozenset((_URLENCODED, "multipart/form-data"))


def _pairs_per_property(place: Mapping[str, Any]) -> bool:
    """Whether an object is sent as one `name=value` pair a property (`form` exploded, the default, or
    `deepObject`), not as one value or as JSON text."""
    if "content_type" in place and "style" not in place and "explode" not in place:
        return False
    style = place.get("style", "form")
    return style == "deepObject" or (style == "form" and place.get("explode") is not False)


def _given_fields(value: dict[str, Any], schema: Any) -> dict[str, Any]:
    """An object sent a pair a property, without the properties its schema does not require that were given ""
    or null: each pair is a query value, where "" stands for no value. (Kept whole when the schema does not
    say which properties it requires.)"""
    if not isinstance(schema, Mapping) or not isinstance(schema.get("properties"), Mapping):
        return value
    listed = schema.get("required")
    needed = listed if isinstance(listed, list) else ()
    return {key: item for key, item in value.items() if key in needed or (item != "" and item is not None)}


def _refuse_dot_segments(tool: Tool, template: str, url: str, parameters: Mapping[str, Any]) -> None:
    """A filled path segment that is empty, `.` or `..` is refused: the upstream (and any proxy before it) reads
    `/users/..` as `/` and `/users/` as the collection, so the call would reach another resource than the
    operation's. Values are percent-encoded, so a filled segment is the template's segment, one for one."""
    for written, filled in zip(template.split("?", 1)[0].split("/"), url.split("/"), strict=False):
        if "{" in written and filled in ("", ".", ".."):
            placed = (a for a, p in parameters.items() if p.get("in") == "path" and f"{{{p.get('name')}}}" in written)
            argument = next(placed, "?")
            raise ToolError(
                "INVALID_ARGUMENTS",
                f"argument {argument[:64]!r} of {tool.name} cannot be empty, '.' or '..': it is one segment of the "
                "upstream's path",
            )


def forward_request(
    tool: Tool, parameters: Mapping[str, Any], context: Mapping[str, Any], via: tuple[str, ...] = ()
) -> UpstreamRequest:
    """A hand-written tool without a handler: POST to its endpoint, as JSON, the invocation every tool endpoint
    takes (DESIGN §9's callback contract), as the tool's Data Action posts it (compile/data_actions/request.py):

        {"tool_name": NAME, "parameters": {the model's arguments},
         "user_id": …, "conversation_id": …,      (when a context parameter reads conversation.user_id / .id)
         "conversation": {each context value at its path}}   (when the tool has context parameters)

    Only the state its context parameters read goes out, not the whole conversation the service was given (a
    session token, an e-mail): the endpoint gets what the tool declared, and a `reconciler serve` there fills
    the same context parameters from it."""
    invocation: dict[str, Any] = {"tool_name": tool.name, "parameters": dict(parameters)}
    if tool.context:
        state: dict[str, Any] = {}
        taken: set[tuple[str, ...]] = set()
        # shorter paths first: a path inside one already taken is in that one's value
        for name, path in sorted(tool.context.items(), key=lambda item: item[1].count(".")):
            parts = tuple(path.split(".")[1:])
            if len(parts) == 1 and parts[0] in _TOP_LEVEL:
                invocation[_TOP_LEVEL[parts[0]]] = context[name]
            if not parts or any(parts[:end] in taken for end in range(1, len(parts))):
                continue
            taken.add(parts)
            node = state
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = context[name]
        invocation["conversation"] = state
    try:
        content = _json(invocation)
    except UnicodeEncodeError:
        raise _not_unicode(tool, {**parameters, **context}) from None
    headers = [("Content-Type", "application/json")]
    if via:  # the services this call went through, this one last: how a service tells a call that came back
        headers.append(("Via", ", ".join(f"1.1 {VIA_PREFIX}{instance}" for instance in via)))
    return UpstreamRequest("POST", tool.endpoint, headers, content)


VIA_PREFIX = "reconciler-"
"""A reconciler service's name in a `Via` header (RFC 9110 §7.6.3, whose purpose includes finding loops)."""


def services_via(header: str | None) -> tuple[str, ...]:
    """The instances of reconciler services a `Via` header names, in order (other proxies' entries left out)."""
    if not header:
        return ()
    found = []
    for entry in header.split(","):
        parts = entry.split()
        if len(parts) >= 2 and parts[1].startswith(VIA_PREFIX):
            found.append(parts[1][len(VIA_PREFIX) :][:64])
    return tuple(found[:64])


_TOP_LEVEL = {"id": "conversation_id", "user_id": "user_id"}
"""Context paths the invocation also carries at its top level (conversation_id, user_id), as it arrives here."""


def _not_unicode(tool: Tool, arguments: Mapping[str, Any]) -> ToolError:
    """JSON can hold a lone surrogate ("\\ud800") and UTF-8 cannot: the caller's mistake, named by argument."""
    culprit = "?"
    for name, value in arguments.items():
        try:
            _json_text({name: value}).encode()
        except UnicodeEncodeError:
            culprit = name
            break
    return ToolError(
        "INVALID_ARGUMENTS",
        f"argument {culprit[:64]!r} of {tool.name} holds text that is not Unicode (a lone surrogate); no request "
        "can carry it",
    )


def _body(
    request: UpstreamRequest,
    tool: Tool,
    content_type: str,
    fields: dict[str, Any],
    whole_body: tuple[bool, Any],
    encodings: Mapping[str, Mapping[str, Any]],
) -> None:
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    given, whole = whole_body
    if media == "multipart/form-data":
        _multipart(request, tool, fields if not given else {"body": whole}, encodings)
        return
    request.headers.append(("Content-Type", content_type))
    if media == "application/x-www-form-urlencoded":
        pairs = fields if not given else (whole if isinstance(whole, dict) else {"body": whole})
        request.content = _form(pairs, encodings).encode()
    elif "json" in media or not given:
        request.content = _json(whole if given else fields)
    else:
        request.content = whole.encode() if isinstance(whole, str) else _json(whole)


def _form(fields: Mapping[str, Any], encodings: Mapping[str, Mapping[str, Any]]) -> str:
    """application/x-www-form-urlencoded, each field as its Encoding Object says (OpenAPI 3): by `style` and
    `explode` as a query parameter is (`form`, exploded, by default: an object's properties become fields of
    their own, `deepObject` makes `filter[a]=…`, `explode: false` joins an array's items), or, with a JSON
    `contentType` and no style, as JSON text."""
    pieces: list[str] = []
    for name, value in fields.items():
        if value is None:
            continue
        encoding = encodings.get(name, _NO_ENCODING)
        styled = "style" in encoding or "explode" in encoding
        media = str(encoding.get("content_type", "")).lower()
        if media and not styled and (isinstance(value, str) or "json" in media):
            text = value if isinstance(value, str) else _json_text(value)  # the value as that media type's text
            pieces.append(f"{quote(name, safe='')}={quote(text, safe='')}")
            continue
        if styled or isinstance(value, dict):
            pieces += styles.query_pairs(name, value, dict(encoding))
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is None:
                continue
            text = _json_text(item) if isinstance(item, (dict, list)) else styles.scalar(item)
            pieces.append(f"{quote(name, safe='')}={quote(text, safe='')}")
    return "&".join(pieces)


def _multipart(
    request: UpstreamRequest, tool: Tool, fields: Mapping[str, Any], encodings: Mapping[str, Mapping[str, Any]]
) -> None:
    """multipart/form-data, written here: httpx makes a form-urlencoded body when no part is a file. A part's
    `Content-Type` is its Encoding Object's `contentType` when the description gives one (a JSON one makes the
    whole value, a list too, one JSON part)."""
    properties = tool.schema.get("properties", {}) if isinstance(tool.schema, Mapping) else {}
    arguments = {p.get("name"): argument for argument, p in ((tool.request or {}).get("parameters") or {}).items()}
    boundary = secrets.token_hex(16)
    chunks: list[bytes] = []
    for name, value in fields.items():
        schema = properties.get(arguments.get(name, name), {})
        given = encodings.get(name, {}).get("content_type")
        given = given if isinstance(given, str) and given and not _HEADER_BREAK.search(given) else None
        whole = given is not None and "json" in given.lower()
        items = value if isinstance(value, list) and not _is_binary(schema) and not whole else [value]
        for item in items:
            if item is None:
                continue
            filename, media = None, None
            if isinstance(item, str) and isinstance(schema, Mapping) and _is_binary(schema):
                filename, media = name, str(schema.get("contentMediaType", "application/octet-stream"))
                payload = item.encode()
            elif isinstance(item, (dict, list)):
                media, payload = "application/json", _json(item)
            else:
                payload = styles.scalar(item).encode()
            if given is not None:
                media = given
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"'
            if filename is not None:
                head += f'; filename="{_quoted(filename)}"'
            if media is not None:
                head += f"\r\nContent-Type: {media}"
            chunks.append(head.encode() + b"\r\n\r\n" + payload + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    request.headers.append(("Content-Type", f"multipart/form-data; boundary={boundary}"))
    request.content = b"".join(chunks)


def _quoted(name: str) -> str:
    """A field name inside quotes, escaped as browsers do (HTML's multipart/form-data encoding)."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _is_binary(schema: Mapping[str, Any]) -> bool:
    return schema.get("format") in ("binary", "byte") or "contentMediaType" in schema or "contentEncoding" in schema


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> bytes:
    """`_json_text(value)` as UTF-8, byte for byte; by orjson where it writes the same (~5x faster)."""
    data = orjson_as_standard(value)
    return _json_text(value).encode() if data is None else data


__all__ = ["IDEMPOTENT_METHODS", "VIA_PREFIX", "UpstreamRequest", "build_request", "forward_request", "services_via"]
