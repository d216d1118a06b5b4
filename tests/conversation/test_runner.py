"""Running conversation files against the emulated gateway: expectations, what differed, and the bound."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conversation_helpers import ToolEndpoint, tool
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.conversation import (
    FileResult,
    GatewayClient,
    is_subset,
    load_conversations,
    run_conversation,
    runtimes,
)
from reconciler.emulator import RunningEmulator

Start = Callable[..., RunningEmulator]
GatewayOn = Callable[..., GatewayClient]


def run_file(tmp_path: Path, text: str, gateway: GatewayClient, endpoint: ToolEndpoint) -> FileResult:
    """Runs one conversation file; its unstubbed tools are served by `endpoint`, which answers 503."""
    endpoint.answers = {"/get_order_status": (503, {}), "/cancel_order": (503, {})}
    tools = [tool(name, endpoint=f"{endpoint.url}/{name}") for name in ("get_order_status", "cancel_order")]
    folder = tmp_path / "conversations.d"
    folder.mkdir(exist_ok=True)
    (folder / "c.yaml").write_text(text, encoding="utf-8")
    loaded = load_conversations(folder, {}, {t.name for t in tools})
    loaded.raise_for_errors()
    (spec,) = loaded.conversations
    return asyncio.run(run_conversation(spec, tools=tools, gateway=gateway, runners=runtimes(tools)))


def failures(result: FileResult) -> list[tuple[int, str]]:
    return [(f.location.line, f.message) for f in result.failures]


ORDER = """\
name: order status
stubs: {get_order_status: {status: shipped}}
turns:
  - user: Where is my order 123?
    expect:
      tool_calls: [{name: get_order_status, arguments: {order_id: "123"}}]
      reply_contains: [Shipped]
    script:
      - tool_calls: [{name: get_order_status, arguments: {order_id: "123"}}]
      - content: "Your order: {{tool:get_order_status}}"
"""


def test_a_file_whose_expectations_hold_passes(
    start: Start, gateway_on: GatewayOn, tmp_path: Path, endpoint: ToolEndpoint
) -> None:
    result = run_file(tmp_path, ORDER, gateway_on(start()), endpoint)
    assert result.failures == ()
    assert result.conversation.turns[0].reply == 'Your order: {"status": "shipped"}'


def test_other_arguments_fail_at_the_expectation_and_say_what_was_called(
    start: Start, gateway_on: GatewayOn, tmp_path: Path, endpoint: ToolEndpoint
) -> None:
    text = ORDER.replace('arguments: {order_id: "123"}}]\n      reply', 'arguments: {order_id: "124"}}]\n      reply')
    result = run_file(tmp_path, text, gateway_on(start()), endpoint)
    assert failures(result) == [
        (
            6,
            'turn 1: expected a call of get_order_status({"order_id": "124"}) (arguments as a subset, in order); '
            'the calls were: get_order_status({"order_id": "123"})',
        )
    ]


def test_a_reply_without_the_text_fails_at_reply_contains(
    start: Start, gateway_on: GatewayOn, tmp_path: Path, endpoint: ToolEndpoint
) -> None:
    result = run_file(tmp_path, ORDER.replace("[Shipped]", "[delivered]"), gateway_on(start()), endpoint)
    assert failures(result) == [
        (7, "turn 1: the reply does not contain 'delivered'; it was 'Your order: {\"status\": \"shipped\"}'")
    ]


def test_a_tool_that_failed_fails_an_expectation_of_success(
    start: Start, gateway_on: GatewayOn, tmp_path: Path, endpoint: ToolEndpoint
) -> None:
    unstubbed = ORDER.replace("stubs: {get_order_status: {status: shipped}}\n", "")
    result = run_file(tmp_path, unstubbed, gateway_on(start()), endpoint)
    assert (
        5,
        'turn 1: get_order_status({"order_id": "123"}) was called but did not succeed: '
        "UPSTREAM_ERROR: the upstream of get_order_status answered 503",
    ) in failures(result)


def test_the_turn_bound_fails_the_file_at_the_turn_and_stops_it(
    start: Start, gateway_on: GatewayOn, tmp_path: Path, endpoint: ToolEndpoint
) -> None:
    text = """\
name: forever
stubs: {cancel_order: {}}
max_turns: 4
turns:
  - user: loop
    script:
      - {tool_calls: [{name: cancel_order, arguments: {}}], repeat: true}
  - user: never sent
"""
    running = start()
    result = run_file(tmp_path, text, gateway_on(running), endpoint)
    assert failures(result) == [
        (
            5,
            "turn 1: the turn bound stopped it: 4 model calls without a final answer (--max-turns raises it, "
            "up to 49); the rest of this file was not run",
        )
    ]
    assert len(result.conversation.turns) == 1
    assert running.stats.by_method["POST"] == 4


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ({"a": "1"}, {"a": "1", "b": 2}, True),
        ({"a": {"x": 1}}, {"a": {"x": 1, "y": 2}}, True),
        ({"a": "1"}, {"a": 1}, False),
        ({"a": 1}, {"a": True}, False),
        ({"a": [1]}, {"a": [1, 2]}, False),
        ({"c": None}, {}, False),
    ],
)
def test_arguments_match_as_a_subset(expected: Any, actual: Any, matches: bool) -> None:
    assert is_subset(expected, actual) is matches


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=12,
)
OBJECTS = st.dictionaries(st.text(max_size=3), JSON, max_size=4)


@settings(deadline=None)  # a loaded CI machine is not a slow test
@given(OBJECTS, st.data())
def test_any_part_of_the_arguments_matches_them_and_an_extra_key_never_does(
    actual: dict[str, Any], data: st.DataObject
) -> None:
    def part(value: Any) -> Any:
        if isinstance(value, dict) and value:
            keys = data.draw(st.lists(st.sampled_from(sorted(value)), unique=True))
            return {key: part(value[key]) for key in keys}
        return value

    expected = part(actual)
    assert is_subset(expected, actual)
    assert not is_subset({**expected, "\x00extra": 1}, actual)


def test_a_reply_cut_at_the_token_limit_says_so_where_it_fails() -> None:
    from reconciler.conversation import TurnResult, TurnSpec
    from reconciler.conversation.runner import check_turn
    from reconciler.model import SourceLocation

    where = SourceLocation("conversations.d/c.yaml", 6, 7)
    turn = TurnSpec(
        "Where is 123?", SourceLocation("conversations.d/c.yaml", 4, 5), reply_contains=(("shipped", where),)
    )
    cut = TurnResult("Where is 123?", "Your order has shi", "answered", 1, 8, (), 1.0, finish_reason="length")
    assert [(f.location, f.message) for f in check_turn(turn, cut, 1)] == [
        (
            where,
            "turn 1: the reply does not contain 'shipped'; it was 'Your order has shi' (the answer was cut short: "
            "the model reached its token limit (finish_reason length))",
        )
    ]


def test_a_long_reply_is_quoted_by_its_start_where_it_fails() -> None:
    """A CI log gets one readable line, not a reply of tens of kilobytes."""
    from reconciler.conversation import TurnResult, TurnSpec
    from reconciler.conversation.runner import check_turn
    from reconciler.model import SourceLocation

    where = SourceLocation("conversations.d/c.yaml", 6, 7)
    turn = TurnSpec("hi", SourceLocation("conversations.d/c.yaml", 4, 5), reply_contains=(("shipped", where),))
    long = TurnResult("hi", "y" * 50_000, "answered", 1, 8, (), 1.0)
    (failure,) = check_turn(turn, long, 1)
    assert failure.message == f"turn 1: the reply does not contain 'shipped'; it was '{'y' * 300}…' (50,000 characters)"


def test_an_expected_call_without_arguments_matches_a_call_whose_arguments_were_no_json_object() -> None:
    """`{name: a, status: error}` expects a failed call of `a`: one whose arguments the model botched is one."""
    from reconciler.conversation import ExpectedCall, ToolCallRecord, TurnResult, TurnSpec
    from reconciler.conversation.runner import check_turn
    from reconciler.model import SourceLocation

    where = SourceLocation("conversations.d/c.yaml", 6, 7)
    expected = ExpectedCall("a", {}, "error", where)
    turn = TurnSpec("hi", SourceLocation("conversations.d/c.yaml", 4, 5), expected_calls=(expected,))
    botched = ToolCallRecord("c1", "a", None, "error", error_code="INVALID_ARGUMENTS", message="not a JSON object")
    result = TurnResult("hi", "sorry", "answered", 2, 8, (botched,), 1.0)
    assert check_turn(turn, result, 1) == []
    wanted = TurnSpec("hi", turn.location, expected_calls=(ExpectedCall("a", {"order_id": "1"}, "error", where),))
    assert [f.location for f in check_turn(wanted, result, 1)] == [where]
