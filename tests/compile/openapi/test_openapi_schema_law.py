"""The law of schema conversion: a value is valid under a compiled schema exactly when it is valid under the
OpenAPI schema it came from, as openapi-schema-validator (openapi-core's) judges it for 3.0 and 3.1.

The one difference the compiler chooses is where `nullable: true` lets null in: OpenAPI 3.0.3 keeps null out
when an `enum` beside it lacks null, when there is no `type`, and when a `$ref` or an `allOf` beside it rejects
null; the compiler lets it in (what authors mean: `{$ref: User, nullable: true}` is 3.0's idiom for "a user, or
null"). Such schemas are not drawn (nor `nullable` in 3.1, which has no such keyword and which the compiler still
reads).
Schemas are drawn with components that refer to one another (without cycles: tests/compile/openapi/
test_openapi_cycles.py has them), `$ref`s with keywords beside them, `allOf`
(which the compiler merges), `oneOf`/`anyOf`/`not`, 3.0's boolean exclusive bounds and 3.1's type lists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, "a", "b", ""]))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["p", "q", "r"]), inner)),
    max_leaves=8,
)


def schemas(version: str, names: list[str]) -> st.SearchStrategy[Any]:
    """Schemas that may refer to the components `names` (acyclic: a cycle makes both validators recurse)."""
    v30 = version.startswith("3.0")
    types = ["string", "integer", "number", "boolean", "object", "array"] + ([] if v30 else ["null"])
    kind = st.sampled_from(types)
    bound = st.booleans() if v30 else st.integers(-2, 2)
    leaf = st.fixed_dictionaries(
        {},
        optional={
            "type": kind if v30 else st.one_of(kind, st.lists(kind, min_size=1, max_size=2, unique=True)),
            "enum": st.lists(SCALARS, min_size=1, max_size=3),
            "minimum": st.integers(-2, 2),
            "maximum": st.integers(-2, 2),
            "exclusiveMinimum": bound,
            "exclusiveMaximum": bound,
            "minLength": st.integers(0, 2),
            "maxLength": st.integers(0, 2),
            "minItems": st.integers(0, 2),
            "required": st.lists(st.sampled_from(["p", "q"]), min_size=1, max_size=2, unique=True),
            "default": SCALARS,
            "example": SCALARS,
            **({"nullable": st.booleans()} if v30 else {"const": SCALARS}),
        },
    )
    if names:
        reference = st.builds(lambda n: {"$ref": f"#/components/schemas/{n}"}, st.sampled_from(names))
        with_siblings = st.builds(lambda r, extra: {**extra, **r}, reference, leaf)
        base = st.one_of(leaf, reference, with_siblings)
    else:
        base = leaf

    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        properties = st.dictionaries(st.sampled_from(["p", "q", "r"]), inner, max_size=3)
        additional = st.one_of(st.none(), st.booleans(), inner)
        return st.one_of(
            st.builds(
                lambda b, p, a: {**b, "properties": p, **({} if a is None else {"additionalProperties": a})},
                base,
                properties,
                additional,
            ),
            st.builds(
                lambda b, k, parts: {**b, k: parts},
                base,
                st.sampled_from(["allOf", "anyOf", "oneOf"]),
                st.lists(inner, min_size=1, max_size=3),
            ),
            st.builds(lambda b, items: {**b, "items": items}, base, inner),
            st.builds(lambda b, n: {**b, "not": n}, base, inner),
        )

    return st.recursive(base, extend, max_leaves=8)


def _lenient(schema: Any) -> bool:
    """A `nullable: true` where the compiler lets null in and 3.0.3 does not: beside an `enum` without null,
    without a `type`, or beside a `$ref` or an `allOf` (3.0's idiom for "this shared schema, or null")."""
    if isinstance(schema, list):
        return any(_lenient(item) for item in schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("nullable") is True and (
        "type" not in schema or None not in schema.get("enum", [None]) or "$ref" in schema or "allOf" in schema
    ):
        return True
    return any(_lenient(value) for key, value in schema.items() if key not in ("enum", "default", "example"))


def _answer_schema(tmp_path: Path, description: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "api.json"
    path.write_text(json.dumps(description))
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    assert len(result.tools) == 1, result.diagnostics
    return dict(result.tools[0].output_schema or {})


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_a_compiled_schema_accepts_what_the_openapi_schema_accepts(tmp_path: Path, version: str) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        top=schemas(version, ["A", "B"]),
        a=schemas(version, ["B"]),
        b=schemas(version, []),
        values=st.lists(VALUES, min_size=5, max_size=12),
    )
    def law(top: Any, a: Any, b: Any, values: list[Any]) -> None:
        assume(not any(_lenient(schema) for schema in (top, a, b)))
        answer = {"description": "ok", "content": {"application/json": {"schema": top}}}
        description = {
            "openapi": version,
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "https://api.example.com"}],
            "paths": {"/x": {"get": {"operationId": "x", "responses": {"200": answer}}}},
            "components": {"schemas": {"A": a, "B": b}},
        }
        compiled = _answer_schema(tmp_path, description)
        jsonschema.Draft202012Validator.check_schema(compiled)
        registry: Registry[Any] = Registry().with_resource(
            "urn:api",
            Resource.from_contents(description, default_specification=DRAFT4 if version < "3.1" else DRAFT202012),
        )
        written = {"$ref": "urn:api#/paths/~1x/get/responses/200/content/application~1json/schema"}
        original = (OAS30Validator if version < "3.1" else OAS31Validator)(written, registry=registry)
        emitted = jsonschema.Draft202012Validator(compiled)
        for value in values:
            assert emitted.is_valid(value) == original.is_valid(value), (value, compiled, json.dumps([top, a, b]))

    law()


def _tools(tmp_path: Path, description: dict[str, Any]) -> list[tuple[Any, ...]]:
    path = tmp_path / "api.json"
    path.write_text(json.dumps(description))
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics
    return [(tool.name, tool.schema, tool.output_schema, tool.request) for tool in result.tools]


def test_a_reference_by_anchor_or_by_id_compiles_as_the_pointer_to_the_same_schema(tmp_path: Path) -> None:
    """JSON Schema 2020-12 (OpenAPI 3.1's schemas) names a schema three ways within one document: a JSON pointer,
    a plain-name `$anchor`, and the `$id` of an embedded resource. The tools do not depend on which is written."""

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(top=schemas("3.1.0", ["A", "B"]), a=schemas("3.1.0", ["B"]), b=schemas("3.1.0", []))
    def law(top: Any, a: Any, b: Any) -> None:
        body = {"content": {"application/json": {"schema": top}}}
        answer = {"description": "ok", "content": {"application/json": {"schema": top}}}
        description = {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "https://api.example.com"}],
            "paths": {"/x": {"post": {"operationId": "x", "requestBody": body, "responses": {"200": answer}}}},
            "components": {"schemas": {"A": a, "B": b}},
        }
        by_pointer = _tools(tmp_path, description)
        text = json.dumps(description)
        text = text.replace('"#/components/schemas/A"', '"#A"')
        text = text.replace('"#/components/schemas/B"', '"https://example.com/schemas/b"')
        renamed = json.loads(text)
        components = renamed["components"]["schemas"]
        components["A"] = {**components["A"], "$anchor": "A"}
        components["B"] = {**components["B"], "$id": "https://example.com/schemas/b"}
        assert _tools(tmp_path, renamed) == by_pointer, text

    law()


NOT_SCHEMAS = st.one_of(
    st.text(max_size=3), st.integers(-3, 3), st.floats(0, 1), st.lists(SCALARS, max_size=2), st.none()
)


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_a_reference_that_reaches_a_value_that_is_not_a_schema_skips_its_operation_with_an_error(
    tmp_path: Path, version: str
) -> None:
    """Read as a schema, a string, a number, a list or an empty value would be `{}`, which accepts anything: an
    operation whose schemas reach one through their `$ref`s is left out with an error at a `$ref` to it, and an
    operation that does not reach it compiles as before (a boolean is a schema, and stays one)."""

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(top=schemas(version, ["A", "B"]), a=schemas(version, ["B"]), b=st.one_of(NOT_SCHEMAS, st.booleans()))
    def law(top: Any, a: Any, b: Any) -> None:
        answer = {"description": "ok", "content": {"application/json": {"schema": top}}}
        description = {
            "openapi": version,
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "https://api.example.com"}],
            "paths": {"/x": {"get": {"operationId": "x", "responses": {"200": answer}}}},
            "components": {"schemas": {"A": a, "B": b}},
        }
        path = tmp_path / "api.json"
        path.write_text(json.dumps(description))
        result = compile_openapi(
            read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits()
        )
        target = '"#/components/schemas/B"'
        reached = target in json.dumps(top) or (
            '"#/components/schemas/A"' in json.dumps(top) and target in json.dumps(a)
        )
        errors = [d.message for d in result.diagnostics if d.severity == "error"]
        if reached and not isinstance(b, (bool, dict)):
            assert result.tools == [], (top, a, b)
            assert len(result.skipped) == 1 and result.skipped[0].reason == errors[0], result.skipped
            assert errors[0].startswith("$ref '#/components/schemas/B' points at "), errors
            assert "not a schema" in errors[0] and "api.json has " in errors[0], errors
        else:
            assert errors == [] and [tool.name for tool in result.tools] == ["x"], (errors, top, a, b)

    law()
