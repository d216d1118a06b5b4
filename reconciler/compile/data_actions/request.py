"""A tool's request binding → the action's `config.request` (Velocity templates), and the contract
constraints those templates rely on.

Where each input lands, and how it is written there (`velocity.py` holds the shared rules):

- path segment: `$esc.uriEncode(...)`, so a space is `%20` and `/` cannot split the segment; arrays (style
  `simple`) comma-joined. The contract refuses `""`, `.` and `..`, which would change the path.
- query: `$esc.url(...)`; optional parameters inside `#if`; arrays and objects by `style`/`explode` (or
  Swagger's `collectionFormat`): `form` repeated or comma-joined, `spaceDelimited`, `pipeDelimited`,
  `tabDelimited`, `deepObject`. A string the contract refuses empty (`minLength: 1`: OpenAPI reads an empty
  query value as the parameter not used), unless the parameter says `allowEmptyValue: true`: then `""` is
  allowed and sent (`name=`).
- header: the value as given; the contract refuses line breaks in it, so no input can add a header (and an
  empty value for a required one). A header whose value renders empty is not sent.
- cookie: one `Cookie` header, each value `$esc.uriEncode`d.
- JSON body: `${input.rawRequest}` when the body is exactly the inputs; otherwise built field by field
  (`velocity.json_value`).
- form body: `name=$esc.url(...)` pairs joined by `&`; an optional `""` is left out, unless a Swagger 2.0
  field says `allowEmptyValue: true`. Arrays and objects as in a query (their encoding's `style`/`explode`, or
  `collectionFormat`); one whose encoding makes it JSON text is an error. Other bodies (multipart, binary) are
  errors, and so is any body of a GET, which the platform never sends; a GET's template is the platform's
  default, `${input.rawRequest}`.

A tool without a request binding (hand-written, with an `endpoint`) is a POST to the endpoint of the invocation
every tool endpoint takes (`reconciler serve`'s, the Tools API's callback): `{"tool_name": NAME, "parameters":
{...}}`, and the context parameters, which the calling flow or guide fills as inputs, where the invocation
carries conversation state: `conversation.user_id` under `conversation` and as `user_id`, `conversation.id` as
`conversation_id`, any other path nested under `conversation`. So one endpoint serves a tool on either target.
Without context parameters, `parameters` is the whole input (`${input.rawRequest}`); with them, it is built field
by field, as a JSON body is, leaving the context inputs out (an endpoint refuses them from the model's side).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from reconciler.compile.data_actions.dialect import Unexpressible
from reconciler.compile.data_actions.velocity import (
    PRIMITIVES,
    Piece,
    closed,
    escaped,
    given,
    join,
    json_value,
    kind,
    literal,
    member,
    present,
    scalar,
)

RAW_REQUEST = "${input.rawRequest}"
NO_LINE_BREAK = "^[^\\r\\n]*$"
_VARIABLE = re.compile(r"\{([^{}]+)\}")
_DELIMITERS = {"form": ",", "spaceDelimited": "%20", "pipeDelimited": "|", "tabDelimited": "%09"}
_COLLECTION = {"csv": ("form", False), "ssv": ("spaceDelimited", False), "pipes": ("pipeDelimited", False)}
_COLLECTION |= {"multi": ("form", True), "tsv": ("tabDelimited", False)}
_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH"})


class RequestBuilder:
    """Builds `config.request` for one tool; `properties` (the contract's inputs) gain the constraints the
    templates rely on."""

    def __init__(self, properties: dict[str, Any], required: set[str]) -> None:
        self.properties = properties
        self.required = required

    def for_endpoint(self, endpoint: str, tool_name: str, context: Mapping[str, str]) -> dict[str, Any]:
        entries = [f'"tool_name":{literal(_json_key(tool_name))}']
        if context:
            fields = [(name, name) for name in self.properties if name not in context]
            entries.append(f'"parameters":{self._json_fields(fields, "p0")}')
            entries += self._conversation(context)
        else:
            entries.append(f'"parameters":{RAW_REQUEST}')
        return {
            "requestType": "POST",
            "requestUrlTemplate": literal(endpoint),
            "headers": {"Content-Type": "application/json"},
            "requestTemplate": "{" + ",".join(entries) + "}",
        }

    def _conversation(self, context: Mapping[str, str]) -> list[str]:
        """The invocation's entries that carry the context inputs, each at its path of the conversation state."""
        state: dict[str, Any] = {}
        entries = []
        for name, path in context.items():
            where = ("context", name)
            parts = path.split(".")[1:]
            if not parts:
                raise Unexpressible(where, f"{path!r} names no value of the conversation state")
            node = state
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise Unexpressible(where, f"{path} lies inside another context parameter's value")
            if parts[-1] in node:
                raise Unexpressible(where, f"{path} holds another context parameter's value")
            node[parts[-1]] = json_value(self._ref(name), self.properties[name], where)
            top = {"id": "conversation_id", "user_id": "user_id"}.get(parts[0]) if len(parts) == 1 else None
            if top is not None:
                entries.append(f"{literal(_json_key(top))}:{node[parts[-1]]}")
        return [*entries, f'"conversation":{_written(state)}']

    def for_binding(self, binding: Mapping[str, Any]) -> dict[str, Any]:
        method = str(binding.get("method", "GET")).upper()
        if method not in _METHODS:
            raise Unexpressible(("request", "method"), f"a Data Action cannot send {method} (only {sorted(_METHODS)})")
        where: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        for name, spec in (binding.get("parameters") or {}).items():
            if "content_type" in spec and spec.get("in") != "body":
                raise Unexpressible(
                    ("parameters", name),
                    f"it is described by `content` ({spec['content_type']}): sent as that media type's text, which "
                    "a Data Action template cannot write",
                )
            where.setdefault(str(spec.get("in")), []).append((name, spec))
        # a #fragment is never sent (Box tells operations on one path apart by one): the query must not follow it
        url = self._url(str(binding.get("url", "")).partition("#")[0], where.get("path", []))
        url += self._query(where.get("query", []), "&" if "?" in url else "?")
        headers = {spec["name"]: self._header(name, spec) for name, spec in where.get("header", [])}
        cookies = [self._cookie(name, spec) for name, spec in where.get("cookie", [])]
        if cookies:
            headers["Cookie"] = join(cookies, first="", separator="; ", variable="k0")
        body = where.get("body", [])
        # The platform sends no body with a GET and shows its request template as `${input.rawRequest}`, the
        # default: written so, what it answers is what was sent
        template = RAW_REQUEST if method == "GET" else ""
        if body and method == "GET":
            where_body = ("parameters", body[0][0])
            raise Unexpressible(where_body, "a Data Action sends no body with a GET request, so this one would be lost")
        if body:
            content_type = str(binding.get("content_type") or "application/json")
            template = self._body(body, content_type)
            headers["Content-Type"] = content_type
        return {"requestType": method, "requestUrlTemplate": url, "headers": headers, "requestTemplate": template}

    # -- the URL

    def _url(self, url: str, path: list[tuple[str, Mapping[str, Any]]]) -> str:
        by_name = {str(spec.get("name")): (name, spec) for name, spec in path}
        pieces: list[str] = []
        position = 0
        for match in _VARIABLE.finditer(url):
            if match.group(1) not in by_name:
                continue
            pieces.append(literal(url[position : match.start()]))
            name, spec = by_name[match.group(1)]
            pieces.append(self._segment(name, spec))
            position = match.end()
        return "".join(pieces) + literal(url[position:])

    def _segment(self, name: str, spec: Mapping[str, Any]) -> str:
        where = ("parameters", name)
        style = spec.get("style", "simple")
        if style != "simple":
            raise Unexpressible(where, f"path style {style!r} is not supported in a Data Action URL (use simple)")
        value_kind = self._kind(name, where)
        segment_rule = {"minLength": 1, "not": {"enum": [".", ".."]}}
        if value_kind == "array":
            items = self.properties[name].get("items")
            self._primitive(items, (*where, "items"))
            self.properties[name] = _constrain(self.properties[name], {"minItems": 1})
            self.properties[name]["items"] = _constrain(items, segment_rule)
            loop = "$foreach.hasNext"
            # `#{end}`: the literal text after a segment may start with a letter (`{ids}abc`)
            return f"#foreach($v0 in ${self._ref(name)}){escaped('uriEncode', 'v0')}#if({loop}),#end#{{end}}"
        self._primitive(self.properties[name], where)
        # whatever else the value may be, it must not be empty, `.` or `..` (`minLength` binds strings only)
        self.properties[name] = _constrain(self.properties[name], segment_rule)
        return escaped("uriEncode", self._ref(name))

    def _query(self, query: list[tuple[str, Mapping[str, Any]]], first: str) -> str:
        pieces = [piece for name, spec in query for piece in self._query_pieces(name, spec)]
        return join(pieces, first=first, separator="&", variable="q0")

    def _query_pieces(self, name: str, spec: Mapping[str, Any], place: str = "query") -> list[Piece]:
        """A query parameter's pieces, or (`place="form"`) those of a form field's array or object, which a form
        body writes as a query string is written (OpenAPI's Encoding Object reads its style as a query's)."""
        where = ("parameters", name)
        ref = self._ref(name)
        key = quote(str(spec.get("name")), safe="")
        style, explode = _style(spec)
        value_kind = self._kind(name, where)
        empty = spec.get("allowEmptyValue") is True  # the server reads `name=`: an empty value is one to send
        guard = None if name in self.required else present(ref, self.properties[name]) if empty else given(ref)
        if value_kind in PRIMITIVES or scalar(self.properties[name]):
            if value_kind == "string" and not empty:  # OpenAPI: an empty query value is the parameter not used
                self.properties[name] = _constrain(self.properties[name], {"minLength": 1})
            return [_piece(guard, lambda p, a: f"{p}{key}={escaped('url', ref)}{a}")]
        if value_kind == "array":
            self._primitive(self.properties[name].get("items"), (*where, "items"))
            if explode and style == "form":
                loop = f"#foreach($v0 in ${ref})"
                return [_piece(guard, lambda p, a: f"{loop}{p}{key}={escaped('url', 'v0')}{a}#end", always=False)]
            if style not in _DELIMITERS:
                raise Unexpressible(where, f"{place} style {style!r} for an array has no Data Action template")
            delimiter = _DELIMITERS[style]
            # written only when the array has an element: `name=` alone would be one empty value
            value = f"{escaped('url', 'v0')}#if($foreach.hasNext){delimiter}#end"
            return [
                _piece(
                    guard,
                    lambda p, a: f"#foreach($v0 in ${ref})#if($foreach.first){p}{key}={a}#end{value}#end",
                    always=False,
                )
            ]
        if value_kind == "object" and (style == "deepObject" or (style == "form" and explode)):
            schema = closed(self.properties[name])
            self.properties[name] = schema
            pieces = []
            for prop, sub in (schema.get("properties") or {}).items():
                self._primitive(sub, (*where, "properties", prop))
                child = member(ref, prop, (*where, "properties", prop))
                pair_key = f"{key}%5B{quote(prop, safe='')}%5D" if style == "deepObject" else quote(prop, safe="")
                guards = [g for g in (guard, None if prop in schema.get("required", ()) else given(child)) if g]
                condition = " && ".join(f"({g})" for g in guards) or None
                pieces.append(_piece(condition, lambda p, a, k=pair_key, c=child: f"{p}{k}={escaped('url', c)}{a}"))
            return pieces
        shape = f"{value_kind or 'open'}, style {style}"
        raise Unexpressible(where, f"a {place} parameter of this shape ({shape}) has no Data Action template")

    # -- headers, cookies

    def _header(self, name: str, spec: Mapping[str, Any]) -> str:
        where = ("parameters", name)
        ref = self._ref(name)
        value_kind = self._kind(name, where)
        bang = "" if name in self.required else "!"
        if value_kind == "array":
            items = self.properties[name].get("items")
            self._primitive(items, (*where, "items"))
            if kind(items)[0] == "string":
                self.properties[name]["items"] = _constrain(items, {"pattern": NO_LINE_BREAK})
            text = f"#foreach($v0 in ${ref})${{v0}}#if($foreach.hasNext),#end#end"
            return text if bang == "" else f"#if({given(ref)}){text}#end"
        self._primitive(self.properties[name], where)
        # `pattern` and `minLength` bind strings only; an empty value is no header: a required one holds something
        rules = {"pattern": NO_LINE_BREAK, "minLength": 1} if bang == "" else {"pattern": NO_LINE_BREAK}
        self.properties[name] = _constrain(self.properties[name], rules)
        return f"${bang}{{{ref}}}"

    def _cookie(self, name: str, spec: Mapping[str, Any]) -> Piece:
        where = ("parameters", name)
        self._primitive(self.properties[name], where)
        ref = self._ref(name)
        key = quote(str(spec.get("name")), safe="")
        guard = None if name in self.required else given(ref)
        return _piece(guard, lambda p, a: f"{p}{key}={escaped('uriEncode', ref)}{a}")

    # -- the body

    def _body(self, body: list[tuple[str, Mapping[str, Any]]], content_type: str) -> str:
        media = content_type.split(";", maxsplit=1)[0].strip().lower()
        whole = [name for name, spec in body if "name" not in spec]
        if "json" in media:
            if whole:
                name = whole[0]
                self.properties[name] = closed(self.properties[name])
                return json_value(self._ref(name), self.properties[name], ("parameters", name))
            if self._is_raw_request(body):
                return RAW_REQUEST
            return self._json_fields([(name, str(spec["name"])) for name, spec in body], "b0")
        if media == "application/x-www-form-urlencoded" and not whole:
            pieces = [piece for name, spec in body for piece in self._form(name, spec)]
            return join(pieces, first="", separator="&", variable="f0")
        where = ("parameters", whole[0] if whole else body[0][0])
        raise Unexpressible(
            where,
            f"a request body of {media} cannot be built by a Data Action template (only JSON or "
            "application/x-www-form-urlencoded)",
        )

    def _json_fields(self, fields: list[tuple[str, str]], variable: str) -> str:
        """A JSON object of inputs, each (input, key) written by its schema; an optional one only when given."""
        pieces = []
        for name, json_key in fields:
            self.properties[name] = closed(self.properties[name])
            key = literal(_json_key(json_key)) + ":"
            value = json_value(self._ref(name), self.properties[name], ("parameters", name))
            ref = self._ref(name)
            guard = None if name in self.required else present(ref, self.properties[name])
            pieces.append(_piece(guard, lambda p, a, k=key, v=value: f"{p}{k}{v}{a}"))
        return "{" + join(pieces, first="", separator=",", variable=variable) + "}"

    def _form(self, name: str, spec: Mapping[str, Any]) -> list[Piece]:
        where = ("parameters", name)
        ref = self._ref(name)
        key = quote(str(spec["name"]), safe="")
        empty = spec.get("allowEmptyValue") is True  # (a Swagger 2.0 field the server takes empty: `name=`)
        guard = None if name in self.required else present(ref, self.properties[name]) if empty else given(ref)
        value_kind = self._kind(name, where)
        if value_kind in ("array", "object"):
            media = spec.get("content_type")
            if media is not None and "style" not in spec and "explode" not in spec:
                raise Unexpressible(
                    where, f"its encoding sends it as {media} text, which a Data Action form template cannot write"
                )
            # by its style and explode, or its Swagger 2.0 collectionFormat (`csv` unless written), as serve sends it
            return self._query_pieces(name, spec, "form")
        self._primitive(self.properties[name], where)
        return [_piece(guard, lambda p, a: f"{p}{key}={escaped('url', ref)}{a}")]

    def _is_raw_request(self, body: list[tuple[str, Mapping[str, Any]]]) -> bool:
        """Whether the body is exactly the action's input: every input is a body field of its own name."""
        return len(body) == len(self.properties) and all(spec.get("name") == name for name, spec in body)

    # -- shared

    def _ref(self, name: str) -> str:
        if name == "rawRequest":  # `$input.rawRequest` is the platform's: the whole input, as JSON
            raise Unexpressible(
                ("parameters", name),
                "an input named 'rawRequest' cannot be told from the platform's $input.rawRequest (the whole "
                "input as JSON); rename it (an override's name, or the description's)",
            )
        return member("input", name, ("parameters", name))

    def _kind(self, name: str, where: tuple[str, ...]) -> str | None:
        if name not in self.properties:
            raise Unexpressible(where, f"the request binding names {name!r}, which is not an input")
        return kind(self.properties[name])[0]

    def _primitive(self, schema: Any, where: tuple[str, ...]) -> None:
        if not scalar(schema):
            shape = kind(schema)[0] or "a value of open type"
            raise Unexpressible(where, f"{shape} cannot be written here: only strings, numbers and booleans can")


def _piece(guard: str | None, write: Any, *, always: bool = True) -> Piece:
    if guard is None:
        return Piece(always, write)
    return Piece(False, lambda prefix, after: f"#if({guard}){write(prefix, after)}#end")


def _style(spec: Mapping[str, Any]) -> tuple[str, bool]:
    if "collectionFormat" in spec:
        return _COLLECTION.get(str(spec["collectionFormat"]), ("form", False))
    style = str(spec.get("style", "form"))
    explode = spec.get("explode")
    return style, (style == "form") if explode is None else bool(explode)


def _json_key(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def _written(state: Mapping[str, Any]) -> str:
    """A JSON object template from a tree whose leaves are value templates."""
    entries = [
        f"{literal(_json_key(key))}:{_written(value) if isinstance(value, dict) else value}"
        for key, value in state.items()
    ]
    return "{" + ",".join(entries) + "}"


def _constrain(schema: Any, rules: Mapping[str, Any]) -> Any:
    """`schema` that also meets `rules`: added in place when the keywords are free, else as an `allOf`."""
    if not isinstance(schema, Mapping):
        return schema
    if all(key not in schema for key in rules):
        return {**schema, **rules}
    return {"allOf": [dict(schema), dict(rules)]}


__all__ = ["NO_LINE_BREAK", "RAW_REQUEST", "RequestBuilder"]
