"""Caller authentication of the tool service, over real loopback HTTP: with a caller secret, only a caller that
presents it (Bearer, or Basic with it as the password, as a Data Actions integration's Basic Auth credentials
send it) reaches a tool or the registry; probes and the scraper do not need it; the secret and what a refused
caller sent are in no answer, metric or audit line."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import ConfigurationError
from reconciler.serve.auth import SECRET_VARIABLE, CallerAuth, caller_auth
from tests.runtime.conftest import Upstream
from tests.serve.conftest import Serving
from tests.serve.test_service import check_tool

SECRET = "s3cr3t-caller-token-0123456789abcdef"
NEXT = "n3xt-caller-token-fedcba9876543210"
GUESS = "guess-caller-token-0000000000000000"
INVOCATION = {"parameters": {"sku": "A-1"}, "user_id": "U-1"}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def auth(*secrets: str) -> CallerAuth:
    found = caller_auth({SECRET_VARIABLE: ",".join(secrets)})
    assert found is not None
    return found


def call(url: str, authorization: str | None, path: str = "/tools/check_inventory") -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return httpx.post(url + path, json=INVOCATION, headers=headers)


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "needs its caller secret"),
        (f"Bearer {GUESS}", "does not carry"),
        (f"Bearer {SECRET[:-1]}", "does not carry"),
        (f"Bearer {SECRET}x", "does not carry"),
        (f"Token {SECRET}", "does not carry"),
        (SECRET, "does not carry"),
        (basic(SECRET, ""), "does not carry"),  # the secret is the password, not the user name
        (basic("genesys", GUESS), "does not carry"),
        ("Basic " + SECRET, "does not carry"),  # not base64 of user:password
        ("Bearer", "does not carry"),
    ],
)
def test_a_caller_without_the_secret_is_refused_with_401_and_nothing_runs(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path, authorization: str | None, message: str
) -> None:
    audit = tmp_path / "audit.jsonl"
    service = serving([check_tool(upstream)], auth=auth(SECRET), audit=audit)

    answer = call(service.url, authorization)

    assert answer.status_code == 401
    assert answer.json()["status"] == "error"
    assert answer.json()["error_code"] == "UNAUTHORIZED"
    assert message in answer.json()["message"]
    assert answer.headers.get_list("www-authenticate") == [
        'Bearer realm="reconciler serve"',
        'Basic realm="reconciler serve", charset="UTF-8"',
    ]
    assert upstream.received == []
    assert not audit.exists() or audit.read_text() == ""  # nothing was invoked: no invocation to audit
    for text in (answer.text, str(answer.headers)):
        assert SECRET not in text and GUESS not in text


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {SECRET}", f"bearer {SECRET}", f"Bearer  {SECRET}", basic("genesys", SECRET), basic("", SECRET)],
)
def test_a_caller_presenting_the_secret_is_served(
    serving: Callable[..., Serving], upstream: Upstream, authorization: str
) -> None:
    upstream.answers = [(200, {"stock": 3})]
    service = serving([check_tool(upstream)], auth=auth(SECRET))

    answer = call(service.url, authorization)

    assert answer.status_code == 200, answer.text
    assert answer.json()["output"] == {"stock": 3}
    assert "authorization" not in {name.lower() for name in upstream.received[0].headers}  # not passed on


def test_every_path_but_the_probes_and_the_scraper_needs_the_secret(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    service = serving([check_tool(upstream)], auth=auth(SECRET))
    bearer = {"Authorization": f"Bearer {SECRET}"}
    with httpx.Client(base_url=service.url) as client:
        registry = client.get("/api/v1/tools/registry")
        unknown = client.get("/no/such/path")
        unknown_tool = client.post("/tools/nope", json=INVOCATION)
        open_answers = [client.get(path) for path in ("/healthz", "/readyz", "/metrics")]
        listed = client.get("/api/v1/tools/registry", headers=bearer)

    assert (registry.status_code, unknown.status_code, unknown_tool.status_code) == (401, 401, 401)
    assert "check_inventory" not in registry.text  # the names and parameters of the tools are not given away
    assert [answer.status_code for answer in open_answers] == [200, 200, 200]
    assert [tool["name"] for tool in listed.json()["tools"]] == ["check_inventory"]


def test_refusals_are_counted_and_the_secret_is_in_no_metric_or_audit_line(
    serving: Callable[..., Serving], upstream: Upstream, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    service = serving([check_tool(upstream)], auth=auth(SECRET), audit=audit)
    refused = [call(service.url, None), call(service.url, f"Bearer {GUESS}")]
    served = call(service.url, f"Bearer {SECRET}")

    metrics = httpx.get(service.url + "/metrics").text

    assert [answer.status_code for answer in refused] == [401, 401] and served.status_code == 200
    counted = {line.split("{")[0]: line.rsplit(" ", 1)[1] for line in metrics.splitlines() if "_total{" in line}
    assert counted["reconciler_unauthorized_requests_total"] == "2.0"
    assert counted["genesys_tool_invocation_success_total"] == "1.0"
    assert "genesys_tool_invocation_error_total{" not in metrics  # a refusal is not a failed invocation
    [line] = audit.read_text().splitlines()  # the one call that ran
    assert json.loads(line)["outcome"] == "success"
    for text in (metrics, audit.read_text()):
        assert SECRET not in text and GUESS not in text


def test_during_a_rotation_both_secrets_are_accepted(serving: Callable[..., Serving], upstream: Upstream) -> None:
    service = serving([check_tool(upstream)], auth=auth(SECRET, NEXT))

    answers = [call(service.url, f"Bearer {SECRET}"), call(service.url, basic("genesys", NEXT))]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert call(service.url, f"Bearer {SECRET},{NEXT}").status_code == 401


def test_a_refused_call_does_not_spoil_the_connection_for_the_next(
    serving: Callable[..., Serving], upstream: Upstream
) -> None:
    service = serving([check_tool(upstream)], auth=auth(SECRET))
    with httpx.Client(base_url=service.url) as client:
        refused = client.post("/tools/check_inventory", content=b"x" * 100_000)  # a body the service never reads
        served = client.post("/tools/check_inventory", json=INVOCATION, headers={"Authorization": f"Bearer {SECRET}"})
    assert (refused.status_code, served.status_code) == (401, 200)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("short-one", "shorter than 16 characters"),
        (f"{SECRET},", "secret 2 of 2) is empty"),
        (f"{SECRET} with-a-space-in-it", "printable ASCII"),
        (f"{SECRET}ü", "printable ASCII"),
    ],
)
def test_a_secret_that_cannot_keep_callers_out_is_refused_naming_the_variable_not_the_value(
    value: str, said: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        caller_auth({SECRET_VARIABLE: value})
    assert SECRET_VARIABLE in str(raised.value) and said in str(raised.value)
    assert value not in str(raised.value) and SECRET not in str(raised.value)


def test_no_secret_set_means_no_authentication() -> None:
    assert caller_auth({}) is None
    assert caller_auth({SECRET_VARIABLE: "  "}) is None


_TOKEN = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","), min_size=16)


@settings(deadline=None)  # a law, not a speed test: a loaded CI machine must not fail it
@given(secret=_TOKEN, presented=st.text(), user=st.text().filter(lambda u: ":" not in u))
def test_a_header_is_admitted_exactly_when_it_carries_the_secret(secret: str, presented: str, user: str) -> None:
    allowed = auth(secret)
    assert allowed.admits(f"Bearer {secret}".encode())
    assert allowed.admits(basic(user, secret).encode())
    assert allowed.admits(f"Bearer {presented}".encode()) is (presented.encode().strip() == secret.encode())
    assert allowed.admits(basic(user, presented).encode()) is (presented == secret)
    assert not allowed.admits(secret.encode())  # no scheme


@pytest.mark.parametrize(
    "target",
    [
        "/healthz/../tools/check_inventory",
        "/metrics/../tools/check_inventory",
        "//tools/check_inventory",
        "/./tools/check_inventory",
        "/tools/check_inventory?/healthz",
        "/tools/check_inventory#/metrics",
        "/healthz%2F..%2Ftools%2Fcheck_inventory",
        "/HEALTHZ",
        "/healthz/",
        "http://x/tools/check_inventory",
    ],
)
def test_no_spelling_of_a_path_reaches_a_tool_through_the_open_ones(
    serving: Callable[..., Serving], upstream: Upstream, target: str
) -> None:
    service = serving([check_tool(upstream)], auth=auth(SECRET))
    host, port = service.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", target, body=json.dumps(INVOCATION), headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        status = answer.status
        answer.read()
    finally:
        connection.close()
    assert status == 401
    assert upstream.received == []
