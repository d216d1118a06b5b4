"""The gateway client over loopback: the Tools API client's auth, 429 waits and 5xx backoff apply to it."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from conversation_helpers import FakeTime

from reconciler.api import ApiClient, Credentials, Target
from reconciler.conversation import GATEWAY_PATH, SCRIPT_HEADER, GatewayClient
from reconciler.emulator import RunningEmulator
from reconciler.errors import AuthenticationError, InvalidInputError

Start = Callable[..., RunningEmulator]
GatewayOn = Callable[..., GatewayClient]
USER = [{"role": "user", "content": "Where is my order?"}]
SCRIPT = [{"tool_calls": [{"name": "t", "arguments": {"order_id": "9"}}, {"name": "u", "arguments": {}}]}]


def test_a_scripted_answer_becomes_a_completion_with_tool_calls(start: Start, gateway_on: GatewayOn) -> None:
    running = start()
    gateway = gateway_on(running)
    completion = gateway.complete(USER, [], script=SCRIPT)
    assert completion.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in completion.tool_calls] == [("t", '{"order_id": "9"}'), ("u", "{}")]
    assert completion.assistant_message()["tool_calls"][0]["id"] == completion.tool_calls[0].id


def test_429s_are_waited_out_for_their_retry_after(start: Start, gateway_on: GatewayOn) -> None:
    running = start()
    running.faults.inject("429", times=2, methods=("POST",))
    time = FakeTime()
    gateway = gateway_on(running, time=time)
    completion = gateway.complete(USER, [], script=[{"content": "done"}])
    stats = gateway.api.stats
    assert completion.content == "done"
    assert stats.responses_429 == 2
    assert time.sleeps == [1.0, 1.0]  # the emulator's Retry-After, not a backoff of our own


def test_a_5xx_is_retried_with_backoff(start: Start, gateway_on: GatewayOn) -> None:
    running = start()
    running.faults.inject("503", times=2, methods=("POST",))
    time = FakeTime()
    gateway = gateway_on(running, time=time)
    completion = gateway.complete(USER, [], script=[{"content": "done"}])
    assert completion.content == "done"
    assert time.sleeps == [0.5, 1.0]  # a completion changes nothing, so a POST to it is safe to send again


def test_client_credentials_get_a_token_and_a_token_it_did_not_issue_is_refused(
    start: Start, gateway_on: GatewayOn
) -> None:
    running = start(client_id="client", client_secret="s3cret-value")
    good = gateway_on(running, credentials=Credentials(client_id="client", client_secret="s3cret-value"))
    assert good.complete(USER, [], script=[{"content": "hello"}]).content == "hello"
    assert running.tokens.issued == 1

    bad = gateway_on(running, credentials=Credentials(access_token="not-issued-here"))
    with pytest.raises(AuthenticationError) as caught:
        bad.complete(USER, [])
    assert "401" in str(caught.value)
    assert "not-issued-here" not in str(caught.value)


def test_a_refused_request_says_the_gateway_refused_it(start: Start, gateway_on: GatewayOn) -> None:
    running = start()
    gateway = gateway_on(running)
    with pytest.raises(InvalidInputError) as caught:
        gateway.complete([{"role": "tool", "tool_call_id": "x", "content": "{}"}], [])
    assert "the LLM gateway refused" in str(caught.value)
    assert "answers no earlier tool call" in str(caught.value)


def test_the_script_goes_only_to_a_gateway_on_loopback() -> None:
    """An org's gateway never sees a test's script: it is for the emulator, which runs on this machine."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": "hi"}}]})

    for url, sent in [
        ("https://api.mypurecloud.de", False),
        ("http://127.0.0.1:9", True),
        ("http://localhost:9", True),
    ]:
        target = Target(api_url=url, login_url=url, description=url, credentials=Credentials(access_token="t0k3n"))
        with ApiClient(target, transport=httpx.MockTransport(answer)) as api:
            assert GatewayClient(api).complete(USER, [], script=[{"content": "x"}]).content == "hi"
        assert (SCRIPT_HEADER.lower() in seen[-1].headers) is sent
        assert seen[-1].url.path == GATEWAY_PATH
        assert json.loads(seen[-1].content)["model"] == "default"
