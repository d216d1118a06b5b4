"""Whatever a description holds, compiling it never raises, and what it emits is valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents

NAMES = ["A", "B", "C"]
KEYWORDS = [
    "type", "properties", "items", "allOf", "oneOf", "anyOf", "not", "required", "enum", "nullable", "readOnly",
    "additionalProperties", "$ref", "format", "pattern", "minimum", "exclusiveMinimum", "default", "example",
    "discriminator", "$recursiveRef", "x-nullable", "description", "prefixItems", "const",
]  # fmt: skip

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["string", "object", "a", "("]))


def schemas() -> st.SearchStrategy[Any]:
    refs = st.sampled_from([f"#/components/schemas/{n}" for n in NAMES] + ["#/nowhere", "other.yaml", "#"])
    reference = st.builds(lambda r: {"$ref": r}, refs)
    leaf = st.one_of(scalars, reference, reference, st.builds(lambda r: {"items": r, "type": "array"}, reference))
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.dictionaries(st.sampled_from(KEYWORDS), inner, max_size=5),
            st.builds(
                lambda props: {"type": "object", "properties": props},
                st.dictionaries(st.sampled_from(["p", "q", "$ref", "$schema"]), inner, max_size=3),
            ),
            st.lists(inner, max_size=3),
        ),
        max_leaves=12,
    )


def linked() -> st.SearchStrategy[Any]:
    """Component schemas that refer to each other (and so to themselves): cycles, allOf chains, nullable refs."""
    reference = st.builds(lambda n: {"$ref": f"#/components/schemas/{n}"}, st.sampled_from(NAMES))
    return st.fixed_dictionaries(
        {"type": st.just("object"), "properties": st.dictionaries(st.sampled_from(["p", "q", "r"]), reference)},
        optional={
            "allOf": st.lists(st.one_of(reference, schemas()), max_size=2),
            "nullable": st.booleans(),
            "required": st.lists(st.sampled_from(["p", "q"])),
            "readOnly": st.booleans(),
            "$recursiveAnchor": st.booleans(),
            "additionalProperties": st.one_of(st.booleans(), reference),
        },
    )


def parameters() -> st.SearchStrategy[Any]:
    return st.lists(
        st.fixed_dictionaries(
            {"name": st.sampled_from(["id", "q", "x"]), "in": st.sampled_from(["path", "query", "header", "cookie"])},
            optional={"schema": schemas(), "required": st.booleans()},
        ),
        max_size=4,
    )


def descriptions() -> st.SearchStrategy[Any]:
    operation = st.fixed_dictionaries(
        {},
        optional={
            "operationId": st.sampled_from(["op", "op", "a/b", ""]),
            "parameters": parameters(),
            "requestBody": st.builds(
                lambda s: {"content": {"application/json": {"schema": s}}},
                st.one_of(
                    st.builds(lambda n: {"$ref": f"#/components/schemas/{n}"}, st.sampled_from(NAMES)), schemas()
                ),
            ),
            "summary": st.text(max_size=300),
        },
    )
    path_item = st.dictionaries(st.sampled_from(["get", "post", "x-y", "parameters"]), operation, max_size=3)
    return st.fixed_dictionaries(
        {
            "openapi": st.sampled_from(["3.0.3", "3.1.0"]),
            "info": st.just({"title": "t", "version": "1"}),
            "servers": st.just([{"url": "https://api.example.com"}]),
            "paths": st.dictionaries(st.sampled_from(["/a", "/a/{id}", "/b"]), path_item, max_size=3),
            "components": st.builds(
                lambda s: {"schemas": s},
                st.fixed_dictionaries({n: st.one_of(linked(), linked(), schemas()) for n in NAMES}),
            ),
        }
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(description=descriptions())
def test_any_description_compiles_without_raising_into_valid_tools(tmp_path: Path, oa: Any, description: Any) -> None:
    path = tmp_path / "api.json"
    path.write_text(json.dumps(description, indent=2))
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    names = [tool.name for tool in result.tools]
    assert len(names) == len(set(names))
    for tool in result.tools:
        jsonschema.Draft202012Validator.check_schema(dict(tool.schema))
        text = json.dumps(dict(tool.schema))
        defs = tool.schema.get("$defs", {})
        for name in defs:
            assert f'"#/$defs/{name}"' in text
        for ref in oa.refs(dict(tool.schema)):
            assert ref.startswith("#/$defs/") and ref.removeprefix("#/$defs/") in defs, ref
    for diagnostic in result.diagnostics:
        assert diagnostic.location.file
