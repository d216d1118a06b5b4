"""Cycles of references, for random graphs of components (hypothesis).

The converter finds the schemas on a cycle during its own depth-first walk. Whatever operations are compiled,
and in whatever order it meets them, a tool's schema must be the same function of the description, finite,
without a dangling or unused definition, and a component on a cycle must stay a named definition.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconciler.compile.openapi import OpenApiResult, compile_openapi
from reconciler.compile.openapi.cycles import CycleFinder
from reconciler.config import Limits
from reconciler.load import read_documents

# an edge: (target component, read-only?, how: "property", "items" or "allOf"); a read-only edge is a property
Edge = tuple[int, bool, str]


@st.composite
def graphs(draw: st.DrawFn) -> list[list[Edge]]:
    size = draw(st.integers(min_value=1, max_value=6))
    edge = st.tuples(
        st.integers(min_value=0, max_value=size - 1), st.booleans(), st.sampled_from(["property", "items", "allOf"])
    )
    return [draw(st.lists(edge, max_size=3)) for _ in range(size)]


def _description(graph: list[list[Edge]]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for index, edges in enumerate(graph):
        properties: dict[str, Any] = {f"name{index}": {"type": "string"}}
        parts: list[Any] = []
        for number, (target, read_only, how) in enumerate(edges):
            reference: dict[str, Any] = {"$ref": f"#/components/schemas/S{target}"}
            if how == "allOf" and not read_only:
                parts.append(reference)
                continue
            schema = {"type": "array", "items": reference} if how == "items" else reference
            properties[f"p{index}_{number}"] = {**schema, "readOnly": True} if read_only else schema
        schemas[f"S{index}"] = {"type": "object", "properties": properties, **({"allOf": parts} if parts else {})}
    paths = {
        f"/s{index}": {
            "post": {
                "operationId": f"use{index}",
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/S{index}"}}}
                },
                "responses": {"200": {"description": "ok"}},
            }
        }
        for index in range(len(graph))
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "graph", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _on_cycle(graph: list[list[Edge]]) -> set[int]:
    """The components that reach themselves over edges a tool's input keeps (read-only properties are left
    out), by transitive closure: an oracle independent of the converter's own algorithm."""
    size = len(graph)
    reach = [[False] * size for _ in range(size)]
    for source, edges in enumerate(graph):
        for target, read_only, _ in edges:
            if not read_only:
                reach[source][target] = True
    for middle, source, target in itertools.product(range(size), repeat=3):
        if reach[source][middle] and reach[middle][target]:
            reach[source][target] = True
    return {index for index in range(size) if reach[index][index]}


def _compile(path: Path, only: str | None = None) -> OpenApiResult:
    source = {"openapi": path.name, "include": {"operations": [only]}} if only else None
    return compile_openapi(
        read_documents(path)[0], source=source, source_document=None, root=path.parent, limits=Limits()
    )


def _referenced(graph: list[list[Edge]], root: int) -> set[int]:
    """The components a tool's input refers to: its body is flattened into parameters through `allOf`, and
    everything its parameters reach is referenced."""
    flattened = {root}
    pending = [root]
    while pending:
        for target, read_only, how in graph[pending.pop()]:
            if how == "allOf" and not read_only and target not in flattened:
                flattened.add(target)
                pending.append(target)
    starts = {t for index in flattened for t, read_only, how in graph[index] if how != "allOf" and not read_only}
    seen = set(starts)
    pending = list(starts)
    while pending:
        for target, read_only, _ in graph[pending.pop()]:
            if not read_only and target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=graphs())
# use0 walks S1 -> S0 -> S2, and S2 -> S1 is the second reference to S1 met (the first, from S0, is remembered):
# that reference alone puts S2 on the cycle S2 -> S1 -> S0 -> S2, so S4's allOf must keep S2 a definition, as it
# does when use3 is compiled alone (the memo of references must still tell the cycle finder)
@example(
    graph=[
        [(1, False, "property"), (2, False, "property")],
        [(0, False, "property")],
        [(1, False, "property")],
        [(4, False, "property")],
        [(2, False, "allOf")],
    ]
)
def test_cycles_are_found_whatever_is_compiled_and_in_whatever_order(
    graph: list[list[Edge]], tmp_path: Path, oa: Any
) -> None:
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(_description(graph)))
    together = _compile(path)
    assert [d for d in together.diagnostics if d.severity == "error"] == []
    cyclic = _on_cycle(graph)
    for tool in together.tools:
        oa.check_tool(tool)
        alone = _compile(path, only=tool.name)
        assert [t.schema for t in alone.tools] == [tool.schema]
        # each component on a cycle that the input refers to stays a named definition
        defs = set(tool.schema.get("$defs", {}))
        for index in _referenced(graph, int(tool.name.removeprefix("use"))) & cyclic:
            assert f"S{index}" in defs, (tool.name, index, sorted(defs))
    backwards = _compile_reversed(path)
    assert {t.name: t.schema for t in backwards.tools} == {t.name: t.schema for t in together.tools}


def _compile_reversed(path: Path) -> OpenApiResult:
    """The same description with its paths written in the opposite order: the walk meets them the other way."""
    description = json.loads(path.read_text())
    description["paths"] = dict(reversed(list(description["paths"].items())))
    reversed_path = path.with_name("reversed.json")
    reversed_path.write_text(json.dumps(description))
    return _compile(reversed_path)


def test_a_cycle_only_through_a_read_only_property_is_no_cycle(tmp_path: Path, oa: Any) -> None:
    # A -(read-only)-> B -> A: a tool's input leaves the read-only property out, so A and B can be inlined
    graph: list[list[Edge]] = [[(1, True, "property")], [(0, False, "property")]]
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(_description(graph)))
    result = _compile(path)
    use1 = oa.tool(result, "use1")
    oa.check_tool(use1)
    assert "$defs" not in use1.schema
    assert use1.schema["properties"]["p1_0"] == {"type": "object", "properties": {"name0": {"type": "string"}}}


def test_a_broken_reference_inside_a_cycle_skips_what_needs_it_and_nothing_else(tmp_path: Path, oa: Any) -> None:
    description = _description([[(1, False, "property")], [(0, False, "property")], []])
    description["components"]["schemas"]["S1"]["properties"]["broken"] = {"$ref": "#/components/schemas/Nowhere"}
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(description))
    first = _compile(path)
    errors = [d for d in first.diagnostics if d.severity == "error"]
    assert errors and all("Nowhere" in d.message for d in errors)
    assert [t.name for t in first.tools] == ["use2"]
    assert sorted(s.operation.split(" (")[-1].rstrip(")") for s in first.skipped) == ["use0", "use1"]
    oa.check_tool(first.tools[0])
    # the failed walk leaves nothing behind that changes a later compile's answer
    assert [(t.name, t.schema) for t in _compile(path).tools] == [(t.name, t.schema) for t in first.tools]


@pytest.mark.parametrize("size", [1, 2, 5])
def test_a_ring_of_components_keeps_every_member_as_a_definition(size: int, tmp_path: Path, oa: Any) -> None:
    graph: list[list[Edge]] = [[((index + 1) % size, False, "items")] for index in range(size)]
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(_description(graph)))
    for tool in _compile(path).tools:
        oa.check_tool(tool)
        assert set(tool.schema["$defs"]) == {f"S{index}" for index in range(size)}


def test_a_component_on_a_cycle_is_never_merged_into_an_all_of(tmp_path: Path, oa: Any) -> None:
    # S1 is {allOf: [S0]} and S0 refers to itself: merging S0 into S1 would only copy its body
    description = _description([[(0, False, "property")], [(0, False, "allOf")], [(1, False, "property")]])
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(description))
    use2 = oa.tool(_compile(path), "use2")
    oa.check_tool(use2)
    assert use2.schema["properties"]["p2_0"] == {"$ref": "#/$defs/S1"}
    assert use2.schema["$defs"]["S1"] == {
        "type": "object",
        "properties": {"name1": {"type": "string"}},
        "$ref": "#/$defs/S0",
    }


def test_the_cycle_finder_recovers_when_an_inner_schema_could_not_be_abandoned() -> None:
    outer, inner, later = ("f", ("A",)), ("f", ("B",)), ("f", ("C",))
    finder = CycleFinder()
    finder.enter(outer)
    finder.enter(inner)  # then a RecursionError skipped the inner abandon: only the outer one runs
    finder.abandon(outer)
    assert not finder.started(outer)
    assert not finder.walking(outer) and not finder.walking(inner)
    # the walk is back at its root with nothing open: a new walk is exact again
    finder.enter(later)
    finder.reach(later)
    finder.leave(later)
    assert finder.is_cyclic(later)
    finder.enter(outer)
    finder.leave(outer)
    assert not finder.is_cyclic(outer)


def test_the_open_set_callers_read_is_the_live_one() -> None:
    # the converter asks `finder.open` before calling `reach` for a reference it met before: the set must be the
    # one the finder changes (a copy would hide references back up the walk, and cycles would go unseen)
    a, b, c, d = (("api.json", (name,)) for name in "abcd")
    finder = CycleFinder()
    live = finder.open
    finder.enter(a)
    finder.enter(b)
    finder.reach(a)  # b refers back to a: on a's cycle
    finder.leave(b)
    assert live == {a, b}  # b's component is not complete until a's is
    finder.enter(c)  # c refers to nothing: a component of its own, complete when it is left
    finder.leave(c)
    finder.enter(d)
    finder.reach(d)  # d refers to itself
    finder.leave(d)
    assert live == {a, b}
    finder.leave(a)
    assert live == set()
    assert [finder.is_cyclic(key) for key in (a, b, c, d)] == [True, True, False, True]
