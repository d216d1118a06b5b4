"""The loop against the emulated gateway over real HTTP: parallel calls, results fed back, the turn bound."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from conversation_helpers import tool

from reconciler.conversation import Conversation, GatewayClient, Invocation, Outcome, run_turn, transcript
from reconciler.emulator import RunningEmulator

Start = Callable[..., RunningEmulator]
GatewayOn = Callable[..., GatewayClient]


class Recorder:
    """A tool runner that records invocations; `together` makes each call wait until that many have started,
    so a test finishes only when the calls of one answer really run at the same time."""

    def __init__(self, answers: dict[str, Outcome] | None = None, together: int = 1) -> None:
        self.answers = answers or {}
        self.invocations: list[Invocation] = []
        self._together = together
        self._started = 0
        self._all_started: asyncio.Event | None = None

    async def invoke(self, invocation: Invocation) -> Outcome:
        self.invocations.append(invocation)
        if self._all_started is None:
            self._all_started = asyncio.Event()
        self._started += 1
        if self._started >= self._together:
            self._all_started.set()
        await asyncio.wait_for(self._all_started.wait(), timeout=5)
        return self.answers.get(invocation.tool_name, Outcome("success", output={"ok": invocation.tool_name}))


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_the_calls_of_one_answer_run_concurrently_and_return_in_order_with_their_ids(
    start: Start, gateway_on: GatewayOn
) -> None:
    running = start()
    gateway = gateway_on(running)
    conversation = Conversation([tool("a"), tool("b")], state={"user_id": "USR-1"})
    script = [
        {"tool_calls": [{"name": "a", "arguments": {"order_id": "1"}}, {"name": "b", "arguments": {"order_id": "2"}}]},
        {"content": "a said {{tool:a}} and b said {{tool:b}}"},
    ]
    runner = Recorder(together=2)
    result = run(run_turn(conversation, "both please", gateway=gateway, runner=runner, script=script))

    assert result.stop_reason == "answered"
    assert result.model_calls == 2
    assert result.reply == 'a said {"ok": "a"} and b said {"ok": "b"}'
    assert [(r.name, r.arguments, r.status) for r in result.tool_calls] == [
        ("a", {"order_id": "1"}, "success"),
        ("b", {"order_id": "2"}, "success"),
    ]
    answered = [m for m in conversation.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in answered] == [r.id for r in result.tool_calls]
    assert runner.invocations[0].user_id == "USR-1"
    assert runner.invocations[0].conversation is not None
    assert runner.invocations[0].conversation["id"] == conversation.conversation_id


def test_the_model_is_offered_the_tools_without_their_context_parameters(start: Start, gateway_on: GatewayOn) -> None:
    running = start()
    gateway = gateway_on(running)
    conversation = Conversation([tool("a", context={"customer_id": "conversation.user_id"})])
    assert conversation.functions[0]["function"]["parameters"]["properties"].keys() == {"order_id"}
    run(run_turn(conversation, "hi", gateway=gateway, runner=Recorder(), script=[{"content": "hello"}]))


def test_a_failing_tool_is_fed_back_as_an_error_result(start: Start, gateway_on: GatewayOn) -> None:
    running = start()
    gateway = gateway_on(running)
    conversation = Conversation([tool("a")])
    failing = Outcome("error", error_code="UPSTREAM_ERROR", message="upstream answered 502", upstream_status=502)
    script = [{"tool_calls": [{"name": "a", "arguments": {}}]}, {"content": "the tool said {{tool:a}}"}]
    result = run(run_turn(conversation, "go", gateway=gateway, runner=Recorder({"a": failing}), script=script))
    assert result.stop_reason == "answered"
    assert result.tool_calls[0].status == "error"
    fed_back = json.loads(result.reply.removeprefix("the tool said "))  # type: ignore[union-attr]
    assert fed_back == {"error": {"code": "UPSTREAM_ERROR", "message": "upstream answered 502"}}


def test_a_runner_that_raises_is_fed_back_too_and_arguments_that_are_not_an_object_never_reach_it(
    start: Start, gateway_on: GatewayOn
) -> None:
    class Broken:
        calls = 0

        async def invoke(self, invocation: Invocation) -> Outcome:
            Broken.calls += 1
            raise RuntimeError("boom")

    running = start()
    gateway = gateway_on(running)
    conversation = Conversation([tool("a")])
    script = [{"tool_calls": [{"name": "a", "arguments": {}}]}, {"content": "done"}]
    result = run(run_turn(conversation, "go", gateway=gateway, runner=Broken(), script=script))
    assert result.reply == "done"
    assert (result.tool_calls[0].status, result.tool_calls[0].error_code) == ("error", "EXECUTION_FAILURE")
    assert Broken.calls == 1


def test_a_model_that_calls_tools_forever_is_stopped_by_the_bound_and_says_so(
    start: Start, gateway_on: GatewayOn
) -> None:
    running = start()
    gateway = gateway_on(running)
    conversation = Conversation([tool("a")])
    runner = Recorder()
    script = [{"tool_calls": [{"name": "a", "arguments": {}}], "repeat": True}]
    result = run(run_turn(conversation, "loop", gateway=gateway, runner=runner, script=script, max_model_calls=3))
    assert result.stop_reason == "turn_bound"
    assert result.reply is None
    assert result.model_calls == 3
    assert running.stats.by_method["POST"] == 3
    assert len(runner.invocations) == 2  # the third answer's calls are not run: no model would read them
    assert result.tool_calls[-1].error_code == "TURN_BOUND_REACHED"
    assert "turn bound stopped it: 3 model calls" in result.stop_message
    # the history stays valid: the next turn is accepted by the gateway
    follow = run(run_turn(conversation, "stop", gateway=gateway_on(running), runner=runner, script=[{"content": "ok"}]))
    assert follow.reply == "ok"


def test_the_transcript_redacts_sensitive_arguments_and_keeps_outcomes(start: Start, gateway_on: GatewayOn) -> None:
    running = start()
    gateway = gateway_on(running)
    conversation = Conversation(
        [tool("a", context={"session_token": "conversation.session_token"})],
        state={"user_id": "USR-1", "session_token": "tok_9981"},
    )
    script = [
        {
            "tool_calls": [
                {"name": "a", "arguments": {"order_id": "7", "session_token": "tok_from_model", "x": "tok_9981"}}
            ]
        },
        {"content": "done"},
    ]
    run(run_turn(conversation, "go", gateway=gateway, runner=Recorder(), script=script))
    data = transcript(conversation, is_sensitive=lambda name: "TOKEN" in name.upper())
    text = json.dumps(data)
    assert "tok_from_model" not in text and "tok_9981" not in text
    call = data["turns"][0]["tool_calls"][0]
    assert call["arguments"] == {"order_id": "7", "session_token": "(sensitive)", "x": "(sensitive)"}
    assert call["status"] == "success"
    assert isinstance(call["latency_ms"], float)
    assert data["turns"][0]["stop_reason"] == "answered"
