"""An operation's inputs: its path, query, header and cookie parameters and its request body.

Header parameters the HTTP client writes itself (`CLIENT_HEADERS`: `Content-Type`, `Content-Length`, `Host`,
`Transfer-Encoding`, `Connection`, in any case) are not inputs; the tool builder warns about each.

Collecting them is cheap and converts no schema, so that an operation with too many parameters can be
skipped before any work is spent on it. The request body is read in the first media type of: JSON
(`application/json`, then any `…json…`), `application/x-www-form-urlencoded`, `multipart/form-data`, then
whatever comes first (a range, `*/*` or `application/*`, is sent as JSON). When its schema is an object
(through `$ref`s and `allOf`s), each of its properties is a parameter; otherwise the whole body is one parameter
named `body`. Swagger 2.0's `in: body` parameter is read as a request body, and its `formData` parameters as the
properties of a form body (multipart when one of them is a file or the operation consumes only multipart).

Names of tool parameters (`unique_names`): a parameter keeps its name, with every character outside
`[A-Za-z0-9_.-]` replaced by `_` (at most 64 characters), when no earlier parameter took it; a comparison
at its end becomes a word (`DateCreated<` → `DateCreated_before`, `>` `_after`, `<=` `_max`, `>=` `_min`),
and the description says it is a bound; the order is path,
query, header, cookie, then body, each in the order written. A later parameter whose name is taken gets its
location as a prefix (`query_id`, `body_AccountSid`), then a number (`query_id_2`). The original name and
location stay in the tool's request binding.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from reconciler.compile.openapi.refs import RefError, SourceFile
from reconciler.compile.openapi.schemas import SchemaConverter, not_a_schema, written_at
from reconciler.errors import Diagnostic

LOCATIONS: Final = ("path", "query", "header", "cookie", "body")
_ORDER: Final = {location: number for number, location in enumerate(LOCATIONS)}
_PLACES: Final = frozenset((*LOCATIONS, "formData"))
IGNORED_HEADERS: Final = frozenset(("accept", "authorization"))
"""OpenAPI 3 says these header parameters SHALL be ignored (the response media type, the security scheme)."""
CLIENT_HEADERS: Final = frozenset(("content-type", "content-length", "host", "transfer-encoding", "connection"))
"""Headers the HTTP client writes from the request it sends (its body's media type and framing, the URL's host,
the connection): a model-facing parameter for one would let a model make the request lie about itself. They
are left out with a warning (`Inputs.dropped_headers`). That includes `Content-Type`, even with an `enum`
(DigitalOcean's apps offer JSON or YAML): the binding sends the body in the one media type it chose from the
description's `content` (or `consumes`), and the header says that type; a model choosing another would
mislabel the body. (OpenAPI 3 also says a `Content-Type` header parameter SHALL be ignored.)"""
WILDCARDS: Final = frozenset(("*/*", "application/*"))
"""Media ranges that include JSON: a body described under one is sent as `application/json` (a `Content-Type`
must name one type), and an answer described under one is read as JSON."""
_TEMPLATE: Final = re.compile(r"\{([^{}/]+)\}")
_NOT_PARAMETER: Final = re.compile(r"[^A-Za-z0-9_.-]")
_SWAGGER_NOT_SCHEMA: Final = frozenset(("name", "in", "description", "required", "allowEmptyValue", "collectionFormat"))
_SERIALIZATION: Final = ("style", "explode", "collectionFormat")
_COMPOSITE: Final = ("oneOf", "anyOf", "not", "if", "then", "else", "$recursiveRef")


class OperationProblem(Exception):
    """An operation that cannot become a tool; the message says why. `reported`: a diagnostic already says so."""

    def __init__(self, message: str, *, reported: bool = False) -> None:
        super().__init__(message)
        self.reported = reported


@dataclass(slots=True)
class Input:
    """One future tool parameter: where it goes in the HTTP request, and its schema as written."""

    location: str
    name: str
    schema: Any
    source: SourceFile
    required: bool = False
    description: str | None = None
    deprecated: bool = False
    binding: Mapping[str, Any] | None = None
    """How the parameter is serialized (`style`, `explode`, `collectionFormat`), when the description says;
    `content_type` for a parameter described by `content`: its value is sent as that media type's text."""
    whole_body: bool = False
    examples: Sequence[Any] = ()
    """The parameter's own `example`/`examples` (OpenAPI 3) or `x-example` (Swagger 2.0): a model fills a
    parameter better for seeing one. (Neither default is a new empty container: a large description makes
    thousands of inputs, most of them body properties with neither.)"""
    note: str | None = None
    """For a name ending in a comparison (`DateCreated<`), what it bounds and how it is sent: it goes before the
    description the model reads (the parameter's own, else its schema's), so the two ends of a range differ."""


@dataclass
class Inputs:
    items: list[Input]
    content_type: str | None = None
    dropped_headers: list[tuple[dict[str, Any], SourceFile]] = field(default_factory=list)
    """Header parameters in CLIENT_HEADERS, as written (and where), for the warning that says they are left out."""
    counted: int | None = None
    """When `collect` only counted the inputs (`at_most`), how many there are; `items` is empty then."""
    unplaced: list[tuple[dict[str, Any], SourceFile]] = field(default_factory=list)
    """Path parameters whose `{name}` the path does not hold, as written (and where): OpenAPI says a path
    parameter's name MUST be one of its path's; its value would go nowhere, so the model is not asked for it."""
    credentials: list[tuple[dict[str, Any], SourceFile]] = field(default_factory=list)
    """Parameters that name an API key the operation's security sends from a credential of the source
    (`collect`'s `filled`), as written (and where): the credential fills them, and a model asked for one would
    make a key up, or be handed one."""


def collect(
    operation: dict[str, Any],
    operation_source: SourceFile,
    shared: list[tuple[Any, SourceFile]],
    path: str,
    converter: SchemaConverter,
    consumes: list[str],
    *,
    at_most: int | None = None,
    filled: frozenset[tuple[str, str]] = frozenset(),
) -> Inputs:
    """The inputs of `operation`; `shared` are the parameters written on its path item. With `at_most`, an
    operation with more inputs than that gets them counted, not made (`Inputs.counted`, no items): the caller
    skips it whatever they are, and a third of a large description's operations are skipped so. `filled`: the
    (place, name) of the API keys the source's credentials send for the operation (a header's in lower case)."""
    # a parameter's Input is made only once the count is known: (place, parameter, where) until then, or
    # (place, None, Input) for a path variable that no parameter declares
    by_place: dict[tuple[str, str], tuple[str, dict[str, Any] | None, Any]] = {}
    body: Inputs | None = None
    form: list[Input] = []
    dropped: list[tuple[dict[str, Any], SourceFile]] = []
    keys: list[tuple[dict[str, Any], SourceFile]] = []
    own = operation.get("parameters")
    listed = shared + [(p, operation_source) for p in own] if isinstance(own, list) else shared
    for raw, written_in in listed:
        if type(raw) is dict and "$ref" not in raw:  # written in place, the common case
            parameter, source = raw, written_in
        else:
            parameter, source = _resolve(raw, written_in, converter, "a parameter")
        name, place = parameter.get("name"), parameter.get("in")
        if not isinstance(name, str) or type(place) is not str or place not in _PLACES:
            continue  # (`in: [query]` is no place: a list cannot even be looked up in _PLACES)
        if place == "header":
            lowered = name.lower()
            if lowered in IGNORED_HEADERS:
                continue
            if lowered in CLIENT_HEADERS:
                dropped = [(p, w) for p, w in dropped if p["name"].lower() != lowered] + [(parameter, source)]
                continue
        if filled and (place, name.lower() if place == "header" else name) in filled:
            keys = [(p, w) for p, w in keys if (p["in"], p["name"]) != (place, name)] + [(parameter, source)]
            continue
        if place == "body":
            if "schema" not in parameter:  # (Swagger 2.0 requires it; without one the body would take anything)
                message = "a body parameter needs a `schema` (Swagger 2.0 requires one): write the body's schema"
                raise RefError(Diagnostic("error", written_at(parameter, (), source), message, "schema"))
            schema = own_schema(parameter, source, "the request body's `schema`")
            body = _body(schema, source, converter, parameter.get("required") is True, parameter)
            body.content_type = _sendable(_media(_consumes(operation, consumes)))
            continue
        if place == "formData":
            form = [item for item in form if item.name != name] + [_parameter(parameter, source, place)]
        else:
            # an operation's parameter replaces its path item's; a header's name in any case (HTTP header names
            # are case-insensitive: `X-Request-Id` and `x-request-id` are one header, sent once)
            by_place[(place, name.lower() if place == "header" else name)] = (place, parameter, source)
    declared = {name for place, name in by_place if place == "path"}
    variables = _TEMPLATE.findall(path)
    unplaced: list[tuple[dict[str, Any], SourceFile]] = []
    strays = declared.difference(variables) if declared else declared
    for stray in [key for key in by_place if key[0] == "path" and key[1] in strays] if strays else ():
        _, written, where = by_place.pop(stray)
        if written is not None:
            unplaced.append((written, where))
    for variable in variables:
        if variable not in declared:
            by_place[("path", variable)] = (
                "path",
                None,
                Input("path", variable, {"type": "string"}, operation_source, True),
            )
    if form:
        multipart = any(_is_file(item.schema) for item in form) or _media(_consumes(operation, consumes)) == (
            "multipart/form-data"
        )
        rest: list[Input] = form
        media: str | None = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
    else:
        if body is None and "requestBody" in operation:
            room = None if at_most is None else at_most - len(by_place)
            body = _request_body(operation["requestBody"], operation_source, converter, room)
        rest, media = ([], None) if body is None else (body.items, body.content_type)
    count = len(by_place) + (len(rest) if body is None or body.counted is None else body.counted)
    if at_most is not None and count > at_most:
        return Inputs([], media, dropped, counted=count, credentials=keys, unplaced=unplaced)
    # sorted by place (path, query, header, cookie), stably: in the order written within each
    entries = sorted(by_place.values(), key=lambda entry: _ORDER[entry[0]])
    items = [made if written is None else _parameter(written, made, place) for place, written, made in entries]
    return Inputs(items + rest, media, dropped, credentials=keys, unplaced=unplaced)


def unique_names(inputs: list[Input]) -> list[str]:
    """The tool parameter name of each input, by the rule in the module docstring."""
    taken: set[str] = set()
    names: list[str] = []
    for item in inputs:
        base = "body" if item.whole_body else _parameter_name(item.name)
        candidate = base
        if candidate in taken:
            candidate = f"{item.location}_{base}"[:64]
            number = 2
            while candidate in taken:
                suffix = f"_{number}"
                candidate = f"{item.location}_{base}"[: 64 - len(suffix)] + suffix
                number += 1
        taken.add(candidate)
        names.append(candidate)
    return names


def _resolve(raw: Any, source: SourceFile, converter: SchemaConverter, what: str) -> tuple[dict[str, Any], SourceFile]:
    if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
        target = converter.resolve(raw, source)
        if not isinstance(target.node, dict):  # (it was read as an empty one: the parameter or body was lost)
            swagger = "swagger" in converter.files.main.content
            place = ("#/parameters/…" if swagger else "#/components/parameters/…") if what == "a parameter" else None
            hint = "with `name` and `in`" if place else "with `content`"
            place = place or "#/components/requestBodies/…"
            raise converter.files.not_a_mapping(
                raw["$ref"], raw, source, target, what, f"{hint}: point the $ref at one, such as {place}"
            )
        node = target.node
        if len(raw) > 1 and isinstance(raw.get("description"), str) and _version_31(converter):
            # OpenAPI 3.1's Reference Object: a `description` beside the `$ref` overrides the referenced one's
            # (it says what the shared parameter or body means here); 3.0 says to ignore anything beside it
            node = {**node, "description": raw["description"]}
        return node, target.source
    return (raw if isinstance(raw, dict) else {}), source


def _version_31(converter: SchemaConverter) -> bool:
    version = converter.files.main.content.get("openapi")
    return isinstance(version, str) and version.startswith("3.1")


def _parameter(parameter: dict[str, Any], source: SourceFile, place: str) -> Input:
    swagger = "schema" not in parameter and "content" not in parameter
    media_type: str | None = None
    if not swagger:
        schema = own_schema(parameter, source, "the parameter's `schema`")
        if schema is None:
            content = parameter.get("content")
            if isinstance(content, dict):
                found = next(((t, m) for t, m in content.items() if isinstance(m, dict) and "schema" in m), None)
                if found is not None:
                    media_type, schema = str(found[0]), own_schema(found[1], source, "the parameter's `schema`")
    else:  # Swagger 2.0: the schema keywords sit on the parameter itself
        schema = {key: value for key, value in parameter.items() if key not in _SWAGGER_NOT_SCHEMA}
        items = schema.get("items")
        if "items" in schema and type(items) is not dict and not isinstance(items, (dict, bool)):
            # (the schema made here is in no file: the error is placed at the parameter's own `items`)
            raise not_a_schema(parameter, ("items",), items, source, "the parameter's `items`")
    if schema is None or schema == {}:
        schema = {"type": "string"}
    # (most parameters say nothing of their serialization: no binding is made for them)
    binding: dict[str, Any] | None = (
        {key: parameter[key] for key in _SERIALIZATION if key in parameter}
        if "style" in parameter or "explode" in parameter or "collectionFormat" in parameter
        else None
    )
    if media_type is not None:  # the value is that media type's text (JSON), not a style's serialization
        binding = {"content_type": media_type}
    if place == "query" and parameter.get("allowEmptyValue") is True:
        # the server reads `?q=` as the parameter not used: the runtime may send an empty value (else left out)
        binding = {**(binding or {}), "allowEmptyValue": True}
    elif place == "formData" and parameter.get("allowEmptyValue") is True:
        # Swagger 2.0 defines it for a form field as for a query parameter: the runtime may send `name=`
        binding = {**(binding or {}), "allowEmptyValue": True}
    if swagger and parameter.get("type") == "array" and "collectionFormat" not in parameter:
        # Swagger 2.0's default, written out: the binding alone cannot tell a 2.0 array from a 3.x one
        binding = {**(binding or {}), "collectionFormat": "csv"}
    description = parameter.get("description")
    text = description if isinstance(description, str) else None
    name = parameter["name"]
    bound = _bound(name) if isinstance(name, str) else None
    # (`DateCreated<` and `DateCreated>` must not read the same to a model)
    note = f"{bound[2]} (sent as `{name}`)." if bound is not None else None
    return Input(
        "body" if place == "formData" else place,
        name,
        schema,
        source,
        place == "path" or parameter.get("required") is True,
        text,
        parameter.get("deprecated") is True,
        binding,
        False,
        _examples(parameter),
        note,
    )


def _examples(parameter: dict[str, Any]) -> Sequence[Any]:
    if "example" in parameter:
        return [parameter["example"]]
    if "x-example" in parameter:
        return [parameter["x-example"]]
    found = parameter.get("examples")
    if isinstance(found, dict):  # Example Objects by name; a `$ref`'d or external one has no value to keep
        return [item["value"] for item in found.values() if isinstance(item, dict) and "value" in item]
    return ()


_BOUNDS: Final = (
    ("<=", "_max", "Upper bound, inclusive"),
    (">=", "_min", "Lower bound, inclusive"),
    ("!=", "_not", "A value to leave out"),
    ("<", "_before", "Upper bound"),
    (">", "_after", "Lower bound"),
)


@functools.lru_cache(maxsize=4096)
def _bound(name: str) -> tuple[str, str, str] | None:
    """(the comparison, the word for the name, the words for the description) of a name ending in a comparison
    (`DateCreated<`), or None."""
    for operator, word, meaning in _BOUNDS:
        if name.endswith(operator) and name[: -len(operator)].strip():
            return operator, word, meaning
    return None


def _request_body(raw: Any, source: SourceFile, converter: SchemaConverter, room: int | None = None) -> Inputs | None:
    request, source = _resolve(raw, source, converter, "a request body")
    content = request.get("content")
    if not isinstance(content, dict) or not content:
        return None
    media = _media(list(content))
    entry = content.get(media)
    schema = own_schema(entry, source, "the request body's `schema`") if isinstance(entry, dict) else None
    if schema is None:
        return Inputs([], media)
    body = _body(schema, source, converter, request.get("required") is True, request, room)
    body.content_type = _sendable(media)
    encoding = entry.get("encoding") if isinstance(entry, dict) else None
    if encoding and isinstance(encoding, dict) and media.split(";", maxsplit=1)[0].strip().lower() in _FORMS:
        for item in body.items:
            if not item.whole_body:
                item.binding = _encoding(encoding.get(item.name), media)
    return body


_FORMS: Final = frozenset(("application/x-www-form-urlencoded", "multipart/form-data"))
_FORM_STYLES: Final = frozenset(("form", "spaceDelimited", "pipeDelimited", "deepObject"))


def _encoding(written: Any, media: str) -> dict[str, Any] | None:
    """A form property's binding from its Encoding Object (OpenAPI 3): `contentType` (its first concrete media
    type) for either form, and `style`/`explode`, which OpenAPI defines for application/x-www-form-urlencoded
    only (a multipart body has one part per value)."""
    if not isinstance(written, dict):
        return None
    binding: dict[str, Any] = {}
    if media.split(";", maxsplit=1)[0].strip().lower() == "application/x-www-form-urlencoded":
        if written.get("style") in _FORM_STYLES:
            binding["style"] = written["style"]
        if isinstance(written.get("explode"), bool):
            binding["explode"] = written["explode"]
    if isinstance(written.get("contentType"), str):
        # a comma-separated list of media types and ranges (`image/png, image/*`): a part is sent as one type,
        # the first concrete one; only ranges leave the part its default type
        concrete = [media for media in written["contentType"].split(",") if media.strip() and "*" not in media]
        if concrete:
            binding["content_type"] = concrete[0].strip()
    return binding or None


def own_schema(holder: dict[str, Any], source: SourceFile, said: str) -> Any:
    """`holder`'s `schema` (a parameter's, a media type's, a Swagger 2.0 body's or response's), or None when it
    has none. RefError when it is written and is no schema (`schema: string`, an empty value, a list): read as
    `{}`, it would let the parameter, body or answer take anything."""
    schema = holder.get("schema")
    if type(schema) is dict or (schema is None and "schema" not in holder) or isinstance(schema, (dict, bool)):
        return schema
    raise not_a_schema(holder, ("schema",), schema, source, said)


def _sendable(media: str) -> str:
    """The `Content-Type` to send a body described under `media`."""
    return "application/json" if media.split(";", maxsplit=1)[0].strip().lower() in WILDCARDS else media


def _body(
    schema: Any, source: SourceFile, converter: SchemaConverter, required: bool, holder: Any, room: int | None = None
) -> Inputs:
    """The body's inputs; with `room`, more properties than that are counted, not made (`Inputs.counted`)."""
    if schema is None:
        schema = {}
    properties = _object_properties(schema, source, converter, room)
    if isinstance(properties, int):
        return Inputs([], counted=properties)
    if properties is None:
        description = holder.get("description") if isinstance(holder, dict) else None
        whole = Input("body", "body", schema, source, required, description, whole_body=True)
        return Inputs([whole])
    return Inputs(properties)


def _object_properties(
    schema: Any, source: SourceFile, converter: SchemaConverter, room: int | None = None
) -> list[Input] | int | None:
    """The properties of an object schema (through `$ref` and `allOf`), or None when it is not one; only how many
    there are when they are more than `room`."""
    found: dict[str, tuple[Any, SourceFile]] = {}
    required: list[str] = []
    pending: list[tuple[Any, SourceFile]] = [(schema, source)]
    seen: set[int] = set()
    while pending:
        node, where = pending.pop(0)
        while isinstance(node, dict) and (keyword := _reference(node)) is not None:
            try:  # (a `$dynamicRef` names the one schema of its file with that anchor, as the converter reads it)
                target = converter.schema(node, where) if keyword == "$ref" else converter.graph.dynamic(node, where)
            except RefError:
                return None
            if len(node) > 1:  # the keywords beside a $ref hold with its target (3.1): both are read
                pending.append((target.node, target.source))
                node = {key: value for key, value in node.items() if key != keyword}
            else:
                node, where = target.node, target.source
        if not isinstance(node, dict):
            return None
        if id(node) in seen:
            continue
        seen.add(id(node))
        kind = node.get("type", "object")
        if kind != "object" or any(key in node for key in _COMPOSITE):
            return None
        if isinstance(node.get("required"), list):
            required += [name for name in node["required"] if isinstance(name, str)]
        properties = node.get("properties")
        if isinstance(properties, dict) and "$ref" in properties and len(properties) == 1:  # (DigitalOcean's)
            properties, where = converter.properties_of(properties, where)
        if isinstance(properties, dict):
            for name, item in properties.items():
                # (`{a: string}` would be `{}`: anything)
                if type(item) is not dict and not isinstance(item, (dict, bool)):
                    raise not_a_schema(properties, (str(name),), item, where, f"property {name!r}")
                if name in found and found[name][0] is not item:
                    return None
                if (
                    type(item) is dict
                    and "readOnly" not in item
                    and "$ref" not in item
                    and "allOf" not in item
                    and "$dynamicRef" not in item
                ) or not converter.graph.read_only(item, where):
                    found[name] = (item, where)
        parts = node.get("allOf")
        if isinstance(parts, list):
            pending.extend((part, where) for part in parts)
    if not found:
        return None
    if room is not None and len(found) > room:
        return len(found)
    needed = set(required)
    return [Input("body", name, item, where, name in needed) for name, (item, where) in found.items()]


def _reference(node: dict[str, Any]) -> str | None:
    """The keyword by which `node` refers to another schema: `$ref`, else `$dynamicRef`, else None."""
    if isinstance(node.get("$ref"), str):
        return "$ref"
    return "$dynamicRef" if "$ref" not in node and isinstance(node.get("$dynamicRef"), str) else None


def _consumes(operation: dict[str, Any], consumes: list[str]) -> list[str]:
    own = operation.get("consumes")
    return [m for m in own if isinstance(m, str)] if isinstance(own, list) else consumes


def _media(types: list[str]) -> str:
    """The media type to send: JSON first, then a form, then the first one written."""
    lowered = [t.lower().split(";")[0].strip() for t in types]
    if "application/json" in lowered:
        return types[lowered.index("application/json")]
    for index, media in enumerate(lowered):
        if "json" in media:
            return types[index]
    for wanted in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if wanted in lowered:
            return types[lowered.index(wanted)]
    return types[0] if types else "application/json"


def _is_file(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "file"


__all__ = ["LOCATIONS", "WILDCARDS", "Input", "Inputs", "OperationProblem", "collect", "own_schema", "unique_names"]


@functools.lru_cache(maxsize=4096)
def _parameter_name(name: str) -> str:
    bound = _bound(name)
    if bound is not None:  # the comparison keeps its meaning in the name: DateCreated< → DateCreated_before
        operator, word, _ = bound
        return _parameter_name(name[: -len(operator)])[: 64 - len(word)] + word
    cleaned = _NOT_PARAMETER.sub("_", name)
    if cleaned != name:
        cleaned = cleaned.rstrip("_") or "_"
    return cleaned[:64]
