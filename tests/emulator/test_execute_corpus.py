"""No injection: every action compiled from the shared corpus, executed through the emulator with generated
inputs (hostile characters and non-ASCII included), sends a request its original description accepts.

For each OpenAPI 3 description (openapi-core reads no Swagger 2.0), a sample of its actions (every one with
RECONCILER_DA_CORPUS_TOOLS=0) runs with a few inputs each. An input the contract refuses must be answered 400
with nothing sent; any other run must reach the loopback upstream with a request that openapi-core's parameter
and body validators accept (security is not the templates' concern: credentials belong to the integration).
`pytest -s` prints the counts per description.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from inputs_strategy import inputs
from openapi_core import Config, OpenAPI
from openapi_core.unmarshalling.request.unmarshallers import (
    V30RequestBodyUnmarshaller,
    V30RequestParametersUnmarshaller,
    V31RequestBodyUnmarshaller,
    V31RequestParametersUnmarshaller,
)
from upstream_helpers import Upstream

from reconciler.compile.data_actions import compile_action
from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.emulator.execute import execute
from reconciler.load import read_documents
from reconciler.model import Tool
from tests.openapi_requests import KNOWN_FORMATS, CapturedRequest, formats_and_media, path_values, same, utf8_headers

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "openapi"
SPECS = [
    "oai-examples/v3.0/petstore-expanded.yaml",
    "oai-examples/v3.0/uspto.yaml",
    "oai-examples/v3.0/link-example.yaml",
    "twilio/twilio_api_v2010.json",
    "box/openapi.json",
    "discord/openapi.json",
    "openai/openapi.yaml",
    "digitalocean/specification/DigitalOcean-public.v2.yaml",
]
MAX_TOOLS = int(os.environ.get("RECONCILER_DA_CORPUS_TOOLS", "12"))
EXAMPLES = 3
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.slow,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}"),
]


@dataclass
class Report:
    spec: str
    actions: int = 0
    not_actions: int = 0
    tried: int = 0
    sent: int = 0
    accepted: int = 0
    refused_by_contract: int = 0
    values_checked: int = 0
    failures: list[str] = field(default_factory=list)
    quirks: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        return (
            f"{self.spec}: {self.actions} actions ({self.not_actions} tools cannot be one), {self.tried} executed, "
            f"{self.sent} requests sent, {self.accepted} accepted by openapi-core, {self.values_checked} input values "
            f"compared with what arrived, {self.refused_by_contract} inputs "
            f"refused by the contract (nothing sent), {len(self.failures)} failures"
            + "".join(f"; {count} not checked: {quirk}" for quirk, count in sorted(self.quirks.items()))
        )


def spec_for(path: Path, base: str) -> tuple[dict[str, Any], str]:
    """The description with every server (its own, a path item's, an operation's) moved to `base`, keeping
    its path; and the path the description's first server starts with."""
    text = path.read_text(encoding="utf-8")
    spec = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)

    def moved(servers: Any) -> list[dict[str, str]]:
        server = (servers or [{"url": "/"}])[0]
        url = server.get("url", "/")
        for name, variable in (server.get("variables") or {}).items():
            url = url.replace("{" + name + "}", str(variable.get("default", "")))
        return [{"url": base + urlsplit(url).path.rstrip("/")}]

    spec["servers"] = moved(spec.get("servers"))
    for item in (spec.get("paths") or {}).values():
        if isinstance(item, dict):
            for holder in (item, *(op for op in item.values() if isinstance(op, dict))):
                if "servers" in holder:
                    holder["servers"] = moved(holder["servers"])
    return spec, spec["servers"][0]["url"].removeprefix(base)


READ_ONLY_PARAMETERS = {"sshKeys_get", "sshKeys_update", "sshKeys_delete"}
"""DigitalOcean marks both schemas of `ssh_key_identifier` readOnly: openapi-core refuses every value in a request."""


def description_quirk(tool: Tool, value: Any, errors: list[Exception]) -> str | None:
    """Why openapi-core's verdict on a request says nothing about the templates, when the description is at fault."""
    if not errors:
        return None
    if "#" in str((tool.request or {}).get("url", "")):
        return "the description's path holds a fragment (Box's `schema#add`), which HTTP never sends"
    if tool.name in READ_ONLY_PARAMETERS:
        return "the description marks a path parameter readOnly (DigitalOcean's ssh_key_identifier)"
    causes = [repr(getattr(error, "__cause__", None) or error) for error in errors]
    if all(cause.startswith("ServerNotFound") for cause in causes):
        return "the operation's own server is in a referenced file, which this test cannot point at loopback"
    if all("could not be resolved" in cause for cause in causes):
        return "openapi-core cannot resolve a reference of the description (OpenAI's discriminator)"
    if "null" not in json.dumps(value) and all("None is not of type" in cause for cause in causes):
        return "openapi-core fills a `default: null` that the schema does not allow (OpenAI)"
    declared = set((tool.request or {}).get("parameters") or {})
    missing = [re.search(r"'([^']+)' is a required property", cause) for cause in causes]
    if causes and all(m and m.group(1) not in declared for m in missing):
        return "the description requires a body property it does not declare (e.g. Box's oauth2/revoke)"
    return None


def formats_written(folder: Path) -> set[str]:
    """The `format`s written in the description's files ($refs reach files the loaded dict does not hold)."""
    found: set[str] = set()
    for file in [*folder.rglob("*.yml"), *folder.rglob("*.yaml")]:
        found.update(re.findall(r"^\s*format:\s*['\"]?([\w.-]+)", file.read_text(encoding="utf-8"), re.MULTILINE))
    return found


def examples(schema: dict[str, Any]) -> list[Any]:
    found: list[Any] = []

    @settings(
        max_examples=EXAMPLES * 4,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs(schema))
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    valid = [v for v in found if jsonschema.Draft4Validator(schema).is_valid(v)]
    invalid = [v for v in found if v not in valid]
    return valid[:EXAMPLES] + invalid[:1]


def check(relative: str, upstream: Upstream) -> Report:
    path = CORPUS / relative
    report = Report(relative)
    spec, prefix = spec_for(path, upstream.url)
    formats, media = formats_and_media(spec)
    formats |= formats_written(path.parent)
    options: dict[str, Any] = {
        # formats openapi-core does not know (Discord's `snowflake`) are annotations, as JSON Schema says
        "extra_format_validators": {name: lambda value: True for name in formats - KNOWN_FORMATS},
        "extra_format_unmarshallers": {name: lambda value: value for name in formats - KNOWN_FORMATS},
        "extra_media_type_deserializers": {
            name: json.loads for name in media if "json" in name and name != "application/json"
        },
    }
    openapi = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None), base_uri=path.resolve().as_uri())
    three_one = str(spec.get("openapi", "")).startswith("3.1")
    checkers = [
        cls(openapi.spec, **options)
        for cls in (
            (V31RequestParametersUnmarshaller, V31RequestBodyUnmarshaller)
            if three_one
            else (V30RequestParametersUnmarshaller, V30RequestBodyUnmarshaller)
        )
    ]
    result = compile_openapi(
        read_documents(path)[0],
        source={"endpoint_base": upstream.url + prefix},
        source_document=None,
        root=path.parent,
        limits=Limits(),
    )
    actions = []
    for tool in result.tools:
        compiled = compile_action(tool, category="Corpus", integration_id="i")
        if compiled.body is None:
            report.not_actions += 1
        else:
            actions.append((tool, compiled.body))
    report.actions = len(actions)
    step = max(1, len(actions) // MAX_TOOLS) if MAX_TOOLS else 1
    for tool, action in actions[::step][: MAX_TOOLS or None]:
        report.tried += 1
        schema = action["contract"]["input"]["inputSchema"]
        for value in examples(schema):
            upstream.received.clear()
            status, answer = execute(action, value)
            if not upstream.received:
                if status == 400 and answer.get("code") == "invalid.schema":
                    report.refused_by_contract += 1
                else:
                    report.failures.append(f"{tool.name}: nothing sent, {status} {answer}"[:400])
                continue
            if not jsonschema.Draft4Validator(schema).is_valid(value):
                report.failures.append(f"{tool.name}: an input the contract refuses was sent: {value!r}"[:400])
                continue
            report.sent += 1
            (received,) = upstream.received
            request = CapturedRequest(
                upstream.url,
                received.method,
                received.target,
                utf8_headers(received.headers),
                path_values(tool, upstream.url, received.target.partition("?")[0]),
                received.body,
            )
            results = [checker.unmarshal(request) for checker in checkers]
            errors = [error for result in results for error in result.errors]
            quirk = description_quirk(tool, value, errors)
            if quirk:
                report.quirks[quirk] += 1
                continue
            if errors:
                causes = "; ".join(repr(getattr(e, "__cause__", None) or e)[:300] for e in errors)
                report.failures.append(f"{tool.name}: {received.method} {received.target[:200]}: {causes}")
                continue
            report.accepted += 1
            sent_body = results[1].body
            if "json" in request.content_type:  # as sent: openapi-core's unmarshalling adds the schema's defaults
                sent_body = json.loads(received.body or b"null")
            changed = round_trip(tool, value, results[0].parameters, sent_body, report)
            report.failures += [f"{tool.name}: {problem}"[:400] for problem in changed]
    return report


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def round_trip(tool: Tool, value: dict[str, Any], parameters: Any, body: Any, report: Report) -> list[str]:
    """Each input's value as openapi-core read it from the request: it must arrive unchanged."""
    problems = []
    bindings = (tool.request or {}).get("parameters") or {}
    for name, written in value.items():
        given_value = written
        place = bindings.get(name) or {}
        location, original = place.get("in"), place.get("name")
        if location == "body":
            given_value = without_nulls(given_value)  # a null counts as not given (velocity.py)
            if given_value is None:
                continue
            actual = body if original is None else (body.get(original) if isinstance(body, dict) else None)
            actual = without_nulls(actual)  # ${input.rawRequest} keeps them; a field-by-field body leaves them out
        elif location in ("path", "query", "header", "cookie"):
            if isinstance(given_value, list) and any(
                isinstance(item, str) and any(c in item for c in ", |\t") for item in given_value
            ):
                continue  # an element holding the style's delimiter: ambiguous by OpenAPI's own rules
            if location == "header" and isinstance(given_value, str) and given_value != given_value.strip(" \t"):
                continue  # HTTP trims a header value's surrounding whitespace
            actual = (getattr(parameters, location, None) or {}).get(original)
        else:
            continue
        verdict = same(given_value, actual)
        if verdict is None:
            continue
        report.values_checked += 1
        if not verdict:
            problems.append(f"{name} ({location}) arrived changed: {given_value!r} -> {actual!r}")
    return problems


@pytest.mark.parametrize("relative", SPECS)
def test_executed_actions_send_requests_their_description_accepts(relative: str, upstream: Upstream) -> None:
    report = check(relative, upstream)

    print(report.line())
    assert report.failures == []
    assert report.accepted > 0
