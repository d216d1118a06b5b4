"""The registry: versions, names, capability checks, and the state file shared between processes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Registry
from reconciler.emulator.capabilities import check_tool_input, normalize_tool_input
from reconciler.emulator.registry import NameExists, VersionChanged
from reconciler.errors import ConfigurationError


def tool_input(name: str = "t", **changes: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Does it.",
        "schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        "executionEndpoint": "https://tools.example.com/t",
        **changes,
    }


def test_create_update_delete_with_versions() -> None:
    registry = Registry()
    tool = registry.create(tool_input())
    assert (tool["version"], tool["status"]) == (1, "active")
    assert tool["dateCreated"] == tool["dateModified"]
    assert tool["dateCreated"].endswith("Z")
    updated = registry.update(tool["id"], tool_input(description="New."), 1)
    assert updated is not None
    assert (updated["version"], updated["description"], updated["dateCreated"]) == (2, "New.", tool["dateCreated"])
    with pytest.raises(VersionChanged, match="sent version 1 but the tool is at version 2"):
        registry.update(tool["id"], tool_input(), 1)
    with pytest.raises(VersionChanged, match="sent no version"):
        registry.update(tool["id"], tool_input(), None)
    assert registry.update("missing", tool_input(), 1) is None
    assert registry.delete(tool["id"]) is True
    assert registry.delete(tool["id"]) is False


def test_names_are_unique_on_create_and_rename() -> None:
    registry = Registry()
    registry.create(tool_input("a"))
    b = registry.create(tool_input("b"))
    with pytest.raises(NameExists):
        registry.create(tool_input("a"))
    with pytest.raises(NameExists):
        registry.update(b["id"], tool_input("a"), 1)
    assert registry.update(b["id"], tool_input("b"), 1) is not None


def test_reads_are_copies() -> None:
    registry = Registry()
    tool = registry.create(tool_input())
    tool["name"] = "changed"
    registry.all_tools()[0]["name"] = "changed"
    assert registry.get(tool["id"])["name"] == "t"  # type: ignore[index]


def test_put_raw_fills_only_missing_server_fields() -> None:
    raw = Registry().put_raw({"id": "fixed", "name": "drifted", "version": 7})
    assert (raw["id"], raw["version"], raw["status"], raw["selfUri"]) == (
        "fixed",
        7,
        "active",
        "/api/v2/ai/assistant/tools/fixed",
    )


@pytest.fixture
def opened() -> Iterator[Callable[..., Registry]]:
    registries: list[Registry] = []

    def open_(*args: Any, **kwargs: Any) -> Registry:
        registries.append(Registry(*args, **kwargs))
        return registries[-1]

    yield open_
    for registry in registries:
        registry.close()


def test_the_state_is_a_sqlite_database_that_persists(tmp_path: Path, opened: Callable[..., Registry]) -> None:
    state = tmp_path / "deep" / "registry.db"
    registry = opened(state)
    registry.create(tool_input("b"))
    a = registry.create(tool_input("a"))
    registry.close()
    assert state.read_bytes().startswith(b"SQLite format 3\x00")
    again = opened(state)
    assert [tool["name"] for tool in again.all_tools()] == ["a", "b"]
    assert again.get(a["id"]) == a
    assert again.find_by_name("a") == a
    assert [tool["name"] for tool in again.listing("b")] == ["b"]


def test_another_process_writes_are_seen(tmp_path: Path, opened: Callable[..., Registry]) -> None:
    state = tmp_path / "registry.db"
    plan_side, apply_side = opened(state), opened(state)
    assert plan_side.listing() == []
    created = apply_side.create(tool_input("from_apply"))
    assert plan_side.get(created["id"]) == created
    assert [tool["name"] for tool in plan_side.listing()] == ["from_apply"]  # the cached listing is refreshed
    plan_side.delete(created["id"])
    assert apply_side.all_tools() == []
    assert len(opened(state)) == 0


WRITER = """
import sys
from pathlib import Path
from reconciler.emulator import Registry
from reconciler.emulator.registry import NameExists

registry = Registry(Path(sys.argv[1]))
won = 0
for i in range(int(sys.argv[2])):
    try:
        registry.create({"name": f"t{i}", "description": "d", "schema": {}, "executionEndpoint": "https://x"})
        won += 1
    except NameExists:
        pass
print(won)
"""


def test_two_processes_writing_at_once_keep_every_write_and_names_unique(tmp_path: Path) -> None:
    state = tmp_path / "registry.db"
    count = 150
    # Both open the new state at once, too: switching it to WAL is a lock SQLite does not wait for by itself.
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(state), str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    answers = [writer.communicate(timeout=120) for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], [err for _, err in answers]
    won = [int(out) for out, _ in answers]
    assert sum(won) == count  # each name created exactly once, by one process or the other
    registry = Registry(state)
    try:
        assert sorted(tool["name"] for tool in registry.all_tools()) == sorted(f"t{i}" for i in range(count))
    finally:
        registry.close()


def test_a_json_state_of_an_earlier_version_is_migrated_in_place_once(
    tmp_path: Path, opened: Callable[..., Registry]
) -> None:
    state = tmp_path / "registry.json"
    old = {"format": 1, "tools": [{**tool_input("old"), "id": "old-id", "version": 4}]}
    state.write_text(json.dumps(old))
    registry = opened(state)
    assert [(tool["id"], tool["version"]) for tool in registry.all_tools()] == [("old-id", 4)]
    assert state.read_bytes().startswith(b"SQLite format 3\x00")
    assert json.loads((tmp_path / "registry.json.migrated").read_text()) == old
    registry.create(tool_input("new"))
    (tmp_path / "registry.json.migrated").write_text("not read again")
    assert [tool["name"] for tool in opened(state).all_tools()] == ["new", "old"]


@pytest.mark.parametrize("content", ["{not json", '{"tools": 3}', "[]"])
def test_a_broken_state_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    state = tmp_path / "registry.json"
    state.write_text(content)
    with pytest.raises(ConfigurationError, match=r"registry\.json"):
        Registry(state)
    assert state.read_text() == content  # left as it was for the user to fix


# -- the capability matrix ---------------------------------------------------------------------------------------


def codes(body: Any, **settings: Any) -> list[tuple[str, str | None]]:
    return [(p.error_code, p.field_name) for p in check_tool_input(body, **settings)]


def test_a_good_tool_input_has_no_problems() -> None:
    full = tool_input(
        request={"method": "GET"},
        context={"user_id": "conversation.user_id"},
        rateLimit={"requestsPerMinute": 60, "burstSize": 10},
        labels={"team": "x"},
        schema={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                f"p{i}": {"type": t}
                for i, t in enumerate(
                    ["string", "number", "integer", "boolean", "array", "object", ["string", "integer"]]
                )
            },
            "required": ["p0"],
            "x-anything": True,
        },
    )
    assert codes(full) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "a" * 65}, ("name.invalid", "name")),
        ({"name": "ok\n"}, ("name.invalid", "name")),
        ({"description": ""}, ("description.invalid", "description")),
        ({"description": "x" * 256}, ("description.too_long", "description")),
        ({"executionEndpoint": "https://has space/x"}, ("endpoint.invalid", "executionEndpoint")),
        (
            {"schema": {"type": "object", "$schema": "http://json-schema.org/draft-07/schema#"}},
            ("schema.dialect", "schema.$schema"),
        ),
        ({"schema": {"type": "object", "required": ["a", "a"]}}, ("schema.invalid", "schema.required")),
        (
            {"schema": {"type": "object", "properties": {"p": {"type": "null"}}}},  # beside a type: nullable
            ("schema.parameter_type", "schema.properties.p.type"),
        ),
        ({"rateLimit": {"requestsPerMinute": 0}}, ("rateLimit.invalid", "rateLimit.requestsPerMinute")),
        ({"rateLimit": {"perHour": 5}}, ("field.unknown", "rateLimit.perHour")),
        ({"labels": {"team": 5}}, ("labels.invalid", "labels")),
        ({"id": "x"}, ("field.unknown", "id")),
    ],
)
def test_each_rule_names_its_field(change: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in codes(tool_input(**change))


def test_limits_are_configurable() -> None:
    body = tool_input(description="x" * 20, schema={"type": "object", "properties": {"a": {}, "b": {}, "c": {}}})
    assert codes(body, max_parameters=2, max_description_length=10) == [
        ("description.too_long", "description"),
        ("schema.too_many_parameters", "schema.properties"),
    ]


def test_missing_fields_and_non_objects() -> None:
    assert codes([]) == [("body.invalid", None)]
    assert codes({}) == [
        ("field.required", "name"),
        ("field.required", "description"),
        ("field.required", "schema"),
        ("field.required", "executionEndpoint"),
    ]


def test_version_only_on_updates_and_integral_numbers_count_as_integers() -> None:
    assert ("field.unknown", "version") in codes(tool_input(version=1))
    assert codes(tool_input(version=2.0, rateLimit={"burstSize": 5.0}), allow_version=True) == []
    assert ("version.invalid", "version") in codes(tool_input(version=True), allow_version=True)
    normalized = normalize_tool_input(tool_input(version=2.0, rateLimit={"burstSize": 5.0}))
    assert (normalized["version"], normalized["rateLimit"]) == (2, {"burstSize": 5})
    assert isinstance(normalized["version"], int)
