"""A tool name in use never moves to another operation: when a new operation written earlier in a description
wants the same name, plan and apply refuse and say how to pin the names; pinned, the plan is what it should be."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.emulator import RunningEmulator

Run = Callable[..., Any]

HEAD = 'openapi: 3.0.3\ninfo: {title: Orders, version: "1"}\nservers: [{url: https://orders.example.com}]\npaths:\n'
GET = "  /orders/{id}:\n    get:\n      operationId: orders.get\n      summary: Get one order.\n" + (
    "      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
)
CANCEL_ALL = "  /orders/cancel-all:\n    post: {operationId: orders_get, summary: Cancel every order.}\n"


def test_a_new_operation_never_takes_the_name_of_a_tool_in_use(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    (repo / "tools.d" / "orders.yaml").write_text(HEAD + GET)
    assert run("apply", "--auto-approve").code == 0
    [before] = emulator.registry.all_tools()
    assert before["name"] == "orders_get"
    (repo / "tools.d" / "orders.yaml").write_text(HEAD + CANCEL_ALL + GET)  # written first: it wants orders_get

    planned, applied = run("plan"), run("apply", "--auto-approve")

    for result in (planned, applied):
        assert result.code == 1
        assert "tools.d/orders.yaml:" in result.err
        assert "tool 'orders_get' calls GET https://orders.example.com/orders/{id} in the registry" in result.err
        assert "now gives its name to POST https://orders.example.com/orders/cancel-all" in result.err
        assert "source.overrides" in result.err
    assert emulator.registry.all_tools() == [before]


def test_pinned_names_keep_the_tool_on_its_operation(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    (repo / "specs").mkdir()
    (repo / "specs" / "orders.yaml").write_text(HEAD + GET)
    source = "source:\n  openapi: ../specs/orders.yaml\n"
    (repo / "tools.d" / "orders.yaml").write_text(source)
    assert run("apply", "--auto-approve").code == 0
    (repo / "specs" / "orders.yaml").write_text(HEAD + CANCEL_ALL + GET)
    assert run("plan").code == 1
    (repo / "tools.d" / "orders.yaml").write_text(
        source + "  overrides:\n    orders.get: {name: orders_get}\n    orders_get: {name: cancel_all_orders}\n"
    )

    result = run("plan", "--detailed-exitcode")

    assert result.code == 2, result.err
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in result.out
    assert '+ tool "cancel_all_orders"' in result.out


def test_a_collision_among_new_tools_only_is_no_error(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    (repo / "tools.d" / "orders.yaml").write_text(HEAD + CANCEL_ALL + GET)

    result = run("apply", "--auto-approve")

    assert result.code == 0, result.err
    assert sorted(t["name"] for t in emulator.registry.all_tools()) == ["orders_get", "orders_get_2"]
    assert run("plan", "--detailed-exitcode").code == 0
