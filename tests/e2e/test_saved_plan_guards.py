"""A saved plan is applied exactly as reviewed, and never trusted for what it may do: options that would change
it are refused, a byte changed after saving is refused, and every guard (protected, unmanaged, the tool an id
names, the mass-delete share) is recomputed from the registry and reconciler.yaml before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import RunningEmulator
from reconciler.plan.planfile import content_digest

from .conftest import write_tools

Run = Callable[..., Any]


def _applied(repo: Path, run: Run, count: int = 4) -> None:
    (repo / "reconciler.yaml").write_text("managed_by: reconciler\n")  # the only repository on this org
    write_tools(repo / "tools.d", count)
    (repo / "tools.d" / "tool_000.yaml").write_text(
        (repo / "tools.d" / "tool_000.yaml").read_text() + "protected: true\n"
    )
    assert run("apply", "--auto-approve").code == 0


def _unmanaged(emulator: RunningEmulator) -> dict[str, Any]:
    return emulator.registry.put_raw(
        {"name": "hand_made", "description": "Made in the UI.", "executionEndpoint": "https://x", "schema": {}}
    )


def _edit(path: Path, change: Callable[[dict[str, Any]], None], *, redigest: bool) -> None:
    document = json.loads(path.read_text())
    change(document)
    if redigest:  # someone who knows the format recomputes the digest: the guards must still hold
        document["digest"] = content_digest(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    "options", [["--no-prune"], ["--tool", "tool_001"], ["--no-prune", "--tool", "tool_001"]], ids=str
)
def test_options_that_would_change_a_saved_plan_are_refused(
    repo: Path, run: Run, emulator: RunningEmulator, options: list[str]
) -> None:
    _applied(repo, run)
    (repo / "tools.d" / "tool_001.yaml").unlink()
    assert run("plan", "--out", "plan.json").code == 0
    before = emulator.registry.all_tools()

    result = run("apply", "plan.json", *options)

    assert result.code == 1
    assert "cannot be used with a saved plan" in result.err
    assert "reconciler plan" in result.err
    assert emulator.registry.all_tools() == before


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_tool_name_that_names_nothing_is_an_error_in_plan_and_apply(
    repo: Path, run: Run, emulator: RunningEmulator, command: str
) -> None:
    write_tools(repo / "tools.d", 2)
    extra = ["--auto-approve"] if command == "apply" else []

    result = run(command, "--tool", "tool_0001", *extra)

    assert result.code == 1
    assert "--tool tool_0001: no such tool in tools.d or in the registry" in result.err
    assert emulator.registry.all_tools() == []


def _append_delete(name: str, tool_id: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["changes"].append({"action": "delete", "name": name, "id": tool_id, "live_version": 1, "fields": []})

    return change


def _managed_zero(tool_002: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        _append_delete("tool_002", tool_002)(document)
        document["managed"] = 0
        document["mass_delete_share"] = 1.0

    return change


def _repoint(other_id: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for item in document["changes"]:
            if item["name"] == "tool_001":
                item["id"] = other_id

    return change


@pytest.mark.parametrize("redigest", [False, True], ids=["edited", "edited-and-redigested"])
@pytest.mark.parametrize("edit", ["delete-protected", "delete-unmanaged", "managed-zero", "repoint"])
def test_a_hand_edited_plan_is_refused_before_anything_is_sent(
    repo: Path, run: Run, emulator: RunningEmulator, edit: str, redigest: bool
) -> None:
    _applied(repo, run)
    hand_made = _unmanaged(emulator)
    (repo / "tools.d" / "tool_003.yaml").unlink()  # the plan: update tool_001, delete tool_003 (1 of 4)
    (repo / "tools.d" / "tool_001.yaml").write_text(
        "name: tool_001\ndescription: Changed.\nendpoint: https://tools.example.com/tool/1\n"
    )
    assert run("plan", "--out", "plan.json").code == 0
    ids = {t["name"]: t["id"] for t in emulator.registry.all_tools()}
    change = {
        "delete-protected": _append_delete("tool_000", ids["tool_000"]),
        "delete-unmanaged": _append_delete("hand_made", hand_made["id"]),
        "managed-zero": _managed_zero(ids["tool_002"]),
        "repoint": _repoint(ids["tool_002"]),
    }[edit]
    _edit(repo / "plan.json", change, redigest=redigest)
    before = emulator.registry.all_tools()

    result = run("apply", "plan.json")

    assert result.code == 1
    if not redigest:
        assert "the plan file was changed after it was saved" in result.err
    else:
        expected = {
            "delete-protected": "tool_000: protected tools are never deleted",
            "delete-unmanaged": "hand_made: delete of a tool that is unmanaged",
            "managed-zero": "the plan deletes 2 of 4 managed tools (more than 25%)",
            "repoint": f"tool_001: its id {ids['tool_002']} is the registry's tool 'tool_002'",
        }[edit]
        assert expected in result.err
    assert emulator.registry.all_tools() == before


def test_an_untouched_saved_plan_passes_every_guard(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    _applied(repo, run)
    _unmanaged(emulator)
    (repo / "tools.d" / "tool_003.yaml").unlink()
    assert run("plan", "--out", "plan.json").code == 0

    result = run("apply", "plan.json")

    assert result.code == 0, result.err
    assert sorted(t["name"] for t in emulator.registry.all_tools()) == ["hand_made", "tool_000", "tool_001", "tool_002"]


def test_the_mass_delete_guard_speaks_at_plan_time_in_every_format(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    (repo / "reconciler.yaml").write_text("managed_by: reconciler\n")  # the only repository on this org
    write_tools(repo / "tools.d", 4)
    assert run("apply", "--auto-approve").code == 0
    for i in (1, 2, 3):
        (repo / "tools.d" / f"tool_{i:03d}.yaml").unlink()

    text, markdown, as_json = (run("plan", "--format", f) for f in ("text", "markdown", "json"))

    warning = "applying this plan will be refused: the plan deletes 3 of 4 managed tools (more than 25%)"
    for result in (text, markdown):
        assert result.code == 0
        assert warning in result.out
        assert "apply it with --allow-mass-delete" in result.out
    [said] = json.loads(as_json.out)["warnings"]
    assert said.startswith(warning)
    assert run("plan", "--out", "plan.json").code == 0
    assert "deletes 3 of 4" in run("apply", "plan.json").err
    assert run("apply", "plan.json", "--allow-mass-delete").code == 0


def test_a_saved_plan_deletes_nothing_once_reconciler_yaml_turns_pruning_off(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _applied(repo, run)
    (repo / "tools.d" / "tool_003.yaml").unlink()
    assert run("plan", "--out", "plan.json").code == 0
    (repo / "reconciler.yaml").write_text("prune: false\n")
    before = emulator.registry.all_tools()

    result = run("apply", "plan.json")

    assert result.code == 1
    assert "tool_003: reconciler.yaml sets prune: false, so no tool is deleted" in result.err
    assert emulator.registry.all_tools() == before


def _set_after_description(value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["changes"][0]["after"]["description"] = value

    return change


@pytest.mark.parametrize(
    ("change", "redigest"),
    [
        (lambda document: document.update(managed=float("nan")), True),
        (lambda document: document.update(mass_delete_share=float("inf")), True),
        (_set_after_description("\ud800"), False),  # no digest can be computed over it; still read first
    ],
    ids=["NaN", "Infinity", "lone-surrogate"],
)
def test_a_plan_file_is_read_strictly_like_live_data(
    repo: Path, run: Run, emulator: RunningEmulator, change: Callable[[dict[str, Any]], None], redigest: bool
) -> None:
    # json.dumps writes NaN, Infinity and \ud800, and the digest is recomputed over them: only a strict reader
    # stops such a file before anything is sent
    _applied(repo, run)
    (repo / "tools.d" / "tool_001.yaml").write_text(
        "name: tool_001\ndescription: Changed.\nendpoint: https://tools.example.com/tool/1\n"
    )
    assert run("plan", "--out", "plan.json").code == 0
    _edit(repo / "plan.json", change, redigest=redigest)
    before = emulator.registry.all_tools()

    result = run("apply", "plan.json")

    assert result.code == 1
    assert "plan.json: the plan file is not strict JSON" in result.err
    assert "Traceback" not in result.err
    assert emulator.registry.all_tools() == before


def test_a_plan_file_past_the_size_limit_is_refused(
    repo: Path, run: Run, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _applied(repo, run)
    (repo / "tools.d" / "tool_001.yaml").write_text(
        "name: tool_001\ndescription: Changed.\nendpoint: https://tools.example.com/tool/1\n"
    )
    assert run("plan", "--out", "plan.json").code == 0
    before = emulator.registry.all_tools()
    monkeypatch.setattr("reconciler.plan.planfile.MAX_PLAN_BYTES", 100)

    result = run("apply", "plan.json")

    assert result.code == 1
    assert "plan.json: the plan file is larger than the limit of 100 bytes" in result.err
    assert emulator.registry.all_tools() == before


def _in_change(name: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for item in document["changes"]:
            if item["name"] == name:
                edit(item)

    return change


DAMAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "unknown-action": _in_change("tool_001", lambda c: c.update(action="frobnicate")),
    "update-without-payload": _in_change("tool_001", lambda c: c.update(after=None)),
    "payload-not-an-object": _in_change("tool_001", lambda c: c.update(after=[1])),
    "name-not-a-string": _in_change("tool_001", lambda c: c.update(name=7)),
    "version-not-a-number": _in_change("tool_001", lambda c: c.update(live_version="1")),
    "change-not-an-object": lambda document: document["changes"].append(5),
    "changes-not-a-list": lambda document: document.update(changes={"a": 1}),
    "one-tool-twice": lambda document: document["changes"].append(dict(document["changes"][0])),
    "field-path-not-a-string": _in_change("tool_001", lambda c: c.update(fields=[{"path": 5, "kind": "add"}])),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_redigested_plan_of_the_wrong_shape_is_refused_as_damaged(
    repo: Path, run: Run, emulator: RunningEmulator, damage: str
) -> None:
    """Someone who recomputes the digest after an edit gets the plan's own error (exit 1), not an internal
    error (exit 3) from deep inside apply, and nothing is sent."""
    _applied(repo, run)
    (repo / "tools.d" / "tool_001.yaml").write_text(
        "name: tool_001\ndescription: Changed.\nendpoint: https://tools.example.com/tool/1\n"
    )
    assert run("plan", "--out", "plan.json").code == 0
    _edit(repo / "plan.json", DAMAGES[damage], redigest=True)
    before = emulator.registry.all_tools()

    result = run("apply", "plan.json")

    assert result.code == 1, result.err
    assert "plan.json: the plan file is damaged" in result.err
    assert "internal error" not in result.err
    assert emulator.registry.all_tools() == before


@pytest.mark.parametrize("field", ["name", "owner"])
def test_a_redigested_plan_whose_payload_is_not_the_tool_it_names_is_refused(
    repo: Path, run: Run, emulator: RunningEmulator, field: str
) -> None:
    """The plan shows `update tool_001` with its field changes; a payload edited to rename the tool (or to hand
    it to no owner) would do what nobody reviewed."""
    _applied(repo, run)
    (repo / "tools.d" / "tool_001.yaml").write_text(
        "name: tool_001\ndescription: Changed.\nendpoint: https://tools.example.com/tool/1\n"
    )
    assert run("plan", "--out", "plan.json").code == 0

    def edit(change: dict[str, Any]) -> None:
        if field == "name":
            change["after"]["name"] = "renamed"
        else:
            del change["after"]["labels"]["managed-by"]

    _edit(repo / "plan.json", _in_change("tool_001", edit), redigest=True)
    before = emulator.registry.all_tools()

    result = run("apply", "plan.json")

    assert result.code == 1, result.err
    assert "the plan may not be applied" in result.err
    assert emulator.registry.all_tools() == before
