"""Empty values in a Data Action's request: what the contract lets through and what the templates send, executed
by the emulator (Velocity, as the platform renders it) against a loopback upstream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.compile.data_actions import action_input
from reconciler.config import Config
from reconciler.desired import build_desired_state
from reconciler.emulator.execute import execute
from tests.emulator.upstream_helpers import Upstream, running_upstream

OPENAPI = 'openapi: 3.0.3\ninfo: {title: t, version: "1"}\nservers: [{url: "%s"}]\n'
SWAGGER = 'swagger: "2.0"\ninfo: {title: t, version: "1"}\nhost: "%s"\nschemes: [http]\n'
SEARCH_30 = OPENAPI + (
    "paths:\n  /search:\n    get:\n      operationId: search\n      parameters:\n"
    "        - {name: q, in: query, schema: {type: string}}\n"
    "        - {name: flag, in: query, allowEmptyValue: true, schema: {type: string}}\n"
    "        - {name: term, in: query, required: true, allowEmptyValue: true, schema: {type: string}}\n"
    '      responses: {"200": {description: ok}}\n'
)
SEARCH_20 = SWAGGER + (
    "paths:\n  /search:\n    get:\n      operationId: search\n      parameters:\n"
    "        - {name: q, in: query, type: string}\n"
    "        - {name: flag, in: query, allowEmptyValue: true, type: string}\n"
    "        - {name: term, in: query, required: true, allowEmptyValue: true, type: string}\n"
    '      responses: {"200": {description: ok}}\n'
)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with running_upstream() as service:
        yield service


def _action(tmp_path: Path, text: str, upstream: Upstream, name: str) -> dict[str, Any]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "tools.d").mkdir(exist_ok=True)
    host = upstream.url.removeprefix("http://")
    (tmp_path / "tools.d" / "api.yaml").write_text(text % (host if text.startswith("swagger") else upstream.url))
    state = build_desired_state(tmp_path / "tools.d", Config(root=tmp_path), {})
    assert state.errors == []
    tool = next(tool for tool in state.tools if tool.name == name)
    return action_input(tool, category="c", integration_id="i")


@pytest.mark.parametrize("text", [SEARCH_30, SEARCH_20], ids=["3.0", "2.0"])
def test_a_query_value_the_description_allows_empty_is_allowed_and_sent_empty(
    tmp_path: Path, upstream: Upstream, text: str
) -> None:
    """Every query string got `minLength: 1` in the action's contract, `allowEmptyValue: true` or not: a flow that
    sent `flag=` as the description allows was refused (400 invalid.schema) before anything was sent."""
    action = _action(tmp_path, text, upstream, "search")
    inputs = action["contract"]["input"]["inputSchema"]["properties"]
    assert "minLength" not in inputs["flag"] and "minLength" not in inputs["term"]
    assert inputs["q"]["minLength"] == 1  # no empty value unless the description allows one

    status, error = execute(action, {"flag": "", "term": ""})

    assert status == 200, error
    assert [received.target for received in upstream.received] == ["/search?term=&flag="]


@pytest.mark.parametrize("text", [SEARCH_30, SEARCH_20], ids=["3.0", "2.0"])
def test_a_query_value_the_description_does_not_allow_empty_is_refused_empty_and_nothing_is_sent(
    tmp_path: Path, upstream: Upstream, text: str
) -> None:
    action = _action(tmp_path, text, upstream, "search")
    status, error = execute(action, {"q": "", "term": "t"})
    assert status == 400 and error["code"] == "invalid.schema", error
    assert upstream.received == []
    status, _ = execute(action, {"q": "x", "term": "t"})
    assert status == 200
    assert [received.target for received in upstream.received] == ["/search?term=t&q=x"]


FORM_20 = SWAGGER + (
    "paths:\n  /notes:\n    post:\n      operationId: addNote\n      consumes: [application/x-www-form-urlencoded]\n"
    "      parameters:\n"
    "        - {name: title, in: formData, type: string}\n"
    "        - {name: flag, in: formData, allowEmptyValue: true, type: string}\n"
    "        - {name: body, in: formData, required: true, type: string}\n"
    '      responses: {"200": {description: ok}}\n'
)


def test_a_swagger_form_field_the_description_allows_empty_is_sent_empty_and_another_is_left_out(
    tmp_path: Path, upstream: Upstream
) -> None:
    """Swagger 2.0's `allowEmptyValue` holds for `formData` as for `query`; `reconciler serve` sends the same."""
    action = _action(tmp_path, FORM_20, upstream, "addNote")

    status, error = execute(action, {"title": "", "flag": "", "body": ""})

    assert status == 200, error
    [received] = upstream.received
    assert received.body == b"body=&flag="
