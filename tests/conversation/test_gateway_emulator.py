"""The emulated LLM gateway, driven by the official `openai` client over loopback: any OpenAI-compatible
client can hold a scripted conversation with it, and it checks tokens like the rest of the emulator."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.conversation import GATEWAY_PATH, SCRIPT_HEADER
from reconciler.emulator import RunningEmulator
from reconciler.emulator.gateway import GatewayRequestError, complete

Start = Callable[..., RunningEmulator]
OpenClient = Callable[[RunningEmulator, str], openai.OpenAI]
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_order_status",
            "description": "Looks up an order.",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
]
SCRIPT = [
    {"tool_calls": [{"name": "get_order_status", "arguments": {"order_id": "123"}}]},
    {"content": "Your order is {{tool:get_order_status}}."},
]


def token_for(running: RunningEmulator) -> str:
    answer = httpx.post(
        f"{running.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=("client", "s3cret-value")
    )
    token: str = answer.json()["access_token"]
    return token


@pytest.fixture
def client_for() -> Iterator[OpenClient]:
    """OpenAI clients of an emulator's gateway, closed at the end of the test. Left open, a client's pooled
    connection was freed by the garbage collector at some later test, its socket's ResourceWarning raised there
    (the openai client and its resources refer to each other: only a full collection frees them)."""
    with contextlib.ExitStack() as stack:

        def _open(running: RunningEmulator, api_key: str) -> openai.OpenAI:
            base = running.url + GATEWAY_PATH.removesuffix("/chat/completions")
            return stack.enter_context(openai.OpenAI(base_url=base, api_key=api_key, max_retries=0, timeout=10))

        yield _open


def test_the_openai_client_holds_a_scripted_conversation_with_tool_calls(start: Start, client_for: OpenClient) -> None:
    running = start(client_id="client", client_secret="s3cret-value")
    client = client_for(running, token_for(running))
    headers = {SCRIPT_HEADER: json.dumps(SCRIPT)}
    messages: list[Any] = [{"role": "user", "content": "Where is my order 123?"}]

    first = client.chat.completions.create(
        model="any-model-name",
        messages=messages,
        tools=TOOLS,
        extra_headers=headers,
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert first.model == "any-model-name"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.function.name == "get_order_status"
    assert json.loads(call.function.arguments) == {"order_id": "123"}

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps({"status": "shipped"})})
    second = client.chat.completions.create(
        model="any-model-name",
        messages=messages,
        tools=TOOLS,
        extra_headers=headers,
    )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == 'Your order is {"status": "shipped"}.'
    assert second.choices[0].message.tool_calls is None


def test_without_a_script_the_model_answers_plainly_without_tools(start: Start, client_for: OpenClient) -> None:
    running = start()
    client = client_for(running, "anything")
    answer = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "hello there"}],
        tools=TOOLS,
    )
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.tool_calls is None
    assert "hello there" in (answer.choices[0].message.content or "")


def test_a_token_the_emulator_did_not_issue_is_refused(start: Start, client_for: OpenClient) -> None:
    running = start(client_id="client", client_secret="s3cret-value")
    client = client_for(running, "a-token-from-elsewhere")
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 401


def test_a_tool_result_that_answers_no_call_is_a_bad_request(start: Start, client_for: OpenClient) -> None:
    running = start()
    client = client_for(running, "anything")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="m",
            messages=[
                {"role": "user", "content": "hi"},
                {"role": "tool", "tool_call_id": "call_nowhere", "content": "{}"},
            ],
        )
    assert "call_nowhere" in str(caught.value)


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ("not json", "not valid JSON"),
        (json.dumps([{"say": "hi"}]), "must be an object with `content` or `tool_calls`"),
        (json.dumps([{"tool_calls": [{"name": "x", "arguments": "[1]"}]}]), "arguments a JSON object"),
    ],
)
def test_a_broken_script_is_a_bad_request_naming_the_header(start: Start, script: str, said: str) -> None:
    running = start()
    answer = httpx.post(
        running.url + GATEWAY_PATH,
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        headers={SCRIPT_HEADER: script},
    )
    assert answer.status_code == 400
    assert said in answer.json()["error"]["message"]
    assert answer.json()["error"]["param"] == SCRIPT_HEADER


def test_the_step_follows_the_assistant_messages_of_the_turn_and_repeat_holds_the_last(start: Start) -> None:
    running = start()
    script = [{"content": "first"}, {"tool_calls": [{"name": "t", "arguments": {}}], "repeat": True}]

    def ask(messages: list[dict[str, Any]]) -> dict[str, Any]:
        answer = httpx.post(
            running.url + GATEWAY_PATH,
            json={"model": "m", "messages": messages},
            headers={SCRIPT_HEADER: json.dumps(script)},
        )
        assert answer.status_code == 200, answer.text
        message: dict[str, Any] = answer.json()["choices"][0]["message"]
        return message

    history: list[dict[str, Any]] = [{"role": "user", "content": "one"}]
    assert ask(history)["content"] == "first"
    history.append({"role": "assistant", "content": "first"})
    for _ in range(3):  # the repeating step answers every later request of the turn
        message = ask(history)
        assert message["tool_calls"][0]["function"]["name"] == "t"
        history.append(message)
        history.append({"role": "tool", "tool_call_id": message["tool_calls"][0]["id"], "content": "{}"})
    history.append({"role": "user", "content": "two"})  # a new user message starts the script again
    assert ask(history)["content"] == "first"
    ids = [m["tool_calls"][0]["id"] for m in history if m.get("tool_calls")]
    assert len(set(ids)) == 3


def test_a_script_past_its_end_says_so(start: Start) -> None:
    running = start()
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "one"}]
    answer = httpx.post(
        running.url + GATEWAY_PATH,
        json={"model": "m", "messages": messages},
        headers={SCRIPT_HEADER: json.dumps([{"content": "one"}])},
    )
    assert "the script has no step 2" in answer.json()["choices"][0]["message"]["content"]


KEYS = [
    "model",
    "messages",
    "role",
    "content",
    "tool_calls",
    "tool_call_id",
    "function",
    "name",
    "arguments",
    "id",
    "type",
    "tools",
    "stream",
    "repeat",
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner),
    max_leaves=20,
)


CALL = st.fixed_dictionaries(
    {"id": st.text(max_size=2) | JSON, "type": st.just("function")},
    optional={"function": st.fixed_dictionaries({}, optional={"name": st.text(max_size=3) | JSON, "arguments": JSON})},
)
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "tool", "robot"])},
    optional={
        "content": st.text(max_size=4) | JSON,
        "tool_calls": st.lists(CALL, max_size=2) | JSON,
        "tool_call_id": st.text(max_size=2) | JSON,
    },
)
BODY = st.fixed_dictionaries(
    {"model": st.text(min_size=1, max_size=3) | JSON, "messages": st.lists(MESSAGE, min_size=1, max_size=4) | JSON},
    optional={"tools": JSON, "stream": st.booleans()},
)


def answered_or_refused(body: Any, script: str | None) -> None:
    try:
        answer = complete(body, script)
    except GatewayRequestError as refused:
        assert refused.message
    else:
        json.dumps(answer)
        assert answer["choices"][0]["finish_reason"] in ("stop", "tool_calls")


@settings(max_examples=500, deadline=None)
@given(body=BODY | JSON, script=st.sampled_from([None, json.dumps(SCRIPT)]))
def test_any_body_is_answered_or_refused_as_a_bad_request(body: Any, script: str | None) -> None:
    """The emulated gateway never fails on what a client sends: it answers, or refuses with a message."""
    answered_or_refused(body, script)


@settings(max_examples=300, deadline=None)
@given(script=JSON.map(json.dumps) | st.lists(JSON).map(json.dumps) | st.text(max_size=20))
def test_any_script_is_followed_or_refused_as_a_bad_request(script: str) -> None:
    answered_or_refused({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, script)
