"""Query and form serialisation through `reconciler serve`'s service over loopback HTTP: a compiled OpenAPI
tool is called as a model calls it, and the upstream records the request it received."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jsonschema
import pytest

from reconciler.compile.data_actions import action_input
from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.emulator.execute import execute
from reconciler.load import read_documents
from tests.runtime.conftest import Received, Upstream
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


FORMS = OPENAPI + (
    "paths:\n"
    "  /plain:\n    post:\n      operationId: plainForm\n      requestBody:\n        content:\n"
    "          application/x-www-form-urlencoded:\n            schema:\n              type: object\n"
    "              properties:\n"
    "                address: {type: object, properties: {street: {type: string}, city: {type: string}}}\n"
    "                tags: {type: array, items: {type: string}}\n"
    '      responses: {"200": {description: ok}}\n'
    "  /encoded:\n    post:\n      operationId: encodedForm\n      requestBody:\n        content:\n"
    "          application/x-www-form-urlencoded:\n            schema:\n              type: object\n"
    "              properties:\n"
    "                filter: {type: object, properties: {a: {type: string}, b: {type: integer}}}\n"
    "                ids: {type: array, items: {type: integer}}\n"
    "                words: {type: array, items: {type: string}}\n"
    "                meta: {type: object}\n"
    "                note: {type: string}\n"
    "            encoding:\n"
    "              filter: {style: deepObject, explode: true}\n"
    "              ids: {style: form, explode: false}\n"
    "              words: {style: pipeDelimited, explode: false}\n"
    "              meta: {contentType: application/json}\n"
    '      responses: {"200": {description: ok}}\n'
    "  /parts:\n    post:\n      operationId: parts\n      requestBody:\n        content:\n"
    "          multipart/form-data:\n            schema:\n              type: object\n"
    "              properties:\n"
    "                sdp: {type: string}\n"
    "                session: {type: object, properties: {model: {type: string}}}\n"
    "                caption: {type: string}\n"
    "            encoding:\n"
    "              sdp: {contentType: application/sdp}\n"
    "              session: {contentType: application/json}\n"
    '      responses: {"200": {description: ok}}\n'
)


def _pairs(received: Received) -> list[tuple[str, str]]:
    assert received.headers["Content-Type"] == "application/x-www-form-urlencoded"
    return parse_qsl(received.body.decode(), keep_blank_values=True, strict_parsing=True)


def test_an_object_in_a_form_is_sent_as_its_own_fields_as_openapi_s_default_style_says(
    tmp_path: Path, upstream: Upstream, serving: Callable[..., Serving]
) -> None:
    """OpenAPI: an object property of an application/x-www-form-urlencoded body is serialised by its Encoding
    Object's style, `form` (explode true) by default: one field per property. It went as JSON text
    (`address={"street":…}`), which no form-reading server takes apart."""
    service = _served(tmp_path, FORMS, upstream, serving)
    answer = _call(service, "plainForm", {"address": {"street": "1 Main & Co", "city": "Oslo"}, "tags": ["a", "b"]})
    assert answer.status_code == 200, answer.text
    [received] = upstream.received
    assert _pairs(received) == [("street", "1 Main & Co"), ("city", "Oslo"), ("tags", "a"), ("tags", "b")]


def test_a_forms_encoding_sets_each_fields_style_explode_and_content_type(
    tmp_path: Path, upstream: Upstream, serving: Callable[..., Serving]
) -> None:
    """The Encoding Object of a form body (style and explode per property, contentType per property) was not
    compiled: `deepObject` filters went as JSON text, `explode: false` arrays as repeated fields."""
    service = _served(tmp_path, FORMS, upstream, serving)
    arguments = {
        "filter": {"a": "x y", "b": 2},
        "ids": [1, 2],
        "words": ["p q", "r"],
        "meta": {"k": [1]},
        "note": "n",
    }
    answer = _call(service, "encodedForm", arguments)
    assert answer.status_code == 200, answer.text
    [received] = upstream.received
    assert _pairs(received) == [
        ("filter[a]", "x y"),
        ("filter[b]", "2"),
        ("ids", "1,2"),
        ("words", "p q|r"),
        ("meta", '{"k":[1]}'),
        ("note", "n"),
    ]


def test_a_multipart_parts_content_type_is_the_one_its_encoding_gives(
    tmp_path: Path, upstream: Upstream, serving: Callable[..., Serving]
) -> None:
    """OpenAI's realtime call (`sdp: {contentType: application/sdp}`): the part went without a Content-Type, so
    the upstream read it as text/plain."""
    service = _served(tmp_path, FORMS, upstream, serving)
    sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"
    answer = _call(service, "parts", {"sdp": sdp, "session": {"model": "m"}, "caption": "c"})
    assert answer.status_code == 200, answer.text
    [received] = upstream.received
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + received.headers["Content-Type"].encode() + b"\r\n\r\n" + received.body
    )
    parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
    assert parts["sdp"].get_content_type() == "application/sdp"
    assert parts["sdp"].get_payload(decode=True) == sdp.encode()
    assert parts["session"].get_content_type() == "application/json"
    assert json.loads(parts["session"].get_payload(decode=True)) == {"model": "m"}
    assert "Content-Type" not in parts["caption"]  # text/plain, multipart's default for a string


FORM_20 = SWAGGER + (
    "paths:\n  /notes:\n    post:\n      operationId: addNote\n      consumes: [application/x-www-form-urlencoded]\n"
    "      parameters:\n"
    "        - {name: title, in: formData, type: string}\n"
    "        - {name: flag, in: formData, allowEmptyValue: true, type: string}\n"
    "        - {name: body, in: formData, required: true, type: string}\n"
    "        - {name: tags, in: formData, type: array, items: {type: string}}\n"
    '      responses: {"200": {description: ok}}\n'
)
FORM_30 = OPENAPI + (
    "paths:\n  /notes:\n    post:\n      operationId: addNote\n      requestBody:\n        content:\n"
    "          application/x-www-form-urlencoded:\n            schema:\n              type: object\n"
    "              required: [body]\n"
    "              properties: {title: {type: string}, flag: {type: string}, body: {type: string}}\n"
    '      responses: {"200": {description: ok}}\n'
)


def test_an_empty_optional_swagger_form_field_is_left_out_unless_the_description_allows_empty_values(
    tmp_path: Path, upstream: Upstream, serving: Callable[..., Serving]
) -> None:
    """Swagger 2.0 defines `allowEmptyValue` (default false) for `formData` as for `query`: an empty value is
    sent only where the parameter says the server takes one. A model that filled an optional field with ""
    sent `title=`, which a server reads as a title set to nothing."""
    service = _served(tmp_path, FORM_20, upstream, serving)
    answer = _call(service, "addNote", {"title": "", "flag": "", "body": "", "tags": ["a"]})
    assert answer.status_code == 200, answer.text
    [received] = upstream.received
    # title: optional and empty: left out; flag: empty allowed: sent; body: required: sent as given
    assert _pairs(received) == [("flag", ""), ("body", ""), ("tags", "a")]


def test_an_empty_optional_openapi_3_form_field_is_left_out_as_its_data_action_leaves_it_out(
    tmp_path: Path, upstream: Upstream, serving: Callable[..., Serving]
) -> None:
    """A form body is a query string in a body (OpenAPI reads its Encoding Object's style as a query's): "" for
    an optional field stands for no value there too, and the tool's Data Action never sent it. `serve` sent
    `title=` for a model that fills every optional field with "" (Twilio's forms: a callback URL set to "")."""
    service = _served(tmp_path, FORM_30, upstream, serving)
    answer = _call(service, "addNote", {"title": "", "body": "", "flag": "f"})
    assert answer.status_code == 200, answer.text
    [received] = upstream.received
    assert _pairs(received) == [("body", ""), ("flag", "f")]  # body: required: sent as given


PHOTOS = OPENAPI + (
    "paths:\n  /photos:\n    post:\n      operationId: upload\n      requestBody:\n        content:\n"
    "          multipart/form-data:\n            schema:\n              type: object\n"
    "              properties:\n"
    "                photo: {type: string, format: binary}\n"
    "                thumb: {type: string, format: binary}\n"
    "                meta: {type: object, properties: {a: {type: string}}}\n"
    "            encoding:\n"
    "              photo: {contentType: 'image/png, image/jpeg'}\n"
    "              thumb: {contentType: 'image/*'}\n"
    "              meta: {contentType: 'application/json; charset=utf-8 , text/plain'}\n"
    '      responses: {"200": {description: ok}}\n'
)


def test_a_parts_content_type_list_sends_its_first_concrete_type(
    tmp_path: Path, upstream: Upstream, serving: Callable[..., Serving]
) -> None:
    """OpenAPI 3's Encoding Object: `contentType` is a comma-separated list of media types and ranges. The list
    went as written (`Content-Type: image/png, image/jpeg`), which names no one type; a part is sent as the first
    concrete type, and as its default (a file's application/octet-stream) when the list has only ranges."""
    service = _served(tmp_path, PHOTOS, upstream, serving)
    answer = _call(service, "upload", {"photo": "P", "thumb": "T", "meta": {"a": "b"}})
    assert answer.status_code == 200, answer.text
    [received] = upstream.received
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + received.headers["Content-Type"].encode() + b"\r\n\r\n" + received.body
    )
    parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
    assert parts["photo"]["Content-Type"] == "image/png"
    assert parts["thumb"]["Content-Type"] == "application/octet-stream"
    assert b"\r\nContent-Type: application/json; charset=utf-8\r\n" in received.body
    assert json.loads(parts["meta"].get_payload(decode=True)) == {"a": "b"}


FORMS_BOTH = OPENAPI + (
    "paths:\n  /encoded:\n    post:\n      operationId: encoded\n      requestBody:\n        content:\n"
    "          application/x-www-form-urlencoded:\n            schema:\n              type: object\n"
    "              properties:\n"
    "                address: {type: object, properties: {street: {type: string}, city: {type: string}}}\n"
    "                filter: {type: object, properties: {a: {type: string}, b: {type: integer}}}\n"
    "                tags: {type: array, items: {type: string}}\n"
    "                ids: {type: array, items: {type: integer}}\n"
    "                words: {type: array, items: {type: string}}\n"
    "                note: {type: string}\n"
    "            encoding:\n"
    "              filter: {style: deepObject, explode: true}\n"
    "              ids: {style: form, explode: false}\n"
    "              words: {style: pipeDelimited, explode: false}\n"
    '      responses: {"200": {description: ok}}\n'
)
FORMS_BOTH_20 = SWAGGER + (
    "paths:\n  /arrays:\n    post:\n      operationId: arrays\n      consumes: [application/x-www-form-urlencoded]\n"
    "      parameters:\n"
    "        - {name: csv, in: formData, type: array, items: {type: string}}\n"
    "        - {name: pipes, in: formData, type: array, items: {type: string}, collectionFormat: pipes}\n"
    "        - {name: multi, in: formData, type: array, items: {type: string}, collectionFormat: multi}\n"
    "        - {name: note, in: formData, required: true, type: string}\n"
    '      responses: {"200": {description: ok}}\n'
)


@pytest.mark.parametrize(
    ("text", "name", "arguments"),
    [
        (
            FORMS_BOTH,
            "encoded",
            {
                "address": {"street": "1 Main & Co", "city": "Oslo"},
                "filter": {"a": "x y", "b": 2},
                "tags": ["a", "b"],
                "ids": [1, 2],
                "words": ["p q", "r"],
                "note": "n",
            },
        ),
        (FORMS_BOTH_20, "arrays", {"csv": ["a", "b"], "pipes": ["c", "d"], "multi": ["e", "f"], "note": "n"}),
    ],
    ids=["3.0", "2.0"],
)
def test_a_data_action_sends_the_form_serve_sends(
    tmp_path: Path, upstream: Upstream, serving: Callable[..., Serving], text: str, name: str, arguments: Any
) -> None:
    """One tool, two targets, one request. A Data Action's form template wrote every array as repeated fields,
    whatever its `collectionFormat` (Swagger 2.0's default, `csv`, is one field `a,b`) or its encoding's
    `style`/`explode` said, and refused every object, which the platform's form body (a string of query
    arguments) can carry as the description says: fields of its own, or `filter[a]=…`."""
    service = _served(tmp_path, text, upstream, serving)
    answer = _call(service, name, arguments)
    assert answer.status_code == 200, answer.text
    compiled = compile_openapi(
        read_documents(tmp_path / "api.yaml")[0], source=None, source_document=None, root=tmp_path, limits=Limits()
    )
    [tool] = [tool for tool in compiled.tools if tool.name == name]
    status, error = execute(action_input(tool, category="c", integration_id="i"), arguments)
    assert status == 200, error
    by_serve, by_action = upstream.received
    assert _fields(by_action) == _fields(by_serve)


def _fields(received: Received) -> dict[str, list[str]]:
    """A form's values by name, each name's in the order sent (the order of names is no part of a form's meaning)."""
    fields: dict[str, list[str]] = {}
    for name, value in _pairs(received):
        fields.setdefault(name, []).append(value)
    return fields
