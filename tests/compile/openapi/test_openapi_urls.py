"""Every compiled tool calls its own operation: openapi-core's path finder, given the tool's URL (its template
variables filled) and method, finds the operation the tool was made from, under one of that operation's servers.

The request-conformance law (tests/runtime/test_conformance.py) points every server of a description at a
loopback upstream, operation and path-item servers removed: it cannot see which server a tool calls. This law
does, on the corpus (Box's uploads and OAuth live on other hosts than its API) and on drawn descriptions whose
operations and path items name servers of their own, absolute or relative (OpenAPI reads a relative one against
where the description is; the finder, like the compiler, reads it against the description's server).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema_path import SchemaPath
from openapi_core.templating.paths.finders import APICallPathFinder

from reconciler.compile.openapi import compile_openapi
from reconciler.compile.openapi.names import base_name, fit
from reconciler.config import Limits
from reconciler.load import read_documents

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "openapi"
DESCRIPTIONS = [
    "box/openapi.json",
    "discord/openapi.json",
    "twilio/twilio_api_v2010.json",
    "oai-examples/v3.0/uspto.yaml",
    "oai-examples/v3.0/petstore-expanded.yaml",
]


def _misplaced(path: Path, base_uri: str) -> tuple[int, list[str]]:
    """How many tools were checked, and each one whose URL the finder does not place at its own operation."""
    text = path.read_text(encoding="utf-8")
    spec = SchemaPath.from_dict(json.loads(text) if path.suffix == ".json" else yaml.safe_load(text), base_uri=base_uri)
    finder = APICallPathFinder(spec)
    result = compile_openapi(
        read_documents(path)[0],
        source=None,
        source_document=None,
        root=path.parent,
        limits=Limits(max_parameters=10**4),
    )
    checked, wrong = 0, []
    for tool in result.tools:
        url = str((tool.request or {})["url"])
        if "#" in url:  # Box tells two operations apart by a #fragment HTTP does not send: no finder can
            continue
        checked += 1
        try:
            found = finder.find(tool.request["method"].lower(), re.sub(r"\{[^{}/]+\}", "x1", url))  # type: ignore[index]
        except Exception as exc:  # ServerNotFound, PathNotFound, OperationNotFound
            wrong.append(f"{tool.name} {url}: {type(exc).__name__}")
            continue
        written = found.operation.get("operationId")
        if isinstance(written, str) and not tool.name.startswith(fit(base_name(written, "", ""))):
            wrong.append(f"{tool.name} {url}: the finder's operation is {written}")
    return checked, wrong


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
@pytest.mark.parametrize("relative", DESCRIPTIONS)
def test_every_tool_of_the_corpus_calls_its_own_operation_on_its_own_server(relative: str) -> None:
    path = CORPUS / relative
    checked, wrong = _misplaced(path, path.resolve().as_uri())
    assert checked > 0
    assert wrong == []


SERVERS = st.sampled_from([None, "/v2", "/v4/x", "https://upload.example.com/u", "https://{region}.example.com"])
"""(openapi-core reads a relative server only as a path from the host's root without variables, `/v2`; `v2`,
`../v3` and `../v3/{stage}`, resolved as RFC 3986 says, are in test_openapi_cli.py)"""


def _servers(url: str | None) -> dict[str, Any]:
    if url is None:
        return {}
    variables = {name: {"default": f"d{name}"} for name in re.findall(r"\{([^{}]+)\}", url)}
    return {"servers": [{"url": url, **({"variables": variables} if variables else {})}]}


def test_an_operation_or_path_item_server_absolute_or_relative_is_the_one_its_tool_calls(tmp_path: Path) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(SERVERS, SERVERS, SERVERS), min_size=1, max_size=4))
    def law(choices: list[tuple[str | None, str | None, str | None]]) -> None:
        paths: dict[str, Any] = {}
        for number, (drawn, first, second) in enumerate(choices):
            item = drawn
            if first is not None or second is not None:
                # openapi-core 0.23 lets a path item's servers win over an operation's, against OpenAPI's "it
                # will be overridden by this value": that precedence is checked in test_openapi_cli.py
                item = None
            response = {"responses": {"200": {"description": "ok"}}}
            paths[f"/r{number}/{{id}}"] = {
                **_servers(item),
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {"operationId": f"get{number}", **_servers(first), **response},
                "post": {"operationId": f"post{number}", **_servers(second), **response},
            }
        description = {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "https://api.example.com/v1"}],
            "paths": paths,
        }
        path = tmp_path / "api.json"
        path.write_text(json.dumps(description))
        checked, wrong = _misplaced(path, "https://api.example.com/v1")
        assert checked == 2 * len(choices)
        assert wrong == [], json.dumps(description)

    law()
