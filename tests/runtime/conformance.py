"""Binding conformance: a compiled tool's arguments, sent by the Runtime, make a request that the original
OpenAPI operation accepts (openapi-core), and that carries the argument values unchanged.

Used by test_conformance.py over the shared corpus (`RECONCILER_CONFORMANCE_TOOLS=0 pytest -s
tests/runtime/test_conformance.py` tries every tool and prints the counts per description).
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema_rs
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from openapi_core import Config, OpenAPI
from werkzeug.wrappers import Request

from reconciler.compile.openapi import compile_openapi
from reconciler.compile.payload import normalize
from reconciler.config import Limits
from reconciler.load import read_documents
from reconciler.model import Tool
from reconciler.runtime import BreakerPolicy, Invocation, Runtime
from reconciler.runtime.styles import scalar
from tests.openapi_requests import KNOWN_FORMATS, CapturedRequest, formats_and_media, path_values, same, utf8_headers
from tests.runtime.arguments_strategy import arguments

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "openapi"
HOSTILE = "a/b?c=d&e#f %20 ;=\"'\\ \u00e9\u4e2d\U0001f600 {x} ../ $x\t<"
SPECS = {
    "twilio": "twilio/twilio_api_v2010.json",
    "box": "box/openapi.json",
    "openai": "openai/openapi.yaml",
    "discord": "discord/openapi.json",
    "digitalocean": "digitalocean/specification/DigitalOcean-public.v2.yaml",
    "oai-examples-3.0-petstore": "oai-examples/v3.0/petstore-expanded.yaml",
    "oai-examples-3.0-uspto": "oai-examples/v3.0/uspto.yaml",
}
SWAGGER = {
    "netlify": "netlify/swagger.yml",
    "oai-examples-2.0-petstore": "oai-examples/v2.0/yaml/petstore-expanded.yaml",
    "oai-examples-2.0-uber": "oai-examples/v2.0/yaml/uber.yaml",
}
_DELIMITERS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}


@dataclass
class Report:
    spec: str
    tools: int = 0
    tried: int = 0
    requests: int = 0
    conform: int = 0
    values_checked: int = 0
    refused_header: int = 0
    refused_segment: int = 0
    not_generable: int = 0
    no_valid_example: int = 0
    failures: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    known: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        return (
            f"{self.spec}: {self.tools} tools, {self.tried} tried, {self.requests} requests sent, {self.conform} "
            f"accepted by openapi-core, {self.values_checked} values round-tripped, {self.refused_header} refused "
            f"(a header cannot carry them), {self.refused_segment} refused (an empty, '.' or '..' path segment), "
            f"{self.not_generable + self.no_valid_example} tools without generated "
            "arguments, "
            f"{len(self.failures)} failures"
        )


def spec_for(path: Path, base: str) -> tuple[dict[str, Any], str]:
    """The description with its servers pointed at `base`, and the path its operations' URLs start with."""
    text = path.read_text(encoding="utf-8")
    spec = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    servers = spec.get("servers") or [{"url": "/"}]
    url = servers[0].get("url", "/")
    for name, variable in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(variable.get("default", "")))
    prefix = urlsplit(url).path.rstrip("/")
    spec["servers"] = [{"url": base + prefix}]
    for item in (spec.get("paths") or {}).values():  # operation and path-item servers would win over ours
        if isinstance(item, dict):
            item.pop("servers", None)
            for operation in item.values():
                if isinstance(operation, dict):
                    operation.pop("servers", None)
    return spec, prefix


def examples(schema: dict[str, Any], count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    validator = jsonschema_rs.validator_for(schema)

    @settings(
        max_examples=count * 3,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(arguments(schema))
    def collect(value: Any) -> None:
        if validator.is_valid(value):
            found.append(value)

    collect()
    unique = list({json.dumps(v, sort_keys=True): v for v in found}.values())
    hostile = _hostile(schema, unique[-1] if unique else {})
    return ([hostile] if hostile is not None else []) + unique[: count - 1]


def _hostile(schema: dict[str, Any], example: dict[str, Any]) -> dict[str, Any] | None:
    """`example` with every string argument the schema lets be anything replaced by HOSTILE."""
    validator = jsonschema_rs.validator_for(schema)
    changed = dict(example)
    for name, property_schema in (schema.get("properties") or {}).items():
        if not isinstance(property_schema, dict) or property_schema.get("type") != "string":
            continue
        if "format" in property_schema or "pattern" in property_schema or "enum" in property_schema:
            continue
        trial = {**changed, name: HOSTILE}
        if validator.is_valid(trial):
            changed = trial
    return changed if changed != example else None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
KNOWN_LIMITS: list[tuple[Any, str]] = [
    (
        lambda cause: "is not one of []" in cause,
        "the description's `enum: []` (no value at all) beside an allOf enum whose values the tool keeps (Discord)",
    ),
    (
        lambda cause: "'*/*' is not one of" in cause,
        "openapi-core checks the Accept header, which OpenAPI says a description's parameters do not govern",
    ),
    (
        lambda cause: "PathNotFound" in cause and "%3C" in cause,
        "a path the description writes with characters a URL cannot hold raw (<upload_url>)",
    ),
    (
        lambda cause: "ServerNotFound" in cause,
        "the operation names its own server in another file (only the description's servers point here)",
    ),
    (
        lambda cause: "type='any'" in cause and "is not valid under any of the given schemas" in cause,
        "an anyOf whose every branch is readOnly (DigitalOcean's ssh_key_identifier), refused in a request",
    ),
    (
        lambda cause: "EmptyQueryParameterValue" in cause,
        "an empty string in a query parameter without allowEmptyValue",
    ),
    (
        lambda cause: "is not of type 'string'" in cause and "b'" in cause,
        "openapi-core reads a binary multipart part (3.1 contentMediaType) as bytes",
    ),
    (
        lambda cause: "value=None" in cause and "None is not of type" in cause,
        "null for a property marked `nullable`, a 3.0 keyword the description's 3.1 dialect ignores",
    ),
    (
        lambda cause: "reference '#/components/schemas/" in cause and "could not be resolved" in cause,
        "a discriminator value without a mapping names no schema (the description's implicit mapping is broken)",
    ),
]


def _json_media(data: bytes, **_: Any) -> Any:
    return json.loads(data)


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _as_sent(tool: Tool, argument: str, value: Any, place: dict[str, Any]) -> tuple[bool, Any]:
    """(whether it is sent, what is sent): an optional "" in a query, a header or a form field is no value and is
    left out, unless the parameter says allowEmptyValue: true; so is an optional property given "" or null of
    an object sent a pair a property (runtime/binding.py)."""
    required = tool.schema.get("required") or []
    media = str((tool.request or {}).get("content_type", "")).split(";")[0].strip().lower()
    textual = place["in"] in ("query", "header") or (place["in"] == "body" and "name" in place and media in _FORMS)
    if not textual or argument in required:
        return True, value
    if value == "" and not place.get("allowEmptyValue"):
        return False, None
    schema = (tool.schema.get("properties") or {}).get(argument)
    paired = "content_type" not in place or "style" in place or "explode" in place
    if isinstance(value, dict) and isinstance(schema, dict) and isinstance(schema.get("properties"), dict) and paired:
        needed = schema.get("required") or []
        value = {key: item for key, item in value.items() if key in needed or item not in ("", None)}
    return True, value


def _round_trip(tool: Tool, arguments: dict[str, Any], result: Any, report: Report) -> list[str]:
    problems = []
    bindings = (tool.request or {}).get("parameters") or {}
    for argument, written in arguments.items():
        place = bindings[argument]
        location, name = place["in"], place.get("name")
        sent, value = _as_sent(tool, argument, written, place)
        if not sent:
            continue
        if location == "body":
            body = result.body
            actual = body if name is None else (body.get(name) if isinstance(body, dict) else None)
        else:
            holder = getattr(result.parameters, location)
            actual = holder.get(name) if holder is not None else None
        if (
            location in ("query", "path", "header", "cookie")
            and isinstance(value, list)
            and any(isinstance(item, str) and ("," in item or " " in item or "|" in item) for item in value)
        ):
            continue  # an element holding the style's delimiter: ambiguous by OpenAPI's own rules
        verdict = same(value, actual, added_keys=True)  # openapi-core adds the schema's defaults
        if verdict is None:
            continue
        report.values_checked += 1
        if not verdict:
            problems.append(f"{argument} ({location}) arrived changed: {value!r} -> {actual!r}"[:300])
    return problems


async def check_spec(name: str, relative: str, upstream: Any, max_tools: int, count: int) -> Report:
    path = CORPUS / relative
    report = Report(name)
    spec, prefix = spec_for(path, upstream.url)
    formats, media = formats_and_media(spec)
    if path.parent.name == "specification":  # DigitalOcean's description spans ~2,900 files: their formats too
        for part in path.parent.rglob("*.yml"):
            more = formats_and_media(yaml.load(part.read_text(encoding="utf-8"), Loader=_LOADER))
            formats |= more[0]
            media |= more[1]
    config = Config(
        spec_validator_cls=None,
        # formats openapi-core does not know (Discord's `snowflake`) are annotations, as JSON Schema says
        extra_format_validators={name: lambda value: True for name in formats - KNOWN_FORMATS},
        extra_media_type_deserializers={
            name: _json_media for name in media if "json" in name and name != "application/json"
        },
    )
    openapi = OpenAPI.from_dict(spec, config=config, base_uri=path.resolve().as_uri())
    result = compile_openapi(
        read_documents(path)[0],
        source={"endpoint_base": upstream.url + prefix},
        source_document=None,
        root=path.parent,
        limits=Limits(max_parameters=10),
    )
    tools = [tool for tool in result.tools if tool.request is not None]
    report.tools = len(tools)
    step = max(1, len(tools) // max_tools) if max_tools else 1
    chosen = tools[::step][: max_tools or None]
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    credentials = dict.fromkeys(schemes, "user-1:pass word")
    runtime = Runtime(chosen, credentials=credentials, breaker=BreakerPolicy(threshold=10**9))
    async with runtime:
        for tool in chosen:
            report.tried += 1
            try:
                cases = examples(normalize(tool.schema), count)
            except Exception as exc:  # hypothesis-jsonschema cannot generate for this schema
                report.not_generable += 1
                report.reasons[type(exc).__name__] += 1
                continue
            if not cases:
                report.no_valid_example += 1
            for arguments in cases:
                upstream.received.clear()
                outcome = await runtime.invoke(Invocation(tool.name, arguments))
                if outcome.error_code == "INVALID_ARGUMENTS" and "goes in a header" in (outcome.message or ""):
                    report.refused_header += 1
                    continue
                if outcome.error_code == "INVALID_ARGUMENTS" and "segment of the upstream's path" in (
                    outcome.message or ""
                ):
                    report.refused_segment += 1  # it would reach another resource (binding._refuse_dot_segments)
                    continue
                if not outcome.ok or not upstream.received:
                    report.failures.append(f"{tool.name}: {outcome.error_code} {outcome.message}")
                    continue
                report.requests += 1
                received = upstream.received[-1]
                raw_path = received.path.partition("?")[0]
                request = CapturedRequest(
                    upstream.url,
                    received.method,
                    received.path,
                    utf8_headers(received.headers.items()),
                    path_values(tool, upstream.url, raw_path),
                    received.body,
                )
                try:
                    unmarshalled = openapi.unmarshal_request(request)
                except Exception as exc:  # openapi-core itself fails on parts of a description
                    report.known[f"openapi-core fails on this part of the description ({type(exc).__name__})"] += 1
                    continue
                if unmarshalled.errors:
                    causes = [repr(getattr(e, "__cause__", None) or e) for e in unmarshalled.errors]
                    known = [text for test, text in KNOWN_LIMITS if all(test(cause) for cause in causes)]
                    undefined = {m for c in causes for m in re.findall(r"'([^']+)' is a required property", c)}
                    if undefined and not undefined & set(tool.request["parameters"]) and not known:
                        known = ["the description requires a property it does not define"]
                    if not known and "#" in str(tool.request["url"]):
                        known = ["two operations share a URL, told apart by a #fragment HTTP does not send (Box)"]
                    causes = [cause[:300] for cause in causes]
                    if known:
                        report.known[known[0]] += 1
                    else:
                        report.failures.append(f"{tool.name}: {'; '.join(causes)}")
                    continue
                report.conform += 1
                report.failures += [f"{tool.name}: {p}" for p in _round_trip(tool, arguments, unmarshalled, report)]
    return report


def _werkzeug(received: Any) -> Request:
    """The request as a WSGI server's parser (werkzeug) reads it: an independent decoding of what was sent."""
    raw_path, _, query = received.path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": received.method,
        "PATH_INFO": unquote(raw_path, encoding="latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(received.body),
        "CONTENT_LENGTH": str(len(received.body)),
        "CONTENT_TYPE": received.headers.get("Content-Type", ""),
    }
    for key, value in received.headers.items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    return Request(environ)


def _swagger_values(tool: Tool, arguments: dict[str, Any], received: Any, upstream: str, report: Report) -> list[str]:
    with _werkzeug(received) as request:  # closes the files a multipart body was spooled to
        return _compare_swagger(tool, arguments, received, request, upstream, report)


def _compare_swagger(
    tool: Tool, arguments: dict[str, Any], received: Any, request: Request, upstream: str, report: Report
) -> list[str]:
    bindings = (tool.request or {}).get("parameters") or {}
    in_path = path_values(tool, upstream, received.path.partition("?")[0])
    problems: list[str] = []
    for argument, written in arguments.items():
        place = bindings[argument]
        location, name = place["in"], place.get("name")
        sent, value = _as_sent(tool, argument, written, place)
        if not sent or (value == [] and "collectionFormat" in place and location == "body"):
            continue  # (nothing to read back: left out by design)
        texts = [scalar(item) for item in value] if isinstance(value, list) else None
        if location == "path":
            actual, expected = in_path.get(name), scalar(value)
        elif location == "query":
            fmt = place.get("collectionFormat", "csv")
            if texts is None:
                actual, expected = request.args.getlist(name), [scalar(value)]
            elif fmt == "multi":
                actual, expected = request.args.getlist(name), texts
            elif any(_DELIMITERS.get(fmt, ",") in text for text in texts) or not texts:
                continue  # an element holding the delimiter: ambiguous by the format's own rules
            else:
                actual, expected = request.args.get(name, "").split(_DELIMITERS.get(fmt, ",")), texts
        elif location == "header":
            raw = request.headers.get(name)
            actual = raw.encode("latin-1").decode("utf-8") if raw is not None else None
            expected = ",".join(texts) if texts is not None else scalar(value)
        elif location == "body" and name is None and "json" not in request.content_type:
            actual, expected = received.body, value.encode() if isinstance(value, str) else json.dumps(value)
            if not isinstance(value, str):
                actual, expected = json.loads(received.body), value
        elif location == "body" and "json" in request.content_type:
            body = json.loads(received.body)
            actual, expected = (body if name is None else body.get(name)), value
        elif location == "body" and name in request.files:
            actual, expected = request.files[name].read().decode(), value
        elif location == "body":
            actual, expected = request.form.getlist(name), texts if texts is not None else [scalar(value)]
        else:
            continue
        report.values_checked += 1
        if actual != expected:
            problems.append(f"{argument} ({location}) arrived changed: {expected!r} -> {actual!r}"[:300])
    return problems


async def check_swagger(name: str, relative: str, upstream: Any, max_tools: int, count: int) -> Report:
    """Swagger 2.0 descriptions, which openapi-core does not read: the values must arrive unchanged, as an
    independent parser (werkzeug's) reads the request."""
    path = CORPUS / relative
    report = Report(name)
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = str(content.get("basePath") or "").rstrip("/")
    result = compile_openapi(
        read_documents(path)[0],
        source={"endpoint_base": upstream.url + base},
        source_document=None,
        root=path.parent,
        limits=Limits(max_parameters=10),
    )
    tools = [tool for tool in result.tools if tool.request is not None]
    report.tools = len(tools)
    step = max(1, len(tools) // max_tools) if max_tools else 1
    chosen = tools[::step][: max_tools or None]
    credentials = dict.fromkeys(content.get("securityDefinitions") or {}, "user-1:pass word")
    async with Runtime(chosen, credentials=credentials, breaker=BreakerPolicy(threshold=10**9)) as runtime:
        for tool in chosen:
            report.tried += 1
            cases = examples(normalize(tool.schema), count)
            if not cases:
                report.no_valid_example += 1
            for arguments in cases:
                upstream.received.clear()
                outcome = await runtime.invoke(Invocation(tool.name, arguments))
                if outcome.error_code == "INVALID_ARGUMENTS" and "goes in a header" in (outcome.message or ""):
                    report.refused_header += 1
                    continue
                if outcome.error_code == "INVALID_ARGUMENTS" and "segment of the upstream's path" in (
                    outcome.message or ""
                ):
                    report.refused_segment += 1  # it would reach another resource (binding._refuse_dot_segments)
                    continue
                if not outcome.ok or not upstream.received:
                    report.failures.append(f"{tool.name}: {outcome.error_code} {outcome.message}")
                    continue
                report.requests += 1
                report.conform += 1
                found = _swagger_values(tool, arguments, upstream.received[-1], upstream.url, report)
                report.failures += [f"{tool.name}: {problem}" for problem in found]
    return report
