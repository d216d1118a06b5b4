"""The compiler's shortcuts for speed give what the long way gives.

- `ToolBuilder` asks `collect` to count, rather than make, the inputs of an operation whose tool takes no
  context entry: with none to take out, an operation over the limit is skipped whatever its inputs are (a third
  of a large description's operations are). The shortcut is exact only while the count is the number of inputs
  the full path makes and names; a context entry that names no parameter takes the full path without changing
  what is counted, so both paths must skip the same operations with the same reasons and warnings.
- The converter changes in place only what it has just built (a leaf made `nullable`): the description, which
  every tool's schema is converted from and shares parts with, is never written to.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from reconciler.compile.openapi import OpenApiResult, compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents
from tests.compile.openapi.test_openapi_corpus import CORPUS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "openapi"
UNUSED_CONTEXT = {"no_such_parameter_anywhere": "conversation.id"}


def _compile(path: Path, root: Path, limit: int, context: bool) -> OpenApiResult:
    source: dict[str, Any] = {"openapi": path.name, "endpoint_base": "https://api.example.com"}
    if context:
        source["defaults"] = {"context": UNUSED_CONTEXT}
    return compile_openapi(
        read_documents(path)[0],
        source=source,
        source_document=None,
        root=root,
        limits=Limits(max_parameters=limit),
    )


def _skips(result: OpenApiResult) -> tuple[list[Any], list[Any]]:
    return (
        [(s.operation, s.location, s.reason) for s in result.skipped],
        [(d.severity, d.location, d.message) for d in result.diagnostics],
    )


def _same_skips(path: Path, root: Path, limit: int) -> int:
    counted, made = _compile(path, root, limit, context=False), _compile(path, root, limit, context=True)
    assert _skips(counted) == _skips(made)
    assert [tool.name for tool in counted.tools] == [tool.name for tool in made.tools]
    return sum("parameters, more than the limit" in s.reason for s in counted.skipped)


@pytest.mark.parametrize("name", ["collisions.yaml", "orders.yaml", "swagger-form.yaml", "schemas.yaml"])
@pytest.mark.parametrize("limit", [0, 1, 2, 3, 5])
def test_counting_skips_what_making_and_naming_skips(name: str, limit: int) -> None:
    # path, query, header and cookie parameters, $ref'd and shared ones, client headers, form data, bodies
    # whose properties come through allOf and $ref, readOnly properties: counted as the full path counts them
    _same_skips(FIXTURES / name, FIXTURES, limit)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
@pytest.mark.parametrize("name", ["twilio/twilio_api_v2010.json", "box/openapi.json", "discord/openapi.json"])
def test_counting_skips_what_making_and_naming_skips_in_large_descriptions(name: str) -> None:
    assert _same_skips(CORPUS / name, CORPUS, Limits().max_parameters) > 0


@pytest.mark.parametrize("name", ["collisions.yaml", "orders.yaml", "swagger-form.yaml", "schemas.yaml"])
def test_compiling_leaves_the_description_as_it_was(name: str) -> None:
    # the converter changes only what it has just built (a leaf made `nullable` in place, inputs made after
    # they are counted): the description, which every tool's schema is converted from, is never written to
    document = read_documents(FIXTURES / name)[0]
    before = copy.deepcopy(document.content)
    for output_schemas in (True, False):
        result = compile_openapi(
            document,
            source=None,
            source_document=None,
            root=FIXTURES,
            limits=Limits(max_parameters=3),
            output_schemas=output_schemas,
        )
        assert result.tools
    assert document.content == before
