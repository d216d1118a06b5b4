"""Conversation files: what a valid one becomes, and the exact errors (file:line) of broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.conversation import load_conversations
from reconciler.errors import InputError

TOOLS = {"get_order_status", "check_inventory"}
GOOD = """\
name: order status
state: {user_id: USR-1}
stubs: {get_order_status: {status: shipped}}
turns:
  - user: Where is my order 123?
    expect:
      tool_calls: [{name: get_order_status, arguments: {order_id: "123"}}]
      reply_contains: shipped
    script:
      - tool_calls: [{name: get_order_status, arguments: {order_id: "123"}}]
      - content: Your order has shipped.
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def load(tmp_path: Path, text: str, name: str = "c.yaml") -> list[str]:
    folder = tmp_path / "conversations.d"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    loaded = load_conversations(Path("conversations.d"), {}, TOOLS)
    return [str(d) for d in loaded.diagnostics]


def test_a_valid_file_becomes_a_spec_with_lines(tmp_path: Path) -> None:
    folder = tmp_path / "conversations.d"
    folder.mkdir()
    (folder / "order.yaml").write_text(GOOD, encoding="utf-8")
    loaded = load_conversations(folder, {}, TOOLS)
    assert loaded.diagnostics == []
    (spec,) = loaded.conversations
    assert spec.name == "order status"
    assert spec.stubs == {"get_order_status": {"status": "shipped"}}
    turn = spec.turns[0]
    assert turn.location.line == 5
    assert turn.expected_calls[0].arguments == {"order_id": "123"}
    assert turn.expected_calls[0].location.line == 7
    assert [(text, where.line) for text, where in turn.reply_contains] == [("shipped", 8)]
    assert turn.script is not None and len(turn.script) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: x\nturns:\n  - user: hi\n    expct: {}\n",
            "conversations.d/c.yaml:4:5: error: unknown key 'expct' in turns.0; did you mean 'expect'?",
        ),
        ("name: x\n", "conversations.d/c.yaml:1:1: error: missing required key 'turns' in the file"),
        (
            "name: x\nstubs: {get_order_stat: {}}\nturns: [{user: hi}]\n",
            "conversations.d/c.yaml:2:9: error: stub 'get_order_stat' names no tool of the tools directory; "
            "did you mean 'get_order_status'?",
        ),
        (
            "name: x\nturns:\n  - user: hi\n    expect: {tool_calls: [{name: nope}]}\n",
            "conversations.d/c.yaml:4:28: error: expected call of 'nope' names no tool of the tools directory",
        ),
        (
            "name: x\nturns:\n  - user: hi\n    script: [{say: hello}]\n",
            "conversations.d/c.yaml:4:15: error: unknown key 'say' in turns.0.script.0; "
            "known keys: content, tool_calls, repeat",
        ),
        (
            "name: x\nmax_turns: 50\nturns: [{user: hi}]\n",
            "conversations.d/c.yaml:2:1: error: 'max_turns' must be between 1 and 49 model calls per turn",
        ),
        (
            "name: x\nturns:\n  - user: hi\n    script:\n      - {tool_calls: [{name: a, arguments: [1]}]}\n",
            "conversations.d/c.yaml:5:33: error: 'turns.0.script.0.tool_calls.0.arguments' "
            "must be a mapping (a JSON object)",
        ),
        (
            "name: x\nturns: []\n",
            "conversations.d/c.yaml:2:1: error: 'turns' must be a non-empty list of {user, expect, script}",
        ),
    ],
)
def test_a_broken_file_is_named_with_its_line(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in load(tmp_path, text)


def test_every_broken_file_is_reported_and_none_is_run(tmp_path: Path) -> None:
    folder = tmp_path / "conversations.d"
    folder.mkdir()
    (folder / "a.yaml").write_text("name: a\nturns: [{usr: hi}]\n", encoding="utf-8")
    (folder / "b.yaml").write_text("name: b\n---\nname: c\n", encoding="utf-8")
    (folder / "ok.yaml").write_text(GOOD, encoding="utf-8")
    loaded = load_conversations(folder, {}, TOOLS)
    with pytest.raises(InputError) as caught:
        loaded.raise_for_errors()
    files = sorted({d.location.file.rsplit("/", 1)[-1] for d in caught.value.diagnostics})
    assert files == ["a.yaml", "b.yaml"]
    assert "one conversation per file" in str(caught.value)


def test_variables_are_replaced_and_remembered(tmp_path: Path) -> None:
    folder = tmp_path / "conversations.d"
    folder.mkdir()
    (folder / "a.yaml").write_text("name: a\nstate: {session_token: '${SESSION_TOKEN}'}\nturns: [{user: hi}]\n")
    loaded = load_conversations(folder, {"SESSION_TOKEN": "tok_1"}, TOOLS)
    assert loaded.conversations[0].state == {"session_token": "tok_1"}
    assert loaded.variables == {"SESSION_TOKEN": "tok_1"}


def test_a_missing_name_or_user_is_said_once_as_missing(tmp_path: Path) -> None:
    said = sorted(load(tmp_path, "turns:\n  - usr: hi\n"))
    assert said == [
        "conversations.d/c.yaml:1:1: error: missing required key 'name' in the file",
        "conversations.d/c.yaml:2:5: error: missing required key 'user' in turns.0",
        "conversations.d/c.yaml:2:5: error: unknown key 'usr' in turns.0; did you mean 'user'?",
    ]
