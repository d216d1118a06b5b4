"""Laws of the compiled templates, rendered by the emulator's Velocity: whatever the inputs and the names in the
description hold, each value arrives where it was bound, unchanged, and nothing else arrives."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.compile.data_actions import compile_action
from reconciler.emulator.execute import prepare
from reconciler.model import SourceLocation, Tool

HOSTILE = st.sampled_from([*"/?&#\"\\'${}%;=,|[]+ .:@!*()~", "${x}", "#if", "\\$", "ü", "€", "中", "😀", "\t", "a"])
TEXT = st.lists(HOSTILE | st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8).map("".join)


def tool(body_names: list[str]) -> Tool:
    bindings: dict[str, Any] = {
        "p": {"in": "path", "name": "p"},
        "q": {"in": "query", "name": "q&x=1"},
        "h": {"in": "header", "name": "X-H"},
    }
    properties: dict[str, Any] = {"p": {"type": "string"}, "q": {"type": "string"}, "h": {"type": "string"}}
    for index, name in enumerate(body_names):
        bindings[f"b{index}"] = {"in": "body", "name": name}
        properties[f"b{index}"] = {"type": "string"}
    return Tool(
        name="laws",
        description="Laws.",
        endpoint="http://127.0.0.1:9/x/{p}",
        schema={"type": "object", "properties": properties, "required": ["p"]},
        location=SourceLocation("laws.yaml"),
        origin="openapi",
        request={
            "method": "POST",
            "url": "http://127.0.0.1:9/$a\\b/x/{p}",
            "parameters": bindings,
            "content_type": "application/json",
        },
    )


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(TEXT, min_size=1, max_size=4, unique=True),
    path=TEXT.filter(lambda value: value not in (".", "..")),
    query=st.none() | TEXT,
    header=st.none() | TEXT.filter(lambda value: "\r" not in value and "\n" not in value),
    values=st.lists(st.none() | st.just("") | TEXT, min_size=4, max_size=4),
)
def test_every_value_arrives_where_it_was_bound_unchanged(
    names: list[str], path: str, query: str | None, header: str | None, values: list[str | None]
) -> None:
    compiled = compile_action(tool(names), category="c", integration_id="i")
    assert compiled.body is not None, compiled.diagnostics
    inputs: dict[str, Any] = {"p": path}
    if query is not None:
        inputs["q"] = query
    if header is not None:
        inputs["h"] = header
    expected_body = {}
    for index, name in enumerate(names):
        if values[index] is not None:
            inputs[f"b{index}"] = values[index]
            expected_body[name] = values[index]

    request = prepare(compiled.body, inputs)

    url = urlsplit(request.url)
    assert url.path.startswith("/$a\\b/x/")  # the description's literal `$a\b` is text, not Velocity
    assert unquote(url.path.rsplit("/", 1)[1]) == path
    assert parse_qs(url.query) == ({"q&x=1": [query]} if query else {})
    assert request.headers.get("X-H", "") == (header or "")
    assert json.loads(request.body or b"") == expected_body
