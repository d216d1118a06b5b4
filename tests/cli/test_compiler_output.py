"""What a model reads of a compiled operation: bounds keep their meaning (Twilio's `DateCreated<`/`>`), a
parameter's examples are kept, and a deprecated operation says so. Seen as a user sees it: `render`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents

Run = Callable[..., Any]
SPEC = """openapi: 3.0.3
info: {title: Calls, version: "1"}
servers: [{url: https://api.example.com}]
paths:
  /calls:
    get:
      operationId: listCalls
      summary: List calls.
      parameters:
        - {name: DateCreated, in: query, description: Created on this date., schema: {type: string}}
        - {name: DateCreated<, in: query, description: Created on this date., schema: {type: string}}
        - {name: DateCreated>, in: query, description: Created on this date., schema: {type: string}}
        - {name: Price<=, in: query, schema: {type: number}}
        - {name: Status!=, in: query, schema: {type: string}}
        - {name: To, in: query, example: "+15558675310", schema: {type: string}}
        - name: From
          in: query
          examples: {us: {value: "+15017122661"}, shared: {$ref: "#/components/examples/x"}}
          schema: {type: string}
  /calls/legacy:
    get: {operationId: listLegacyCalls, summary: List calls the old way., deprecated: true}
"""


def _functions(repo: Path, run: Run) -> dict[str, Any]:
    (repo / "tools.d" / "calls.yaml").write_text(SPEC)
    result = run("render", "--format", "openai")
    assert result.code == 0, result.err
    return {item["function"]["name"]: item["function"] for item in json.loads(result.out)}


def test_comparison_parameters_keep_their_meaning_in_name_and_description(repo: Path, run: Run) -> None:
    properties = _functions(repo, run)["listCalls"]["parameters"]["properties"]

    names = ["DateCreated", "DateCreated_before", "DateCreated_after", "Price_max", "Status_not"]
    assert set(names) <= set(properties)
    descriptions = [properties[name].get("description") for name in names]
    assert len(set(descriptions)) == 5, "a model must be able to tell the bounds apart"
    assert descriptions[1] == "Upper bound (sent as `DateCreated<`). Created on this date."
    assert descriptions[2] == "Lower bound (sent as `DateCreated>`). Created on this date."
    assert descriptions[3] == "Upper bound, inclusive (sent as `Price<=`)."
    assert descriptions[4] == "A value to leave out (sent as `Status!=`)."


def test_the_request_binding_still_sends_the_original_names(repo: Path, run: Run) -> None:
    (repo / "tools.d" / "calls.yaml").write_text(SPEC)
    [tool, _] = json.loads(run("render").out)
    parameters = tool["request"]["parameters"]
    assert parameters["DateCreated_before"] == {"in": "query", "name": "DateCreated<"}
    assert parameters["DateCreated_after"] == {"in": "query", "name": "DateCreated>"}


def test_parameter_examples_are_kept(repo: Path, run: Run) -> None:
    properties = _functions(repo, run)["listCalls"]["parameters"]["properties"]

    assert properties["To"]["examples"] == ["+15558675310"]
    assert properties["From"]["examples"] == ["+15017122661"]


def test_a_deprecated_operation_says_so_first(repo: Path, run: Run) -> None:
    functions = _functions(repo, run)

    assert functions["listLegacyCalls"]["description"] == "Deprecated: List calls the old way."
    assert functions["listCalls"]["description"] == "List calls."


def test_a_deprecated_mark_still_fits_the_limit(repo: Path, run: Run) -> None:
    (repo / "tools.d" / "calls.yaml").write_text(SPEC.replace("List calls the old way.", "word " * 60))
    result = run("render")
    description = next(t["description"] for t in json.loads(result.out) if t["name"] == "listLegacyCalls")
    assert description.startswith("Deprecated: word")
    assert len(description) <= 255


CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "openapi" / "twilio"


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="no corpus")
def test_every_twilio_bound_is_named_and_described_apart_from_its_pair() -> None:
    [description] = read_documents(CORPUS / "twilio_api_v2010.json")
    result = compile_openapi(
        description, source=None, source_document=None, root=CORPUS, limits=Limits(max_parameters=100)
    )
    pairs = 0
    for tool in result.tools:
        properties = tool.schema.get("properties", {})
        assert not [name for name in properties if name.startswith("query_") and name.endswith("_2")], tool.name
        for name in properties:
            if name.endswith("_before") and name.removesuffix("_before") + "_after" in properties:
                after = properties[name.removesuffix("_before") + "_after"]
                assert properties[name]["description"] != after["description"], tool.name
                pairs += 1
    assert pairs >= 10
