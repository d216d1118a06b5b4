"""An operation's success answer → the JSON Schema (2020-12) of its body, when the description gives one.

The answer read is the lowest 2xx status written (`200`, `201`, …, then `2XX`), in its JSON media type (3.x
`content`, else a range that includes JSON, `*/*` or `application/*`; Swagger 2.0's `schema` when the
operation's `produces`, or else the description's, has a JSON type or a range, or says nothing). The schema is
converted as inputs are, with the difference OpenAPI gives the two directions: an answer's `readOnly` properties
(ids, timestamps) are described, and its `writeOnly` ones (passwords) are left out, with their names in
`required`.
"""

from __future__ import annotations

from typing import Any

from reconciler.compile.openapi.parameters import WILDCARDS, own_schema
from reconciler.compile.openapi.refs import SourceFile
from reconciler.compile.openapi.schemas import SchemaConverter


def success_schema(
    operation: dict[str, Any],
    source: SourceFile,
    converter: SchemaConverter,
    swagger: bool,
    produces: list[str] | None = None,
) -> dict[str, Any] | None:
    """The success answer's schema; `produces`: Swagger 2.0's document-wide list, which an operation's own
    `produces` overrides. RefError when the success answer's `$ref` (or its schema's) cannot be followed."""
    responses = operation.get("responses")
    if not isinstance(responses, dict):
        return None
    codes = sorted([text for code in responses if (text := str(code))[:1] == "2" and text[1:].isdigit()])
    codes += [code for code in ("2XX", "2xx") if code in responses]
    for code in codes:
        raw = responses.get(code) if code in responses else responses.get(int(code))
        where = source
        if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
            # a broken reference is an error at it (RefError), as a broken one in the answer's schema is: the
            # tool must not go out without the answer's shape, and nothing said why
            target = converter.resolve(raw, source)
            if not isinstance(target.node, dict):
                place = "#/responses/…" if swagger else "#/components/responses/…"
                raise converter.files.not_a_mapping(
                    raw["$ref"],
                    raw,
                    source,
                    target,
                    "a response",
                    f"with `description`: point the $ref at one, such as {place}",
                )
            raw, where = target.node, target.source
        if not isinstance(raw, dict):
            continue
        holder = _holder(raw, operation, swagger, produces or [])
        schema = None if holder is None else own_schema(holder, where, "the response's `schema`")
        if schema is None:
            return None  # the success answer has no JSON body
        deps: set[Any] = set()
        converted = converter.convert(schema, where, deps)
        if not isinstance(converted, dict):
            return None
        return {**converted, "$defs": converter.definitions(deps)} if deps else dict(converted)
    return None


def _holder(
    response: dict[str, Any], operation: dict[str, Any], swagger: bool, produces: list[str]
) -> dict[str, Any] | None:
    """What holds the answer's JSON `schema`: the Swagger 2.0 response, or its JSON media type (3.x)."""
    if swagger:
        own = operation.get("produces")
        produces = own if isinstance(own, list) else produces
        if produces and not any("json" in str(m) or _wildcard(m) for m in produces):
            return None
        return response
    content = response.get("content")
    if not isinstance(content, dict):
        return None
    for media, entry in content.items():
        if "json" in str(media).lower() and isinstance(entry, dict) and "schema" in entry:
            return entry
    for media, entry in content.items():  # a range that includes JSON (springdoc writes `*/*` by default)
        if _wildcard(media) and isinstance(entry, dict) and "schema" in entry:
            return entry
    return None


def _wildcard(media: Any) -> bool:
    return str(media).split(";", maxsplit=1)[0].strip().lower() in WILDCARDS


__all__ = ["success_schema"]
