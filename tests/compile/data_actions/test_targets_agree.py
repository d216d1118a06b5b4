"""A law over both targets: for any arguments both accept, a tool's Data Action (its templates rendered by the
emulator's Velocity, as the platform renders them) and `reconciler serve`'s binding make the same request: the
same method, path segments, query values, headers, cookies and form fields or JSON body, each read back as the
upstream reads it. (Not null: the platform cannot tell an input given null from one not given, so an action
leaves it out, where `serve` sends a JSON body's `null`; the descriptions here have no nullable property.)"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings

from reconciler.compile.data_actions import action_input
from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.emulator.execute import Failure, prepare
from reconciler.load import read_documents
from reconciler.model import Tool
from reconciler.runtime import ToolError, build_request
from tests.runtime.arguments_strategy import arguments

OPENAPI = """\
openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.example.com/v1'}]
paths:
  /items/{id}/{ids}:
    post:
      operationId: both
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: ids, in: path, required: true, schema: {type: array, items: {type: integer}}}
        - {name: q, in: query, schema: {type: string}}
        - {name: empty, in: query, allowEmptyValue: true, schema: {type: string}}
        - {name: n, in: query, schema: {type: integer}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: ids, in: query, explode: false, schema: {type: array, items: {type: integer}}}
        - {name: words, in: query, style: pipeDelimited, explode: false, schema: {type: array, items: {type: string}}}
        - {name: filter, in: query, style: deepObject, schema: {type: object, properties: {a: {type: string}}}}
        - {name: X-Trace, in: header, schema: {type: string}}
        - {name: X-Ids, in: header, schema: {type: array, items: {type: integer}}}
        - {name: sess, in: cookie, schema: {type: string}}
        - {name: pref, in: cookie, schema: {type: integer}}
        - {name: flag, in: query, schema: {type: boolean}}
        - {name: num, in: query, schema: {type: number}}
        - {name: sp, in: query, style: spaceDelimited, explode: false, schema: {type: array, items: {type: string}}}
        - name: obj
          in: query
          schema: {type: object, required: [k], properties: {k: {type: string}, m: {type: integer}}}
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              required: [note]
              properties:
                note: {type: string}
                title: {type: string}
                count: {type: integer}
                labels: {type: array, items: {type: string}}
                codes: {type: array, items: {type: string}}
                address: {type: object, properties: {street: {type: string}, city: {type: string}}}
                range: {type: object, properties: {low: {type: integer}}}
            encoding:
              codes: {style: form, explode: false}
              range: {style: deepObject, explode: true}
      responses: {'200': {description: ok}}
"""
JSON = """\
openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.example.com/v1'}]
paths:
  /items:
    put:
      operationId: both
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [note]
              properties:
                note: {type: string}
                title: {type: string}
                count: {type: integer}
                ratio: {type: number}
                active: {type: boolean}
                labels: {type: array, items: {type: string}}
                matrix: {type: array, items: {type: array, items: {type: integer}}}
                address:
                  type: object
                  required: [city]
                  properties: {street: {type: string}, city: {type: string}, zip: {type: integer}}
                items: {type: array, items: {type: object, properties: {sku: {type: string}, n: {type: number}}}}
      responses: {'200': {description: ok}}
"""
SWAGGER = """\
swagger: '2.0'
info: {title: t, version: '1'}
host: api.example.com
schemes: [https]
paths:
  /items:
    post:
      operationId: both
      consumes: [application/x-www-form-urlencoded]
      parameters:
        - {name: q, in: query, type: string}
        - {name: csv, in: query, type: array, items: {type: string}}
        - {name: multi, in: query, type: array, items: {type: string}, collectionFormat: multi}
        - {name: pipes, in: query, type: array, items: {type: integer}, collectionFormat: pipes}
        - {name: note, in: formData, required: true, type: string}
        - {name: title, in: formData, type: string}
        - {name: flag, in: formData, type: string, allowEmptyValue: true}
        - {name: fcsv, in: formData, type: array, items: {type: string}}
        - {name: fmulti, in: formData, type: array, items: {type: string}, collectionFormat: multi}
      responses: {'200': {description: ok}}
"""


def _tool(tmp_path: Path, text: str) -> Tool:
    path = tmp_path / "api.yaml"
    path.write_text(text)
    [tool] = compile_openapi(
        read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits(max_parameters=32)
    ).tools
    return tool


def _fields(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Values by name, each name's in the order sent (the order of names means nothing to a reader)."""
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return found


def _read(method: str, url: str, headers: list[tuple[str, str]], body: bytes | None) -> dict[str, Any]:
    """A request as the upstream reads it."""
    parts = urlsplit(url)
    media = next((value for name, value in headers if name.lower() == "content-type"), "")
    text = (body or b"").decode()
    kept: dict[str, Any] = {name.lower(): value for name, value in headers if name.lower() != "content-type"}
    if "cookie" in kept:  # (the order of cookies means nothing to a reader either)
        kept["cookie"] = _fields(pair.partition("=")[::2] for pair in kept["cookie"].split("; "))
    return {
        "method": method,
        "path": [unquote(segment) for segment in parts.path.split("/")],
        "query": _fields(parse_qsl(parts.query, keep_blank_values=True)),
        "headers": kept,
        "body": json.loads(body) if "json" in media else _fields(parse_qsl(text, keep_blank_values=True)),
    }


@pytest.mark.parametrize("text", [OPENAPI, JSON, SWAGGER], ids=["3.0", "json", "2.0"])
def test_a_data_action_and_serve_send_the_same_request(tmp_path: Path, text: str) -> None:
    tool = _tool(tmp_path, text)
    action = action_input(tool, category="c", integration_id="i")

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
    @given(arguments(dict(tool.schema)))
    def law(drawn: dict[str, Any]) -> None:
        try:
            by_action = prepare(action, drawn)
        except Failure:
            assume(False)  # the action's contract refuses it (nothing is sent)
            raise
        try:
            by_serve = build_request(tool, drawn)
        except ToolError:
            assume(False)  # serve refuses it (nothing is sent)
            raise
        assert _read(by_action.method, by_action.url, list(by_action.headers.items()), by_action.body) == _read(
            by_serve.method, by_serve.url, by_serve.headers, by_serve.content
        ), drawn

    law()
