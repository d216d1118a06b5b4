"""Query and form serialisation through `reconciler serve`'s service over loopback HTTP: a compiled OpenAPI
tool is called as a model calls it, and the upstream records the request it received."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents
from tests.runtime.conftest import Upstream
from tests.serve.conftest import Serving, serving

__all__ = ["serving"]

OPENAPI = 'openapi: 3.0.3\ninfo: {title: t, version: "1"}\nservers: [{url: "%s"}]\n'
SWAGGER = 'swagger: "2.0"\ninfo: {title: t, version: "1"}\nhost: "%s"\nschemes: [http]\n'


def _served(tmp_path: Path, text: str, upstream: Upstream, serving: Callable[..., Serving]) -> Serving:
    path = tmp_path / "api.yaml"
    host = upstream.url.removeprefix("http://")
    path.write_text(text % (host if text.startswith("swagger") else upstream.url))
    compiled = compile_openapi(
        read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits()
    )
    assert [d for d in compiled.diagnostics if d.severity == "error"] == []
    return serving(compiled.tools)


def _call(service: Serving, name: str, parameters: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{service.url}/tools/{name}", json={"tool_name": name, "parameters": parameters})


SEARCH_30 = OPENAPI + (
    "paths:\n  /search:\n    get:\n      operationId: search\n      parameters:\n"
    "        - {name: q, in: query, schema: {type: string}}\n"
    "        - {name: flag, in: query, allowEmptyValue: true, schema: {type: string}}\n"
    "        - {name: term, in: query, required: true, schema: {type: string}}\n"
    "        - {name: page, in: query, schema: {type: string}}\n"
    '      responses: {"200": {description: ok}}\n'
)
SEARCH_20 = SWAGGER + (
    "paths:\n  /search:\n    get:\n      operationId: search\n      parameters:\n"
    "        - {name: q, in: query, type: string}\n"
    "        - {name: flag, in: query, allowEmptyValue: true, type: string}\n"
    "        - {name: term, in: query, required: true, type: string}\n"
    "        - {name: page, in: query, type: string}\n"
    '      responses: {"200": {description: ok}}\n'
)


@pytest.mark.parametrize("text", [SEARCH_30, SEARCH_20], ids=["3.0", "2.0"])
def test_an_empty_optional_query_value_is_left_out_unless_the_description_allows_empty_values(
    tmp_path: Path, upstream: Upstream, serving: Callable[..., Serving], text: str
) -> None:
    """OpenAPI (3.0.4 says it plainly): a zero-length query value stands for a parameter not used, and a client
    sends one only where `allowEmptyValue: true` says the server reads it so. A model that fills every optional
    field with "" sent `?q=`, which many APIs read as "search for nothing" (an empty page) or refuse."""
    service = _served(tmp_path, text, upstream, serving)
    answer = _call(service, "search", {"q": "", "flag": "", "term": "", "page": "2"})
    assert answer.status_code == 200, answer.text
    [received] = upstream.received
    # q: optional and empty: left out; flag: empty allowed: sent; term: required: sent as given
    assert received.raw_query == "flag=&term=&page=2"


def _request_schema() -> dict[str, Any]:
    text = resources.files("reconciler.schema").joinpath("tools-file.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    return {"$defs": schema["$defs"], "$ref": "#/$defs/request"}


@pytest.mark.parametrize("text", [SEARCH_30, SEARCH_20], ids=["3.0", "2.0"])
def test_the_binding_the_compiler_writes_is_one_a_tool_file_may_hold(tmp_path: Path, text: str) -> None:
    """`export` writes a compiled tool's binding into its tool file, which `validate` then holds to the format."""
    path = tmp_path / "api.yaml"
    path.write_text(text % ("api.example.com" if text.startswith("swagger") else "https://api.example.com"))
    [tool] = compile_openapi(
        read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits()
    ).tools
    assert tool.request is not None
    assert tool.request["parameters"]["flag"]["allowEmptyValue"] is True
    assert "allowEmptyValue" not in tool.request["parameters"]["q"]
    jsonschema.Draft202012Validator(_request_schema()).validate(tool.request)
