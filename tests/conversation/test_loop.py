"""The loop against the emulated gateway over real HTTP, with tools run by the real Runtime against a loopback
upstream: parallel calls, context parameters, results and failures fed back, the turn bound, the transcript."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Callable
from typing import Any

from conversation_helpers import FakeTime, ToolEndpoint, tool
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.conversation import (
    Completion,
    Conversation,
    GatewayClient,
    Invocation,
    ModelToolCall,
    Outcome,
    ToolRunner,
    TurnResult,
    run_turn,
    stub_handler,
    transcript,
)
from reconciler.emulator import RunningEmulator
from reconciler.model import Tool
from reconciler.runtime import Runtime

Start = Callable[..., RunningEmulator]
GatewayOn = Callable[..., GatewayClient]


def turn(
    conversation: Conversation,
    user: str,
    gateway: GatewayClient,
    script: list[Any],
    *,
    runner: ToolRunner | None = None,
    handlers: dict[str, Any] | None = None,
    **settings: Any,
) -> TurnResult:
    async def go() -> TurnResult:
        if runner is not None:
            return await run_turn(conversation, user, gateway=gateway, runner=runner, script=script, **settings)
        async with Runtime(list(conversation.tools), handlers=handlers) as runtime:
            return await run_turn(conversation, user, gateway=gateway, runner=runtime, script=script, **settings)

    return asyncio.run(go())


def served(endpoint: ToolEndpoint, name: str, **settings: Any) -> Tool:
    return tool(name, endpoint=f"{endpoint.url}/{name}", **settings)


def test_the_calls_of_one_answer_run_concurrently_and_return_in_order_with_their_ids(
    start: Start, gateway_on: GatewayOn, endpoint: ToolEndpoint
) -> None:
    # Each upstream request waits for the other: only parallel calls pass. Called one after the other, the first
    # waits out its tool's timeout; the timeouts are long, so that a loaded machine that starts the second call
    # late is not mistaken for that.
    both = threading.Barrier(2, timeout=60)
    endpoint.together = {"/a": both, "/b": both}
    conversation = Conversation([dataclasses.replace(served(endpoint, name), timeout=60.0) for name in ("a", "b")])
    script = [
        {"tool_calls": [{"name": "a", "arguments": {"order_id": "1"}}, {"name": "b", "arguments": {"order_id": "2"}}]},
        {"content": "a: {{tool:a}} b: {{tool:b}}"},
    ]
    result = turn(conversation, "both please", gateway_on(start()), script)

    assert result.stop_reason == "answered"
    assert result.model_calls == 2
    assert [(r.name, r.arguments, r.status) for r in result.tool_calls] == [
        ("a", {"order_id": "1"}, "success"),
        ("b", {"order_id": "2"}, "success"),
    ]
    assert result.reply == (
        'a: {"received": {"tool_name": "a", "parameters": {"order_id": "1"}}} '
        'b: {"received": {"tool_name": "b", "parameters": {"order_id": "2"}}}'
    )
    answered = [m for m in conversation.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in answered] == [r.id for r in result.tool_calls]
    assert len({r.id for r in result.tool_calls}) == 2


def test_context_parameters_come_from_the_state_never_from_the_model(
    start: Start, gateway_on: GatewayOn, endpoint: ToolEndpoint
) -> None:
    lookup = served(endpoint, "lookup", context={"customer_id": "conversation.user_id"})
    conversation = Conversation([lookup], state={"user_id": "USR-4492"})
    assert conversation.functions[0]["function"]["parameters"]["properties"].keys() == {"order_id"}
    script = [
        {"tool_calls": [{"name": "lookup", "arguments": {"order_id": "1", "customer_id": "USR-EVIL"}}]},
        {"tool_calls": [{"name": "lookup", "arguments": {"order_id": "1"}}]},
        {"content": "done"},
    ]
    result = turn(conversation, "look it up", gateway_on(start()), script)

    refused, honest = result.tool_calls
    assert (refused.status, refused.error_code) == ("error", "INVALID_ARGUMENTS")
    assert "filled from the conversation state" in (refused.message or "")
    assert honest.status == "success"
    assert endpoint.bodies("/lookup") == [  # the model's never arrived
        {
            "tool_name": "lookup",
            "parameters": {"order_id": "1"},
            "user_id": "USR-4492",
            "conversation": {"user_id": "USR-4492"},
        }
    ]
    fed_back = next(m["content"] for m in conversation.messages if m["role"] == "tool")
    assert json.loads(fed_back)["error"]["code"] == "INVALID_ARGUMENTS"


def test_a_failing_tool_is_fed_back_as_an_error_result(
    start: Start, gateway_on: GatewayOn, endpoint: ToolEndpoint
) -> None:
    endpoint.answers["/a"] = (503, {"message": "down"})
    conversation = Conversation([served(endpoint, "a")])
    script = [{"tool_calls": [{"name": "a", "arguments": {}}]}, {"content": "the tool said {{tool:a}}"}]
    result = turn(conversation, "go", gateway_on(start()), script)

    assert result.stop_reason == "answered"
    record = result.tool_calls[0]
    assert (record.status, record.error_code, record.upstream_status) == ("error", "UPSTREAM_ERROR", 503)
    fed_back = json.loads((result.reply or "").removeprefix("the tool said "))
    assert fed_back == {"error": {"code": "UPSTREAM_ERROR", "message": "the upstream of a answered 503"}}


def test_an_output_json_cannot_hold_reaches_the_model_as_serve_answers_it(
    start: Start, gateway_on: GatewayOn, endpoint: ToolEndpoint
) -> None:
    """The model reads strict JSON, as a caller of `serve` does: a handler's NaN, infinity or set is the handler's
    bug, fed back as EXECUTION_FAILURE (it reached the model as the text `NaN`, or stopped the turn with a
    TypeError); an upstream's 2xx answer nested too deep to write is a success whose output says so (the call
    happened), as `serve` answers both."""
    import math

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    running = start()
    gateway = gateway_on(running)
    sent: list[Any] = []
    request_json = gateway.api.request_json

    def recording(operation: Any, path: str, **kwargs: Any) -> Any:
        sent.append(kwargs["json"])
        return request_json(operation, path, **kwargs)

    gateway.api.request_json = recording  # type: ignore[method-assign]
    endpoint.answers["/deep"] = (201, ("[" * 1000 + "]" * 1000).encode())
    names = ["nan", "inf", "odd", "deep", "fine"]
    conversation = Conversation([*(tool(name) for name in names[:3]), served(endpoint, "deep"), tool("fine")])
    handlers = {
        "nan": lambda arguments: {"ratio": math.nan},
        "inf": lambda arguments: [-math.inf],
        "odd": lambda arguments: {1, 2},
        "fine": lambda arguments: {"ratio": 0.5},
    }
    script = [{"tool_calls": [{"name": name, "arguments": {}} for name in names]}, {"content": "done"}]
    result = turn(conversation, "go", gateway, script, handlers=handlers)

    assert result.reply == "done"
    results = [m["content"] for m in sent[-1]["messages"] if m["role"] == "tool"]
    assert [json.loads(content, parse_constant=no_constant) for content in results[:3]] == [
        {"error": {"code": "EXECUTION_FAILURE", "message": f"{name} returned an output that is not JSON"}}
        for name in names[:3]
    ]
    assert results[3] == (  # a text output is the tool message's content as it is
        "deep was called and its upstream answered 201, but that answer is nested too deep to pass on as JSON; "
        "the call has happened"
    )
    assert json.loads(results[4], parse_constant=no_constant) == {"ratio": 0.5}
    assert [(r.status, r.error_code, r.upstream_status) for r in result.tool_calls] == [
        *(("error", "EXECUTION_FAILURE", None) for _ in names[:3]),
        ("success", None, 201),
        ("success", None, None),
    ]


def test_a_runner_that_raises_is_fed_back_too(start: Start, gateway_on: GatewayOn) -> None:
    class Broken:  # a runner that breaks its promise to answer every call with an Outcome
        def __init__(self) -> None:
            self.calls: list[Invocation] = []

        async def invoke(self, invocation: Invocation) -> Outcome:
            self.calls.append(invocation)
            raise RuntimeError("boom")

    gateway = gateway_on(start())
    conversation = Conversation([tool("a")])
    broken = Broken()
    result = turn(conversation, "go", gateway, [{"tool_calls": [{"name": "a"}]}, {"content": "done"}], runner=broken)
    assert result.reply == "done"
    assert (result.tool_calls[0].status, result.tool_calls[0].error_code) == ("error", "EXECUTION_FAILURE")
    assert len(broken.calls) == 1


def test_arguments_that_are_not_a_json_object_are_fed_back_and_never_reach_the_tool() -> None:
    class Gateway:  # a model that writes a JSON list where an object belongs (the emulator's scripts cannot)
        def __init__(self) -> None:
            self.answers = [
                Completion(None, (ModelToolCall("c1", "a", "[1, 2]"), ModelToolCall("c2", "a", "{oops")), "tool_calls"),
                Completion("done", (), "stop"),
            ]

        def complete(self, messages: Any, tools: Any, *, script: Any = None) -> Completion:
            return self.answers.pop(0)

    ran: list[Any] = []

    async def record(arguments: dict[str, Any]) -> Any:
        ran.append(arguments)

    conversation = Conversation([tool("a")])
    result = turn(conversation, "go", Gateway(), [], handlers={"a": record})  # type: ignore[arg-type]
    assert result.reply == "done"
    assert [(r.arguments, r.error_code) for r in result.tool_calls] == [(None, "INVALID_ARGUMENTS")] * 2
    assert ran == []


def test_a_model_that_calls_tools_forever_is_stopped_by_the_bound_and_says_so(
    start: Start, gateway_on: GatewayOn
) -> None:
    running = start()
    gateway = gateway_on(running)
    calls: list[dict[str, Any]] = []

    async def count(arguments: dict[str, Any]) -> Any:
        calls.append(arguments)
        return {}

    conversation = Conversation([tool("a")])
    script = [{"tool_calls": [{"name": "a", "arguments": {}}], "repeat": True}]
    result = turn(conversation, "loop", gateway, script, handlers={"a": count}, max_model_calls=3)

    assert result.stop_reason == "turn_bound"
    assert result.reply is None
    assert result.model_calls == 3
    assert running.stats.by_method["POST"] == 3
    assert len(calls) == 2  # the third answer's calls are not run: no model would read their results
    assert result.tool_calls[-1].error_code == "TURN_BOUND_REACHED"
    assert "turn bound stopped it: 3 model calls" in result.stop_message
    # the history stays a valid conversation: the gateway accepts the next turn
    follow = turn(conversation, "stop", gateway, [{"content": "ok"}], handlers={"a": count})
    assert follow.reply == "ok"


def test_a_call_record_says_why_an_answer_was_withheld_as_serve_audit_line_does(
    start: Start, gateway_on: GatewayOn, endpoint: ToolEndpoint
) -> None:
    """A 2xx answer the model was not given (past 16 MiB, or nested too deep to write) is a success whose output
    is a note; the call record and the transcript say `output_withheld` (`too_large`, `too_deep`, else null),
    as serve's audit line and answer metadata do, so a reader tells the note from what the tool answered."""
    from reconciler.runtime.upstream import MAX_ANSWER_BYTES

    endpoint.answers["/deep"] = (201, ("[" * 1000 + "]" * 1000).encode())
    endpoint.answers["/huge"] = (200, b'"' + b" " * MAX_ANSWER_BYTES + b'"')
    endpoint._server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # refused early
    names = ["deep", "huge", "fine"]
    conversation = Conversation([served(endpoint, name) for name in names])
    script = [{"tool_calls": [{"name": name, "arguments": {}} for name in names]}, {"content": "done"}]
    result = turn(conversation, "go", gateway_on(start()), script)

    assert [(r.status, r.upstream_status, r.output_withheld) for r in result.tool_calls] == [
        ("success", 201, "too_deep"),
        ("success", 200, "too_large"),
        ("success", 200, None),
    ]
    calls = transcript(conversation, is_sensitive=lambda name: False)["turns"][0]["tool_calls"]
    assert [(c["status"], c["upstream_status"], c["output_withheld"]) for c in calls] == [
        ("success", 201, "too_deep"),
        ("success", 200, "too_large"),
        ("success", 200, None),
    ]


def test_the_transcript_redacts_sensitive_arguments_and_keeps_outcomes(start: Start, gateway_on: GatewayOn) -> None:
    conversation = Conversation(
        [tool("a", context={"session_token": "conversation.session_token"})],
        state={"user_id": "USR-1", "session_token": "tok_9981"},
    )
    script = [
        {"tool_calls": [{"name": "a", "arguments": {"order_id": "7", "session_token": "tok_from_model"}}]},
        {"tool_calls": [{"name": "a", "arguments": {"order_id": "tok_9981"}}]},
        {"content": "done"},
    ]
    turn(conversation, "go", gateway_on(start()), script, handlers={"a": stub_handler({"status": "open"})})
    data = transcript(conversation, is_sensitive=lambda name: "TOKEN" in name.upper())

    text = json.dumps(data)
    assert "tok_from_model" not in text and "tok_9981" not in text
    refused, answered = data["turns"][0]["tool_calls"]
    assert refused["arguments"] == {"order_id": "7", "session_token": "(sensitive)"}
    assert (refused["status"], refused["error_code"]) == ("error", "INVALID_ARGUMENTS")
    assert answered["arguments"] == {"order_id": "(sensitive)"}
    assert answered["status"] == "success"
    assert isinstance(answered["latency_ms"], float)
    assert data["turns"][0]["stop_reason"] == "answered"


def test_a_429_from_the_gateway_is_waited_out_for_its_retry_after_and_the_turn_goes_on(
    start: Start, gateway_on: GatewayOn
) -> None:
    running = start()
    time = FakeTime()
    gateway = gateway_on(running, time=time)
    running.faults.inject("429", times=1, methods=("POST",))  # the first model call of the turn
    conversation = Conversation([tool("a")])
    script = [{"tool_calls": [{"name": "a", "arguments": {}}]}, {"content": "done"}]
    result = turn(conversation, "go", gateway, script, handlers={"a": stub_handler({})})
    assert result.reply == "done"
    assert result.model_calls == 2
    assert running.stats.responses_429 == 1
    assert time.sleeps == [1.0]  # the emulator's Retry-After, on the injected clock: nothing really slept


def test_every_request_of_a_conversation_is_what_the_openai_api_takes(start: Start, gateway_on: GatewayOn) -> None:
    """Checked against the official `openai` package's own request types, message by message (pydantic checks
    their Iterable fields only when read, so each nested list is checked on its own): the assistant messages
    with parallel tool calls, the tool results (outputs, failures, calls the bound cut), the system message
    and the tools in function form."""
    import pydantic
    from openai.types import chat

    by_role: dict[str, Any] = {
        "system": chat.ChatCompletionSystemMessageParam,
        "user": chat.ChatCompletionUserMessageParam,
        "assistant": chat.ChatCompletionAssistantMessageParam,
        "tool": chat.ChatCompletionToolMessageParam,
    }

    def check(kind: Any, value: Any) -> None:
        pydantic.TypeAdapter(kind).validate_python(value, strict=True)  # raises on what the real API does not take

    running = start()
    gateway = gateway_on(running)
    sent: list[Any] = []
    request_json = gateway.api.request_json

    def recording(operation: Any, path: str, **kwargs: Any) -> Any:
        sent.append(kwargs["json"])
        return request_json(operation, path, **kwargs)

    gateway.api.request_json = recording  # type: ignore[method-assign]
    tools = [tool("a"), tool("b", context={"customer_id": "conversation.user_id"})]
    conversation = Conversation(tools, state={"user_id": "U1"}, system="You are terse.")
    parallel = [
        {"tool_calls": [{"name": "a", "arguments": {"order_id": "1"}}, {"name": "b", "arguments": {"order_id": 2}}]},
        {"content": "done"},
    ]
    turn(conversation, "first", gateway, parallel, handlers={"a": stub_handler({"ok": True}), "b": stub_handler(1)})
    forever = [{"tool_calls": [{"name": "a", "arguments": {}}, {"name": "nope", "arguments": {}}], "repeat": True}]
    turn(conversation, "second", gateway, forever, handlers={"a": stub_handler("text")}, max_model_calls=2)
    turn(conversation, "third", gateway, [{"content": "bye"}])

    assert len(sent) == 5
    for body in sent:
        assert isinstance(body["model"], str)
        for message in body["messages"]:
            check(by_role[message["role"]], message)
            for call in message.get("tool_calls", []):
                check(chat.ChatCompletionMessageFunctionToolCallParam, call)
        for function in body["tools"]:
            check(chat.ChatCompletionFunctionToolParam, function)
        check(chat.ChatCompletionToolChoiceOptionParam, body["tool_choice"])
    roles = [m["role"] for m in sent[-1]["messages"]]
    first = ["system", "user", "assistant", "tool", "tool", "assistant"]
    assert roles == [*first, "user", "assistant", "tool", "tool", "assistant", "tool", "tool", "user"]


_RAW_CALL = st.fixed_dictionaries(
    {
        "type": st.just("function"),
        "function": st.fixed_dictionaries(
            {
                "name": st.sampled_from(["a", "b", "nope"]),
                "arguments": st.one_of(
                    st.just('{"order_id": "1"}'), st.just("{oops"), st.just("[1]"), st.just(""), st.just({"x": 1})
                ),
            }
        ),
    },
    optional={"id": st.one_of(st.none(), st.just(""), st.just("same"), st.text(min_size=1, max_size=8))},
)
_RAW_ANSWER = st.one_of(
    st.builds(lambda text: {"content": text}, st.text(max_size=10)),
    st.builds(lambda calls: {"content": None, "tool_calls": calls}, st.lists(_RAW_CALL, min_size=1, max_size=4)),
)


@settings(max_examples=150, deadline=None)
@given(answers=st.lists(_RAW_ANSWER, min_size=1, max_size=6), bound=st.integers(1, 5))
def test_whatever_the_model_answers_the_history_stays_a_valid_conversation(answers: list[Any], bound: int) -> None:
    """Law: every tool call of every assistant message is answered by exactly one tool message, right after it and
    in its order, under an id of its own; no more model calls than the bound; every call is recorded."""
    from reconciler.conversation.gateway import parse_completion

    class Gateway:
        def __init__(self) -> None:
            self.left = list(answers)

        def complete(self, messages: Any, tools: Any, *, script: Any = None) -> Completion:
            raw = self.left.pop(0) if self.left else {"content": "done"}
            return parse_completion({"choices": [{"message": {"role": "assistant", **raw}}]}, host="test")

    class Runner:
        async def invoke(self, invocation: Invocation) -> Outcome:
            if invocation.tool_name == "nope":
                return Outcome("error", error_code="UNKNOWN_TOOL", message="no such tool")
            return Outcome("success", output={"ran": invocation.tool_name})

    conversation = Conversation([tool("a"), tool("b")])
    result = turn(conversation, "go", Gateway(), [], runner=Runner(), max_model_calls=bound)  # type: ignore[arg-type]
    assert result.model_calls <= bound
    messages = conversation.messages
    asked = 0
    for index, message in enumerate(messages):
        if message["role"] != "assistant" or not message.get("tool_calls"):
            continue
        ids = [call["id"] for call in message["tool_calls"]]
        assert all(ids) and len(set(ids)) == len(ids)
        answers_of = messages[index + 1 : index + 1 + len(ids)]
        assert [m["role"] for m in answers_of] == ["tool"] * len(ids)
        assert [m["tool_call_id"] for m in answers_of] == ids
        assert all(isinstance(m["content"], str) for m in answers_of)
        asked += len(ids)
    assert asked == len(result.tool_calls)
    assert sum(1 for m in messages if m["role"] == "tool") == asked


def test_a_turn_interrupted_while_its_tools_run_is_kept_with_the_calls_that_may_have_run() -> None:
    class Gateway:
        def complete(self, messages: Any, tools: Any, *, script: Any = None) -> Completion:
            return Completion(None, (ModelToolCall("c1", "a", '{"order_id": "1"}'),), "tool_calls")

    class Runner:
        def __init__(self) -> None:
            self.started = asyncio.Event()

        async def invoke(self, invocation: Invocation) -> Outcome:
            self.started.set()
            await asyncio.Event().wait()  # a tool that takes forever
            raise AssertionError("unreachable")

    conversation = Conversation([tool("a")])

    async def go() -> None:
        runner = Runner()
        task = asyncio.ensure_future(run_turn(conversation, "go", gateway=Gateway(), runner=runner))
        await runner.started.wait()
        task.cancel()  # what asyncio.run does on Ctrl-C
        try:
            await task
        except asyncio.CancelledError:
            return
        raise AssertionError("the turn was not cancelled")

    asyncio.run(go())
    (interrupted,) = conversation.turns
    assert (interrupted.stop_reason, interrupted.reply, interrupted.model_calls) == ("interrupted", None, 1)
    assert [(c.name, c.arguments, c.error_code) for c in interrupted.tool_calls] == [
        ("a", {"order_id": "1"}, "INTERRUPTED")
    ]
    assert "it may have run" in (interrupted.tool_calls[0].message or "")
