"""Every tool of the shared OpenAPI corpus becomes an action the SDK reads whole, or an error saying why."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from PureCloudPlatformClientV2.api_client import ApiClient

from reconciler.compile.data_actions import compile_action

_spec = importlib.util.spec_from_file_location(
    "corpus_helpers", Path(__file__).resolve().parents[1] / "openapi" / "test_openapi_corpus.py"
)
assert _spec is not None and _spec.loader is not None
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not corpus.CORPUS.is_dir(), reason=f"no corpus at {corpus.CORPUS}"),
]


def sdk_round_trip(body: dict[str, Any]) -> Any:
    """`body` read into the SDK's PostActionInput and written back: what the SDK has no field for is lost."""
    client = ApiClient()
    model = client._ApiClient__deserialize(body, "PostActionInput")  # type: ignore[attr-defined]
    return client.sanitize_for_serialization(model)


@pytest.mark.parametrize("relative", corpus.descriptions())
def test_every_corpus_action_deserializes_into_the_sdk_model_whole(relative: str) -> None:
    result = corpus.compile_corpus(relative)
    for tool in result.tools:
        compiled = compile_action(tool, category="Corpus", integration_id="integration-1")
        if compiled.body is None:
            (diagnostic,) = compiled.diagnostics
            assert diagnostic.severity == "error"
            assert diagnostic.code == "data-action"
            assert f"'{tool.name}' cannot become a Data Action" in diagnostic.message
            continue
        assert sdk_round_trip(compiled.body) == compiled.body
        schema = compiled.body["contract"]["input"]["inputSchema"]
        assert (schema["title"], schema["description"]) == (tool.name, tool.description)
