"""The Runtime over real loopback HTTP: context, argument checks, bindings, handlers, errors."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import threading
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote

import pytest

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents
from reconciler.model import Secret, Security, SecurityScheme, SourceLocation, Tool
from reconciler.runtime import Invocation, Outcome, Runtime
from reconciler.runtime.upstream import MAX_ANSWER_BYTES
from tests.runtime.conftest import Upstream

# every test here runs with each upstream client the runtime can use (conftest.each_client)
pytestmark = pytest.mark.usefixtures("each_client")

HOSTILE = "a/b?c=d&e#f %20 ;,=\"'\\ \u00e9\u4e2d\U0001f600 {x} ../ $x"

SPEC = """openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "%s"}]
paths:
  /items/{id}:
    put:
      operationId: updateItem
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: id, in: query, schema: {type: string}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: ids, in: query, explode: false, schema: {type: array, items: {type: integer}}}
        - {name: filter, in: query, style: deepObject, schema: {type: object, properties: {a: {type: string}}}}
        - {name: X-Trace, in: header, schema: {type: string}}
        - {name: session, in: cookie, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [note]
              properties:
                note: {type: string}
                id: {type: integer}
                extra: {type: object}
      responses: {"200": {description: ok}}
  /forms:
    post:
      operationId: sendForm
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema: {type: object, properties: {a: {type: string}, b: {type: array, items: {type: string}}}}
      responses: {"200": {description: ok}}
  /uploads:
    post:
      operationId: upload
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties: {file: {type: string, format: binary}, caption: {type: string}, meta: {type: object}}
      responses: {"200": {description: ok}}
  /users/{user}:
    get:
      operationId: getUser
      parameters: [{name: user, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
"""


def openapi_tools(tmp_path: Path, base: str, source: dict[str, Any] | None = None) -> dict[str, Tool]:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC % base)
    result = compile_openapi(
        read_documents(path)[0], source=source, source_document=None, root=tmp_path, limits=Limits()
    )
    return {tool.name: tool for tool in result.tools}


def hand_written(name: str, endpoint: str, **fields: Any) -> Tool:
    properties = {"sku": {"type": "string"}, "count": {"type": "integer"}}
    schema = fields.pop("schema", {"type": "object", "properties": properties, "required": ["sku"]})
    return Tool(name, "d", endpoint, schema, SourceLocation("tools.d/t.yaml", 1, 1), **fields)


def call(runtime: Runtime, name: str, parameters: dict[str, Any], **rest: Any) -> Outcome:
    async def go() -> Outcome:
        async with runtime:
            return await runtime.invoke(Invocation(name, parameters, **rest))

    return asyncio.run(go())


def test_a_hand_written_tool_gets_its_arguments_and_context_as_json(upstream: Upstream) -> None:
    tool = hand_written(
        "check",
        upstream.url + "/api/v1/tools/check",
        context={"user_id": "conversation.user_id", "conv": "conversation.id", "tier": "conversation.account.tier"},
    )
    outcome = call(
        Runtime([tool]),
        "check",
        {"sku": HOSTILE},
        conversation_id="C-1",
        user_id="USR-4492",
        conversation={"account": {"tier": "gold"}, "user_id": "someone-else"},
    )
    assert outcome.status == "success", outcome
    assert outcome.output == {"ok": True}
    assert outcome.upstream_status == 200
    [received] = upstream.received
    assert (received.method, received.path) == ("POST", "/api/v1/tools/check")
    # the invocation (DESIGN §9's callback contract, as the tool's Data Action posts it), with only the state its
    # context reads
    assert received.json == {
        "tool_name": "check",
        "parameters": {"sku": HOSTILE},
        "user_id": "USR-4492",
        "conversation_id": "C-1",
        "conversation": {"user_id": "USR-4492", "id": "C-1", "account": {"tier": "gold"}},
    }


def test_a_cookie_one_invocation_received_is_never_sent_with_another(upstream: Upstream) -> None:
    # Invocations are independent (different users, conversations): an upstream's session cookie must not ride
    # along with the next caller's request, whichever pooled connection carries it.
    upstream.headers.append(("Set-Cookie", "session=USR-1-secret; Path=/"))
    runtime = Runtime([hand_written("check", upstream.url + "/api/v1/tools/check")])

    async def go() -> list[Outcome]:
        async with runtime:
            return [await runtime.invoke(Invocation("check", {"sku": "A"}, user_id=f"U-{n}")) for n in range(6)]

    assert [outcome.status for outcome in asyncio.run(go())] == ["success"] * 6
    assert [received.headers.get("Cookie") for received in upstream.received] == [None] * 6


def test_a_model_supplied_context_value_is_refused_and_nothing_is_sent(upstream: Upstream) -> None:
    tool = hand_written("check", upstream.url, context={"user_id": "conversation.user_id"})
    outcome = call(Runtime([tool]), "check", {"sku": "x", "user_id": "USR-ADMIN"}, user_id="USR-1")
    assert (outcome.status, outcome.error_code) == ("error", "INVALID_ARGUMENTS")
    assert "USR-ADMIN" not in (outcome.message or "")
    assert upstream.received == []


def test_a_context_path_the_state_lacks_is_an_invalid_payload(upstream: Upstream) -> None:
    tool = hand_written("check", upstream.url, context={"token": "conversation.session_token"})
    outcome = call(Runtime([tool]), "check", {"sku": "x"}, conversation={"other": 1})
    assert outcome.error_code == "INVALID_PAYLOAD"
    assert "conversation.session_token" in (outcome.message or "")
    assert upstream.received == []


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({}, ["missing required argument 'sku'"]),
        ({"sku": 42}, ["argument 'sku': must be of type string"]),
        ({"sku": "x", "count": "secret-value-1"}, ["argument 'count': must be of type integer"]),
    ],
)
def test_wrong_arguments_are_refused_without_echoing_them(
    upstream: Upstream, parameters: dict[str, Any], words: list[str]
) -> None:
    outcome = call(Runtime([hand_written("check", upstream.url)]), "check", parameters)
    assert outcome.error_code == "INVALID_ARGUMENTS"
    for word in words:
        assert word in (outcome.message or "")
    for value in parameters.values():
        assert str(value) not in (outcome.message or "")
    assert upstream.received == []


def test_an_unknown_tool(upstream: Upstream) -> None:
    outcome = call(Runtime([hand_written("check", upstream.url)]), "nope", {})
    assert (outcome.error_code, outcome.message) == ("UNKNOWN_TOOL", "no tool named 'nope' is served here")


def test_an_openapi_tool_sends_every_location_under_its_original_names(tmp_path: Path, upstream: Upstream) -> None:
    tools = openapi_tools(tmp_path, upstream.url + "/v1")
    update = tools["updateItem"]
    arguments = {
        "id": HOSTILE,
        "query_id": HOSTILE,
        "tags": ["a,b", HOSTILE],
        "ids": [1, 2, 3],
        "filter": {"a": HOSTILE},
        "X-Trace": "trace 1",
        "session": HOSTILE,
        "note": HOSTILE,
        "body_id": 7,
        "extra": {"k": [HOSTILE]},
    }
    outcome = call(Runtime([update]), "updateItem", arguments)
    assert outcome.status == "success", outcome
    [received] = upstream.received
    path, _, query = received.path.partition("?")
    assert received.method == "PUT"
    assert path.startswith("/v1/items/") and unquote(path.removeprefix("/v1/items/")) == HOSTILE
    pairs = [(unquote(k), unquote(v)) for k, v in (piece.split("=", 1) for piece in query.split("&"))]
    assert pairs == [
        ("id", HOSTILE),
        ("tags", "a,b"),
        ("tags", HOSTILE),
        ("ids", "1,2,3"),
        ("filter[a]", HOSTILE),
    ]
    assert received.headers["X-Trace"] == "trace 1"
    assert received.headers["Cookie"].startswith("session=")
    assert unquote(received.headers["Cookie"].removeprefix("session=")) == HOSTILE
    assert received.json == {"note": HOSTILE, "id": 7, "extra": {"k": [HOSTILE]}}


def test_a_header_value_a_header_cannot_carry_is_refused(tmp_path: Path, upstream: Upstream) -> None:
    tools = openapi_tools(tmp_path, upstream.url)
    for hostile in ("a\r\nInjected: 1", "ends in a newline\n", " padded", "nul\x00"):
        outcome = call(Runtime(tools), "updateItem", {"id": "1", "note": "n", "X-Trace": hostile})
        assert outcome.error_code == "INVALID_ARGUMENTS"
        assert hostile.strip() not in (outcome.message or "")
    assert upstream.received == []
    outcome = call(Runtime(tools), "updateItem", {"id": "1", "note": "n", "X-Trace": "caf\u00e9 \u4e2d x"})
    assert outcome.status == "success", outcome
    assert upstream.received[0].headers["X-Trace"].encode("latin-1").decode() == "caf\u00e9 \u4e2d x"  # UTF-8


def test_form_and_multipart_bodies(tmp_path: Path, upstream: Upstream) -> None:
    tools = openapi_tools(tmp_path, upstream.url)
    runtime = Runtime(tools)
    assert call(runtime, "sendForm", {"a": HOSTILE, "b": ["x", "y&z"]}).status == "success"
    assert call(runtime, "upload", {"file": "bytes\r\n--", "caption": HOSTILE, "meta": {"k": 1}}).status == "success"
    form, multipart = upstream.received
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(form.body.decode(), keep_blank_values=True) == [("a", HOSTILE), ("b", "x"), ("b", "y&z")]
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + multipart.headers["Content-Type"].encode() + b"\r\n\r\n" + multipart.body
    )
    parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
    assert parts["file"].get_filename() == "file"
    assert parts["file"].get_payload(decode=True) == b"bytes\r\n--"
    assert parts["caption"].get_payload(decode=True).decode() == HOSTILE
    assert json.loads(parts["meta"].get_payload(decode=True)) == {"k": 1}


SWAGGER_FORMS = """swagger: "2.0"
info: {title: t, version: "1"}
host: %s
schemes: [http]
paths:
  /pets:
    post:
      operationId: addPet
      consumes: [%s]
      parameters:
        - {name: tags, in: formData, type: array, items: {type: string}}
        - {name: ids, in: formData, type: array, items: {type: integer}, collectionFormat: pipes}
        - {name: words, in: formData, type: array, items: {type: string}, collectionFormat: ssv}
        - {name: many, in: formData, type: array, items: {type: string}, collectionFormat: multi}
      responses: {"200": {description: ok}}
"""


@pytest.mark.parametrize("media", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_swagger_form_array_is_one_field_joined_by_its_collection_format(
    tmp_path: Path, upstream: Upstream, media: str
) -> None:
    """Swagger 2.0 sends a formData array as one field, `a,b` (`csv`, the default), `1|2` (`pipes`)…; only
    `multi` repeats the field. The upstream reads `tags=a&tags=b%2Cc` as tags = "b,c" (the last), or refuses it."""
    path = tmp_path / "swagger.yaml"
    path.write_text(SWAGGER_FORMS % (upstream.url.split("://", 1)[1], media))
    [tool] = compile_openapi(
        read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits()
    ).tools
    arguments = {"tags": ["a", "b,c"], "ids": [1, 2], "words": ["x", "y"], "many": ["m", "n"]}
    assert call(Runtime([tool]), "addPet", arguments).status == "success"
    [received] = upstream.received
    if media == "multipart/form-data":
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + received.headers["Content-Type"].encode() + b"\r\n\r\n" + received.body
        )
        fields = [
            (part.get_param("name", header="content-disposition"), part.get_payload(decode=True).decode())
            for part in message.iter_parts()
        ]
    else:
        fields = parse_qsl(received.body.decode(), keep_blank_values=True)
    assert fields == [("tags", "a,b,c"), ("ids", "1|2"), ("words", "x y"), ("many", "m"), ("many", "n")]


def test_a_query_in_the_server_url_stays_after_the_operations_path(tmp_path: Path, upstream: Upstream) -> None:
    """`servers: [{url: https://x/v1?api-version=2024-01-01}]`: the path goes before the query, whose pairs are
    sent beside the operation's own."""
    spec = SPEC.replace('servers: [{url: "%s"}]', 'servers: [{url: "%s/v1?api-version=2024-01-01"}]')
    path = tmp_path / "spec.yaml"
    path.write_text(spec % upstream.url)
    compiled = compile_openapi(
        read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits()
    )
    tools = {tool.name: tool for tool in compiled.tools}
    assert tools["getUser"].endpoint == f"{upstream.url}/v1/users/{{user}}?api-version=2024-01-01"
    outcome = call(Runtime(tools), "updateItem", {"id": "7", "note": "n", "tags": ["a"]})
    assert outcome.status == "success", outcome
    [received] = upstream.received
    assert received.path == "/v1/items/7?api-version=2024-01-01&tags=a"


def test_credentials_fill_the_operations_security_scheme(tmp_path: Path, upstream: Upstream) -> None:
    get_user = openapi_tools(tmp_path, upstream.url)["getUser"]
    key = SecurityScheme("key", "apiKey", "query", "api_key")
    basic = SecurityScheme("basic", "basic")
    bearer = SecurityScheme("bearer", "bearer")
    cookie = SecurityScheme("sid", "apiKey", "cookie", "sid")
    secured = Tool(
        **{
            **get_user.__dict__,
            "security": Security(
                ((bearer,), (key, basic, cookie)),
                {"key": Secret("k&1"), "basic": Secret("u:p w")},
                SourceLocation("spec.yaml", 1, 1),
            ),
        }
    )
    outcome = call(Runtime([secured], credentials={"sid": "s;1"}), "getUser", {"user": "u1"})
    assert outcome.status == "success", outcome
    [received] = upstream.received
    assert received.path == "/users/u1?api_key=k%261"
    assert received.headers["Authorization"] == "Basic " + base64.b64encode(b"u:p w").decode()
    assert received.headers["Cookie"] == "sid=s%3B1"
    assert "k&1" not in repr(secured)


def test_an_upstream_error_is_reported_by_status_and_a_5xx_retried_only_when_idempotent(
    tmp_path: Path, upstream: Upstream
) -> None:
    tools = openapi_tools(tmp_path, upstream.url)
    upstream.answers = [(503, {}), (503, {}), (503, {"detail": "down"})]
    outcome = call(Runtime(tools), "getUser", {"user": "secret-user"})
    assert (outcome.error_code, outcome.upstream_status) == ("UPSTREAM_ERROR", 503)
    assert len(upstream.received) == 3  # GET: tried three times
    assert "secret-user" not in (outcome.message or "") and upstream.url not in (outcome.message or "")

    upstream.received.clear()
    upstream.answers = [(503, {}), (200, {})]
    assert call(Runtime(tools), "sendForm", {"a": "x"}).error_code == "UPSTREAM_ERROR"
    assert len(upstream.received) == 1  # POST: never repeated

    upstream.answers = [(404, {"message": "no such user"})]
    outcome = call(Runtime(tools), "getUser", {"user": "u"})
    assert (outcome.error_code, outcome.upstream_status) == ("UPSTREAM_ERROR", 404)

    upstream.answers = [(302, {})]  # not followed: a redirect could take the credentials to another host
    outcome = call(Runtime(tools), "getUser", {"user": "u"})
    assert (outcome.error_code, outcome.upstream_status) == ("UPSTREAM_ERROR", 302)


def test_an_unreachable_upstream_is_an_upstream_error_naming_only_the_host() -> None:
    tool = hand_written("check", "http://127.0.0.1:9/x?token=abc")
    outcome = call(Runtime([tool]), "check", {"sku": "x"})
    assert outcome.error_code == "UPSTREAM_ERROR"
    assert outcome.message == "could not reach 127.0.0.1:9 (ConnectError)"


def test_on_the_system_clock_a_hung_upstream_times_out_at_the_tools_timeout(upstream: Upstream) -> None:
    # The breaker tests drive timeouts with a hand-moved clock; the system clock has its own path (the event
    # loop's timer), so it is run here for real, with a short timeout.
    upstream.hang = threading.Event()
    runtime = Runtime([hand_written("check", upstream.url + "/check", timeout=0.5)])

    async def go() -> tuple[Outcome, float]:
        async with runtime:
            started = time.monotonic()
            outcome = await runtime.invoke(Invocation("check", {"sku": "x"}))
            return outcome, time.monotonic() - started

    outcome, took = asyncio.run(go())
    upstream.hang.set()
    assert (outcome.error_code, outcome.message) == ("TOOL_EXECUTION_TIMEOUT", "check did not finish within 0.5 s")
    assert 0.5 <= took < 20  # the upstream holds the call 30 s: well under that is the timeout's doing


def test_on_the_system_clock_a_cancelled_invocation_is_cancelled_not_timed_out(upstream: Upstream) -> None:
    upstream.hang = threading.Event()
    runtime = Runtime([hand_written("check", upstream.url + "/check", timeout=30)])

    async def go() -> None:
        async with runtime:
            call = asyncio.ensure_future(runtime.invoke(Invocation("check", {"sku": "x"})))
            while not upstream.received:
                await asyncio.sleep(0.005)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call

    asyncio.run(go())
    upstream.hang.set()


def test_the_proxy_named_in_the_environment_carries_the_call(
    upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A service behind an egress proxy: HTTP_PROXY is honoured (the upstream here plays the proxy, so it receives
    # the absolute URL), and NO_PROXY is respected for the hosts it names.
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", upstream.url)
    outcome = call(Runtime([hand_written("check", "http://tools.example/api/check")]), "check", {"sku": "x"})
    assert outcome.status == "success", outcome
    assert [received.path for received in upstream.received] == ["http://tools.example/api/check"]
    monkeypatch.setenv("NO_PROXY", "tools.example")
    outcome = call(Runtime([hand_written("check", "http://tools.example/api/check")]), "check", {"sku": "x"})
    assert outcome.error_code == "UPSTREAM_ERROR"  # straight to tools.example, which does not exist
    assert len(upstream.received) == 1


def test_handlers_sync_and_async_receive_checked_arguments_and_context(upstream: Upstream) -> None:
    seen: list[dict[str, Any]] = []

    def sync_handler(arguments: dict[str, Any]) -> Any:
        seen.append(arguments)
        return {"stock": 3}

    async def async_handler(arguments: dict[str, Any]) -> Any:
        return [arguments["sku"]]

    def broken(arguments: dict[str, Any]) -> Any:
        raise RuntimeError(f"database said no to {arguments['sku']}")

    tools = [hand_written(name, upstream.url, context={"user_id": "conversation.user_id"}) for name in "abc"]
    runtime = Runtime(tools, handlers={"a": sync_handler, "b": async_handler, "c": broken})
    assert call(runtime, "a", {"sku": "s"}, user_id="U").output == {"stock": 3}
    assert seen == [{"sku": "s", "user_id": "U"}]
    assert call(runtime, "b", {"sku": "s"}, user_id="U").output == ["s"]
    failed = call(runtime, "c", {"sku": "private"}, user_id="U")
    assert (failed.error_code, failed.message) == ("EXECUTION_FAILURE", "c failed (RuntimeError)")
    assert upstream.received == []


def test_a_hand_written_tool_with_a_request_binding_runs_through_it(
    repo: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.cli.common import load_desired

    monkeypatch.setenv("BASE", upstream.url)
    (repo / "tools.d" / "t.yaml").write_text(
        "name: tag\ndescription: Tags things.\nendpoint: ${BASE}/things/{thing}\n"
        "parameters:\n  thing: {type: string, required: true}\n"
        "  tags: {type: array, items: {type: string, enum: [x, y]}}\n"  # YAML lists: the loader's own subclass
        "  text: {type: string}\n"
        "request:\n  method: POST\n  url: ${BASE}/things/{thing}\n  content_type: text/plain\n"
        "  parameters:\n    thing: {in: path, name: thing, style: matrix}\n"
        "    tags: {in: query, name: tag, style: pipeDelimited, explode: false}\n    text: {in: body}\n"
    )
    [tool] = load_desired(repo / "tools.d").tools
    outcome = call(Runtime([tool]), "tag", {"thing": "a b", "tags": ["x", "y"], "text": HOSTILE})
    assert outcome.status == "success", outcome
    [received] = upstream.received
    assert received.path == "/things/;thing=a%20b?tag=x%7Cy"
    assert (received.headers["Content-Type"], received.body.decode()) == ("text/plain", HOSTILE)


def test_empty_lists_are_left_out_and_a_json_body_without_properties_is_sent_as_an_empty_object(
    tmp_path: Path,
) -> None:
    from reconciler.runtime import build_request

    update = openapi_tools(tmp_path, "https://api.example.com")["updateItem"]
    request = build_request(update, {"id": "1", "note": "n", "tags": [], "ids": [], "filter": {}})
    assert request.url == "https://api.example.com/items/1"  # RFC 6570: an empty list is undefined

    bare = Tool(**{**update.__dict__, "schema": {"type": "object", "properties": {"note": {"type": "string"}}}})
    bare = Tool(
        **{
            **bare.__dict__,
            "request": {**(update.request or {}), "parameters": {"note": {"in": "body", "name": "note"}}},
        }
    )
    request = build_request(bare, {})
    assert (request.method, request.content) == ("PUT", b"{}")


def test_the_output_is_the_upstreams_json_as_json_loads_reads_it(upstream: Upstream) -> None:
    # read by orjson where it reads the same (runtime/jsonread.py); these are where it would not
    texts = [
        b'{"n": 123456789012345678901234567890, "m": -9223372036854775809, "f": 0.1}',  # past 64 bits
        b"[NaN, -Infinity, 1e400]",
        b'{"s": "\\ud800"}',
        "\ufeff[1]".encode(),
        "[2]".encode("utf-16"),
        b'{"ok": true}',
        b"not JSON",
    ]
    upstream.answers = [(200, text) for text in texts]
    runtime = Runtime([hand_written("check", upstream.url + "/check")])
    outputs = [call(runtime, "check", {"sku": "x"}).output for _ in texts]
    strict = [text for text in texts[:-1] if text != b"[NaN, -Infinity, 1e400]"]
    assert [repr(output) for output in outputs if not isinstance(output, str)] == [
        repr(json.loads(text)) for text in strict
    ]
    assert type(outputs[0]["n"]) is int
    # NaN and the infinities are not JSON: the answer is passed on as the text it is, as any other that is not
    # JSON (read as json.loads reads it, they reached a caller of `serve` as null, orjson's writing of them)
    assert outputs[1] == "[NaN, -Infinity, 1e400]"
    assert outputs[-1] == "not JSON"


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate"])
def test_an_answer_past_the_size_limit_is_an_upstream_error_not_unbounded_memory(
    upstream: Upstream, encoding: str | None
) -> None:
    """16 MiB of body, as sent or as a few kilobytes of archive decode to: refused, not retried, the breaker left
    closed (the host answers), and the next call on the same runtime goes through."""
    big = b'"' + b" " * MAX_ANSWER_BYTES + b'"'
    if encoding == "gzip":
        upstream.answers = [(200, gzip.compress(big))]
    elif encoding == "deflate":
        upstream.answers = [(200, zlib.compress(big))]
    else:
        upstream.answers = [(200, big)]
    if encoding:
        assert len(upstream.answers[0][1]) < 100_000
        upstream.headers = [("Content-Encoding", encoding)]
    runtime = Runtime([hand_written("check", upstream.url + "/x")])

    async def go() -> tuple[Outcome, Outcome]:
        async with runtime:
            first = await runtime.invoke(Invocation("check", {"sku": "a"}))
            upstream.headers = []
            return first, await runtime.invoke(Invocation("check", {"sku": "b"}))

    withheld, after = asyncio.run(go())
    # the upstream answered 200: the call happened, so a success whose output says why the answer is left out
    # (an error would have a model repeat a call that may not be repeated)
    assert (withheld.status, withheld.withheld, withheld.upstream_status) == ("success", "too_large", 200)
    assert withheld.output == (
        "check was called and its upstream answered 200, but that answer is too large to pass on (more than "
        f"{MAX_ANSWER_BYTES:,} bytes); the call has happened"
    )
    assert (after.error_code, after.output) == (None, {"ok": True})
    assert len(upstream.received) == 2


def test_an_error_answer_past_the_size_limit_is_the_upstream_error_it_says(
    upstream: Upstream, each_client: str
) -> None:
    big = b'"' + b" " * MAX_ANSWER_BYTES + b'"'
    upstream.answers = [(404, big), (200, big)]
    runtime = Runtime([hand_written("check", upstream.url + "/x")])

    async def go() -> tuple[Outcome, Outcome]:
        async with runtime:
            return await runtime.invoke(Invocation("check", {"sku": "a"})), await runtime.invoke(
                Invocation("check", {"sku": "b"})
            )

    refused, withheld = asyncio.run(go())
    assert (refused.error_code, refused.message, refused.upstream_status) == (
        "UPSTREAM_ERROR",
        "the upstream of check answered 404",
        404,
    )
    assert (withheld.status, withheld.withheld, withheld.upstream_status) == ("success", "too_large", 200)
    assert len(upstream.received) == 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_retried_5xx_past_the_size_limit_is_retried_when_idempotent_as_a_short_one_is(
    tmp_path: Path, upstream: Upstream, status: int
) -> None:
    """A gateway's 502/503/504 says nothing of the next try, however long its body (a proxy's error page, a few
    kilobytes of gzip decoding past 16 MiB): a GET is asked again, as after a short 503; a POST never."""
    tools = openapi_tools(tmp_path, upstream.url)
    big = gzip.compress(b'"' + b" " * MAX_ANSWER_BYTES + b'"')
    upstream.headers = [("Content-Encoding", "gzip")]
    upstream.answers = [(status, big), (200, gzip.compress(b'{"id": "u1"}'))]
    outcome = call(Runtime(tools), "getUser", {"user": "u1"})
    assert (outcome.status, outcome.output, outcome.upstream_status) == ("success", {"id": "u1"}, 200)
    assert len(upstream.received) == 2

    upstream.received.clear()
    upstream.answers = [(status, big)] * 3
    outcome = call(Runtime(tools), "getUser", {"user": "u1"})
    assert (outcome.error_code, outcome.message, outcome.upstream_status) == (
        "UPSTREAM_ERROR",
        f"the upstream of getUser answered {status}",
        status,
    )
    assert len(upstream.received) == 3  # tried three times, as a short one is

    upstream.received.clear()
    upstream.answers = [(status, big), (200, {})]
    assert call(Runtime(tools), "sendForm", {"a": "x"}).upstream_status == status
    assert len(upstream.received) == 1  # POST: never repeated


def test_a_2xx_answer_that_cannot_be_read_is_a_success_that_says_so_and_a_post_is_not_repeated(
    tmp_path: Path, upstream: Upstream
) -> None:
    """The upstream answered 201 (an order placed), but its body cannot be read (gzip that is not gzip: a proxy
    that mangles it, or a body cut short). The call happened: as for a 2xx too large to pass on, the outcome is
    a success whose output says so, never UPSTREAM_ERROR, which would have a model place the order again. A GET
    is asked once more (repeating it is safe), and its readable answer is the output."""
    upstream.headers = [("Content-Encoding", "gzip")]
    upstream.answers = [(201, b"this is not gzip")]
    outcome = call(Runtime([hand_written("order", upstream.url + "/orders")]), "order", {"sku": "a"})
    assert (outcome.status, outcome.withheld, outcome.upstream_status) == ("success", "unreadable", 201)
    assert outcome.output == (
        "order was called and its upstream answered 201, but that answer is unreadable (its body was cut short "
        "or could not be decoded); the call has happened"
    )
    assert len(upstream.received) == 1

    upstream.received.clear()
    upstream.answers = [(200, b"this is not gzip"), (200, gzip.compress(b'{"stock": 3}'))]
    outcome = call(Runtime(openapi_tools(tmp_path, upstream.url)), "getUser", {"user": "u1"})
    assert (outcome.status, outcome.output, outcome.withheld) == ("success", {"stock": 3}, None), outcome
    assert len(upstream.received) == 2


def test_an_answer_just_under_the_size_limit_is_read_whole(upstream: Upstream) -> None:
    text = "x" * (MAX_ANSWER_BYTES - 2)
    upstream.answers = [(200, gzip.compress(json.dumps(text).encode()))]
    upstream.headers = [("Content-Encoding", "gzip")]
    outcome = call(Runtime([hand_written("check", upstream.url + "/x")]), "check", {"sku": "a"})
    assert outcome.error_code is None
    assert outcome.output == text


def test_a_path_argument_cannot_climb_out_of_its_segment(tmp_path: Path, upstream: Upstream) -> None:
    # `/users/{user}` with user ".." would be `/users/..`, which the upstream (and every proxy on the way) reads
    # as `/`: the model would reach another operation of the host, with the tool's credentials. An empty value
    # would call the collection (`/users/`) instead of one member.
    tools = openapi_tools(tmp_path, upstream.url + "/v1")
    for value in ("..", ".", ""):
        outcome = call(Runtime(tools), "getUser", {"user": value})
        assert (outcome.error_code, outcome.message) == (
            "INVALID_ARGUMENTS",
            "argument 'user' of getUser cannot be empty, '.' or '..': it is one segment of the upstream's path",
        )
    assert upstream.received == []
    for value in ("...", "..a", "a..", "%2e%2e", "../x"):  # one segment each, as sent
        assert call(Runtime(tools), "getUser", {"user": value}).status == "success"
    assert [unquote(received.path.removeprefix("/v1/users/")) for received in upstream.received] == [
        "...",
        "..a",
        "a..",
        "%2e%2e",
        "../x",
    ]


def test_an_object_argument_cannot_add_cookies_or_headers_through_its_keys(upstream: Upstream) -> None:
    # An exploded object in a cookie sends one cookie per key: a key holding `; name=` or a line break must stay
    # inside its own cookie's name, not add a cookie (or a header) of the model's choosing.
    schema = {"type": "object", "properties": {"prefs": {"type": "object"}}}
    binding = {"method": "GET", "url": upstream.url + "/p", "parameters": {"prefs": {"in": "cookie", "name": "prefs"}}}
    tool = Tool("prefs", "d", upstream.url + "/p", schema, SourceLocation("t.yaml", 1, 1), request=binding)
    outcome = call(Runtime([tool]), "prefs", {"prefs": {"theme; admin": "1", "a\r\nX-Injected: 1": "2", "b": "3"}})
    assert outcome.status == "success", outcome
    [received] = upstream.received
    cookies = [piece.partition("=") for piece in received.headers["Cookie"].split("; ")]
    assert [(unquote(name), unquote(value)) for name, _, value in cookies] == [
        ("theme; admin", "1"),
        ("a\r\nX-Injected: 1", "2"),
        ("b", "3"),
    ]
    assert "X-Injected" not in received.headers


def test_text_no_request_can_carry_is_refused_as_the_callers_mistake(tmp_path: Path, upstream: Upstream) -> None:
    # JSON can hold a lone surrogate ("\ud800"), UTF-8 cannot: wherever the argument goes, the call is refused
    # as INVALID_ARGUMENTS (the caller's mistake, 422), not EXECUTION_FAILURE (the service's), and nothing is sent.
    tools = openapi_tools(tmp_path, upstream.url)
    tools["check"] = hand_written("check", upstream.url + "/check")
    lone = "\ud800"
    cases = [
        ("getUser", {"user": lone}, "user"),
        ("updateItem", {"id": "1", "note": "n", "X-Trace": lone}, "X-Trace"),
        ("updateItem", {"id": "1", "note": "n", "session": lone}, "session"),
        ("updateItem", {"id": "1", "note": "n", "filter": {"a": lone}}, "filter"),
        ("updateItem", {"id": "1", "note": lone}, "note"),
        ("updateItem", {"id": "1", "note": "n", "extra": {lone: 1}}, "extra"),
        ("sendForm", {"a": lone}, "a"),
        ("upload", {"caption": lone}, "caption"),
        ("check", {"sku": lone}, "sku"),
    ]
    runtime = Runtime(tools)
    for name, arguments, argument in cases:
        outcome = call(runtime, name, arguments)
        assert (outcome.error_code, outcome.message) == (
            "INVALID_ARGUMENTS",
            f"argument {argument!r} of {name} holds text that is not Unicode (a lone surrogate); no request can "
            "carry it",
        )
    assert upstream.received == []


def test_an_answer_in_a_charset_python_does_not_know_is_read_as_utf8(upstream: Upstream) -> None:
    upstream.content_type = "text/plain; charset=x-unheard-of"
    upstream.answers = [(200, "caf\u00e9, not JSON".encode())]
    outcome = call(Runtime([hand_written("check", upstream.url + "/check")]), "check", {"sku": "x"})
    assert (outcome.status, outcome.output) == ("success", "caf\u00e9, not JSON")


def test_a_credential_a_header_cannot_carry_is_a_clear_error_and_nothing_is_sent(
    tmp_path: Path, upstream: Upstream
) -> None:
    # A secret read from a file often ends with a line break; sent as is it would split the header (one pool
    # refuses, another reports a lost connection and counts it against the upstream's breaker).
    get_user = openapi_tools(tmp_path, upstream.url)["getUser"]
    schemes = [SecurityScheme("key", "apiKey", "header", "X-Api-Key"), SecurityScheme("bearer", "bearer")]
    for scheme in schemes:
        name = scheme.name
        secured = Tool(**{**get_user.__dict__, "security": Security(((scheme,),), {}, SourceLocation("s.yaml", 1, 1))})
        outcome = call(Runtime([secured], credentials={name: "s3cret-value\n"}), "getUser", {"user": "u"})
        assert (outcome.error_code, outcome.message) == (
            "EXECUTION_FAILURE",
            f"the credential for {name!r} holds a line break or another control character (often a trailing "
            "newline from the file it was read from), which a header cannot carry",
        )
    assert upstream.received == []


@pytest.mark.parametrize("variable", ["ALL_PROXY", "all_proxy", "HTTP_PROXY without a scheme"])
def test_every_pool_takes_the_proxy_settings_httpx_takes(
    upstream: Upstream, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # One setup, one behaviour, whichever pool carries the call: ALL_PROXY stands for HTTP_PROXY and HTTPS_PROXY
    # when they are unset, and a proxy written as host:port is an http:// proxy (as httpx and curl read them).
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    if variable == "HTTP_PROXY without a scheme":
        monkeypatch.setenv("HTTP_PROXY", upstream.url.removeprefix("http://"))
    else:
        monkeypatch.setenv(variable, upstream.url)
    outcome = call(Runtime([hand_written("check", "http://tools.example/api/check")]), "check", {"sku": "x"})
    assert outcome.status == "success", outcome
    assert [received.path for received in upstream.received] == ["http://tools.example/api/check"]


def test_an_object_in_a_space_or_pipe_delimited_query_uses_that_delimiter(upstream: Upstream) -> None:
    # OpenAPI's style table: spaceDelimited `color=R%20100%20G%20200`, pipeDelimited `color=R|100|G|200` (sent
    # percent-encoded, as every delimiter here); form alone separates with commas.
    schema = {"type": "object", "properties": {name: {"type": "object"} for name in ("s", "p", "f")}}
    binding = {
        "method": "GET",
        "url": upstream.url + "/q",
        "parameters": {
            "s": {"in": "query", "name": "s", "style": "spaceDelimited", "explode": False},
            "p": {"in": "query", "name": "p", "style": "pipeDelimited", "explode": False},
            "f": {"in": "query", "name": "f", "explode": False},
        },
    }
    tool = Tool("q", "d", upstream.url + "/q", schema, SourceLocation("t.yaml", 1, 1), request=binding)
    color = {"R": 100, "G": "a b|c"}
    assert call(Runtime([tool]), "q", {"s": color, "p": color, "f": color}).status == "success"
    [received] = upstream.received
    assert received.raw_query == "s=R%20100%20G%20a%20b%7Cc&p=R%7C100%7CG%7Ca%20b%7Cc&f=R,100,G,a%20b%7Cc"


def test_a_url_told_apart_by_a_fragment_still_sends_its_query(upstream: Upstream) -> None:
    # Box's description tells two operations on one path apart by a #fragment (`/files/{file_id}#get_shared_link`,
    # whose `fields=shared_link` selects the operation). HTTP never sends a fragment: the query, and a query
    # credential, must not be written after it, where every client drops them.
    schema = {"type": "object", "properties": {"file_id": {"type": "string"}, "fields": {"type": "string"}}}
    binding = {
        "method": "GET",
        "url": upstream.url + "/2.0/files/{file_id}#get_shared_link",
        "parameters": {"file_id": {"in": "path", "name": "file_id"}, "fields": {"in": "query", "name": "fields"}},
    }
    key = SecurityScheme("key", "apiKey", "query", "api_key")
    security = Security(((key,),), {"key": Secret("k1")}, SourceLocation("spec.yaml", 1, 1))
    tool = Tool("link", "d", upstream.url, schema, SourceLocation("t.yaml", 1, 1), request=binding, security=security)
    assert call(Runtime([tool]), "link", {"file_id": "12", "fields": "shared_link"}).status == "success"
    assert [received.path for received in upstream.received] == ["/2.0/files/12?fields=shared_link&api_key=k1"]


def test_an_argument_cannot_set_the_query_parameter_or_cookie_a_credential_fills(upstream: Upstream) -> None:
    # An exploded object names its own query pairs or cookies: `{"api_key": "mine"}` sent before the tool's own
    # `api_key` is the one most servers read first, so the model would call with a key (or a session) of its
    # choosing instead of the tool's.
    schema = {"type": "object", "properties": {"q": {"type": "object"}, "c": {"type": "object"}}}
    binding = {
        "method": "GET",
        "url": upstream.url + "/p",
        "parameters": {"q": {"in": "query", "name": "q"}, "c": {"in": "cookie", "name": "c"}},
    }
    key = SecurityScheme("key", "apiKey", "query", "api_key")
    sid = SecurityScheme("sid", "apiKey", "cookie", "sid")
    security = Security(((key, sid),), {"key": Secret("k1"), "sid": Secret("s1")}, SourceLocation("s.yaml", 1, 1))
    tool = Tool("p", "d", upstream.url, schema, SourceLocation("t.yaml", 1, 1), request=binding, security=security)
    runtime = Runtime([tool])
    for arguments, name in (({"q": {"api_key": "mine"}}, "api_key"), ({"c": {"sid": "mine"}}, "sid")):
        outcome = call(runtime, "p", arguments)
        assert (outcome.error_code, outcome.message) == (
            "INVALID_ARGUMENTS",
            f"the arguments of p set {name!r}, which the tool's credentials fill",
        )
    assert upstream.received == []
    assert call(runtime, "p", {"q": {"other": "1"}, "c": {"pref": "2"}}).status == "success"
    [received] = upstream.received
    assert received.path == "/p?other=1&api_key=k1"
    assert received.headers["Cookie"] == "pref=2; sid=s1"


def test_an_argument_cannot_set_the_header_a_credential_fills(upstream: Upstream) -> None:
    # Descriptions often list their auth header as a parameter too: the model's value would go out beside the
    # tool's credential, first.
    schema = {"type": "object", "properties": {"X-Api-Key": {"type": "string"}, "Authorization": {"type": "string"}}}
    binding = {
        "method": "GET",
        "url": upstream.url + "/p",
        "parameters": {
            "X-Api-Key": {"in": "header", "name": "X-Api-Key"},
            "Authorization": {"in": "header", "name": "Authorization"},
        },
    }
    schemes = (SecurityScheme("key", "apiKey", "header", "x-api-key"), SecurityScheme("bearer", "bearer"))
    security = Security((schemes,), {"key": Secret("k1"), "bearer": Secret("t1")}, SourceLocation("s.yaml", 1, 1))
    tool = Tool("p", "d", upstream.url, schema, SourceLocation("t.yaml", 1, 1), request=binding, security=security)
    runtime = Runtime([tool])
    for argument, header in (("X-Api-Key", "x-api-key"), ("Authorization", "Authorization")):
        outcome = call(runtime, "p", {argument: "mine"})
        assert (outcome.error_code, outcome.message) == (
            "INVALID_ARGUMENTS",
            f"the arguments of p set {header!r}, which the tool's credentials fill",
        )
    assert upstream.received == []
    assert call(runtime, "p", {}).status == "success"
    [received] = upstream.received
    assert (received.headers["x-api-key"], received.headers["Authorization"]) == ("k1", "Bearer t1")


CONTENT_SPEC = """openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "%s"}]
paths:
  /search:
    get:
      operationId: search
      parameters:
        - name: filter
          in: query
          content: {application/json: {schema: {type: object, properties: {a: {type: integer}, b: {type: string}}}}}
        - name: X-Scope
          in: header
          content: {application/json: {schema: {type: array, items: {type: string}}}}
      responses: {"200": {description: ok}}
"""


def test_a_parameter_described_by_content_is_sent_as_json_text(tmp_path: Path, upstream: Upstream) -> None:
    """OpenAPI serializes a `content` parameter as its media type's text (`?filter={"a":1}` percent-encoded), not
    by a style: the object went out as form pairs (`?a=1&b=x`), which such an API does not read."""
    path = tmp_path / "spec.yaml"
    path.write_text(CONTENT_SPEC % upstream.url)
    result = compile_openapi(read_documents(path)[0], source=None, source_document=None, root=tmp_path, limits=Limits())
    [tool] = result.tools
    assert tool.request is not None
    assert tool.request["parameters"]["filter"] == {"in": "query", "name": "filter", "content_type": "application/json"}

    outcome = call(Runtime([tool]), "search", {"filter": {"a": 1, "b": "x y&z"}, "X-Scope": ["read", "write"]})

    assert outcome.status == "success", outcome
    [received] = upstream.received
    assert parse_qs(received.raw_query) == {"filter": ['{"a":1,"b":"x y&z"}']}
    assert received.headers["X-Scope"] == '["read","write"]'
