"""An OpenAPI description with a broken structure is an error with its place, never 0 tools and 0 errors (apply
would prune every tool it gave before); a `source.include`/`exclude` criterion that matches nothing warns, and
fails with --strict."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import RunningEmulator

Run = Callable[..., Any]

GOOD = """openapi: 3.0.3
info: {title: Orders, version: "1"}
servers: [{url: https://orders.example.com}]
paths:
  /orders:
    get: {operationId: listOrders, summary: List orders., tags: [orders]}
    post: {operationId: createOrder, summary: Create an order., tags: [orders]}
"""
HEAD = 'openapi: 3.0.3\ninfo: {title: Orders, version: "1"}\nservers: [{url: https://orders.example.com}]\n'

# (id, the description, the line of the error, words of the message)
BROKEN: list[tuple[str, str, int, list[str]]] = [
    ("paths-a-list", HEAD + "paths:\n  - /orders\n  - /items\n", 4, ["`paths` must be a mapping", "not a list"]),
    ("paths-a-string", HEAD + "paths: /orders\n", 4, ["`paths` must be a mapping"]),
    ("no-paths", HEAD, 1, ["has no `paths`"]),
    ("path-item-a-list", HEAD + "paths:\n  /orders:\n    - get\n", 5, ["path item '/orders' must be a mapping"]),
    (
        "operation-a-list",
        HEAD + "paths:\n  /orders:\n    get:\n      - operationId: listOrders\n",
        6,
        ["GET /orders: an operation must be a mapping, not a list"],
    ),
    (
        "path-without-slash",
        HEAD + "paths:\n  orders:\n    get: {operationId: x}\n",
        5,
        ["must be a string that starts"],
    ),
    ("openapi-3-number", GOOD.replace("openapi: 3.0.3", "openapi: 3"), 1, ["openapi: 3 is not a version"]),
    ("openapi-4", GOOD.replace("openapi: 3.0.3", "openapi: '4.0.0'"), 1, ["'4.0.0' is not a version"]),
    ("swagger-1", GOOD.replace("openapi: 3.0.3", "swagger: '1.2'"), 1, ["swagger: '1.2' is not a version"]),
]


@pytest.mark.parametrize(("case", "text", "line", "words"), BROKEN, ids=[c[0] for c in BROKEN])
def test_a_broken_description_is_an_error_and_nothing_is_pruned(
    repo: Path, run: Run, emulator: RunningEmulator, case: str, text: str, line: int, words: list[str]
) -> None:
    (repo / "tools.d" / "orders.yaml").write_text(GOOD)
    assert run("apply", "--auto-approve").code == 0
    before = emulator.registry.all_tools()
    assert len(before) == 2
    (repo / "tools.d" / "orders.yaml").write_text(text)

    results = [run("validate"), run("plan"), run("apply", "--auto-approve")]

    for result in results:
        assert result.code == 1, result.output
        assert f"tools.d/orders.yaml:{line}:" in result.output
        for word in words:
            assert word in result.output
    assert emulator.registry.all_tools() == before


SOURCE = """source:
  openapi: ../specs/orders.yaml
  include: {INCLUDE}
"""

# (id, the include/exclude mapping, the line:column of the warning, its words)
UNMATCHED: list[tuple[str, str, str, list[str]]] = [
    ("operation-glob", "{operations: ['gte*']}", "3:", ["source.include.operations 'gte*' matches no operation"]),
    ("tag", "{tags: [order]}", "3:", ["source.include.tags 'order' matches no operation"]),
    ("method", "{methods: [delete]}", "3:", ["source.include.methods 'delete' matches no operation"]),
]


@pytest.mark.parametrize(("case", "include", "where", "words"), UNMATCHED, ids=[c[0] for c in UNMATCHED])
def test_an_include_that_matches_nothing_warns_and_fails_with_strict(
    repo: Path, run: Run, case: str, include: str, where: str, words: list[str]
) -> None:
    (repo / "specs").mkdir()
    (repo / "specs" / "orders.yaml").write_text(GOOD)
    (repo / "tools.d" / "orders.yaml").write_text(SOURCE.replace("{INCLUDE}", include))

    relaxed, strict = run("validate"), run("validate", "--strict")

    assert relaxed.code == 0
    assert strict.code == 1
    for result in (relaxed, strict):
        assert f"tools.d/orders.yaml:{where}" in result.output
        assert "selects nothing" in result.output
        assert "source.include selects no operation" in result.output
        for word in words:
            assert word in result.output


def test_an_exclude_that_matches_nothing_warns_and_a_matching_one_does_not(repo: Path, run: Run) -> None:
    (repo / "specs").mkdir()
    (repo / "specs" / "orders.yaml").write_text(GOOD)
    (repo / "tools.d" / "orders.yaml").write_text(
        "source:\n  openapi: ../specs/orders.yaml\n  include: {operations: ['list*', 'create*']}\n"
        "  exclude: {operations: [deleteOrder, createOrder]}\n"
    )

    result = run("validate", "--strict")

    assert result.code == 1
    assert "tools.d/orders.yaml:4:" in result.output
    assert "source.exclude.operations 'deleteOrder' matches no operation" in result.output
    assert "excludes nothing" in result.output
    assert "'list*'" not in result.output and "'createOrder' matches" not in result.output


def test_plan_and_apply_say_why_an_include_typo_deletes_every_tool(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    (repo / "specs").mkdir()
    (repo / "specs" / "orders.yaml").write_text(GOOD)
    (repo / "tools.d" / "orders.yaml").write_text(SOURCE.replace("{INCLUDE}", "{operations: ['list*']}"))
    assert run("apply", "--auto-approve").code == 0
    (repo / "tools.d" / "orders.yaml").write_text(SOURCE.replace("{INCLUDE}", "{operations: ['lsit*']}"))

    planned, applied = run("plan"), run("apply", "--auto-approve")

    for result in (planned, applied):
        assert result.err.startswith("target: ")
        assert "tools.d/orders.yaml:3:" in result.err
        assert "source.include.operations 'lsit*' matches no operation" in result.err
    assert "applying this plan will be refused" in planned.out
    assert applied.code == 1
    assert [t["name"] for t in emulator.registry.all_tools()] == ["listOrders"]
