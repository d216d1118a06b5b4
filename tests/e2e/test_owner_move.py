"""Renaming a repository's `managed_by`: `previously_managed_by` moves its tools to the new owner, by name, as an
adoption the plan shows (Terraform's `moved` block; docs/gitops.md). Real CLI, one emulator as the org."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.emulator import RunningEmulator

from .conftest import write_tools

Run = Callable[..., Any]


def _owners(emulator: RunningEmulator) -> dict[str, str]:
    return {tool["name"]: tool["labels"]["managed-by"] for tool in emulator.registry.all_tools()}


def _applied_under_the_default(repo: Path, run: Run, count: int = 3) -> None:
    write_tools(repo / "tools.d", count)
    assert run("apply", "--auto-approve").code == 0


def test_renaming_managed_by_is_refused_until_the_old_owner_is_listed(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _applied_under_the_default(repo, run)
    (repo / "reconciler.yaml").write_text("managed_by: team-billing\n", encoding="utf-8")

    refused = run("plan")

    assert refused.code == 1
    assert "managed by 'reconciler', not 'team-billing'" in refused.err
    assert "list it under previously_managed_by in reconciler.yaml" in refused.err
    assert "Traceback" not in refused.err
    assert set(_owners(emulator).values()) == {"reconciler"}


def test_previously_managed_by_moves_each_tool_once_and_then_says_it_can_go(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _applied_under_the_default(repo, run)
    ids = {tool["name"]: tool["id"] for tool in emulator.registry.all_tools()}
    (repo / "reconciler.yaml").write_text(
        "managed_by: team-billing\npreviously_managed_by: [reconciler]\n", encoding="utf-8"
    )

    plan = run("plan", "--format", "json")
    text = run("plan", "--detailed-exitcode")
    applied = run("apply", "--auto-approve")
    again = run("plan", "--detailed-exitcode", "--format", "json")

    assert plan.code == 0, plan.err
    changes = json.loads(plan.out)["changes"]
    assert [(c["action"], c["name"]) for c in changes] == [("adopt", f"tool_{i:03d}") for i in range(3)]
    assert all("previously_managed_by" in c["reason"] and "to 'team-billing'" in c["reason"] for c in changes)
    # the one difference shown is the owner's label: the move is reviewable as what it is
    assert {f["path"] for c in changes for f in c["fields"]} == {"labels.managed-by"}
    assert text.code == 2 and "Plan: 3 to adopt, 0 to add, 3 to change, 0 to destroy." in text.out
    assert applied.code == 0, applied.err
    assert _owners(emulator) == {f"tool_{i:03d}": "team-billing" for i in range(3)}
    assert {tool["name"]: tool["id"] for tool in emulator.registry.all_tools()} == ids  # moved in place
    assert again.code == 0, again.out
    assert json.loads(again.out)["warnings"] == [
        "previously_managed_by: no tool of tools.d is managed by 'reconciler' any more; the move is done, and the "
        "owner can be removed from previously_managed_by in reconciler.yaml"
    ]
    (repo / "reconciler.yaml").write_text("managed_by: team-billing\n", encoding="utf-8")
    assert run("plan", "--detailed-exitcode").code == 0


def test_only_what_tools_d_names_moves_and_nothing_of_the_old_owner_is_deleted(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    """Another repository on the default owner keeps its tools: the move takes names, never the owner whole."""
    _applied_under_the_default(repo, run, 4)
    (repo / "tools.d" / "tool_003.yaml").unlink()  # another repository's tool now, or one no longer wanted
    (repo / "reconciler.yaml").write_text(
        "managed_by: team-billing\npreviously_managed_by: [reconciler]\n", encoding="utf-8"
    )

    plan = run("plan", "--format", "json")
    applied = run("apply", "--auto-approve")

    assert [c["action"] for c in json.loads(plan.out)["changes"]] == ["adopt"] * 3
    assert (
        "previously_managed_by: 1 tool managed by 'reconciler' that tools.d does not name stays that owner's "
        "(tool_003); only what tools.d names is moved" in json.loads(plan.out)["warnings"]
    )
    assert applied.code == 0, applied.err
    assert _owners(emulator)["tool_003"] == "reconciler"


def test_a_move_that_fails_half_way_converges_when_run_again(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    _applied_under_the_default(repo, run)
    (repo / "reconciler.yaml").write_text(
        "managed_by: team-billing\npreviously_managed_by: [reconciler]\n", encoding="utf-8"
    )
    emulator.faults.inject("drop", times=5, methods=("PUT",))  # the 5 tries of one move: it fails

    failed = run("apply", "--auto-approve", "--parallelism", "1")
    halfway = _owners(emulator)
    emulator.faults.clear()
    plan = run("plan", "--format", "json")
    rerun = run("apply", "--auto-approve")

    assert failed.code == 1, failed.err
    assert sorted(halfway.values()) == ["reconciler", "team-billing", "team-billing"]
    [left] = [name for name, owner in halfway.items() if owner == "reconciler"]
    assert [(c["action"], c["name"]) for c in json.loads(plan.out)["changes"]] == [("adopt", left)]
    assert rerun.code == 0, rerun.err
    assert set(_owners(emulator).values()) == {"team-billing"}
    assert run("plan", "--detailed-exitcode").code == 0


def test_a_saved_move_is_stale_once_the_tool_changed_and_refused_once_the_setting_is_gone(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _applied_under_the_default(repo, run, 2)
    settings = "managed_by: team-billing\npreviously_managed_by: [reconciler]\n"
    (repo / "reconciler.yaml").write_text(settings, encoding="utf-8")
    assert run("plan", "--out", "plan.json").code == 0
    tool = next(t for t in emulator.registry.all_tools() if t["name"] == "tool_001")
    emulator.registry.put_raw({**tool, "description": "Edited in the UI.", "version": tool["version"] + 1})

    stale = run("apply", "plan.json")

    assert stale.code == 1
    assert "plan is stale" in stale.err and "tool_001: version 2 in the registry, 1 when planned" in stale.err
    assert run("plan", "--out", "plan.json").code == 0
    (repo / "reconciler.yaml").write_text("managed_by: team-billing\n", encoding="utf-8")
    refused = run("apply", "plan.json")  # the guards are reconciler.yaml's as it is now
    assert refused.code == 1
    assert "cannot adopt a tool that 'reconciler' manages" in refused.err
    assert set(_owners(emulator).values()) == {"reconciler"}
    (repo / "reconciler.yaml").write_text(settings, encoding="utf-8")
    assert run("apply", "plan.json").code == 0
    assert set(_owners(emulator).values()) == {"team-billing"}


def test_previously_managed_by_that_names_the_owner_itself_is_an_error_at_its_line(repo: Path, run: Run) -> None:
    (repo / "reconciler.yaml").write_text(
        "managed_by: team-billing\npreviously_managed_by: [team-billing]\n", encoding="utf-8"
    )
    write_tools(repo / "tools.d", 1)

    result = run("validate")

    assert result.code == 1
    assert "reconciler.yaml:2" in result.output
    assert "'previously_managed_by' names 'team-billing', which is managed_by itself" in result.output


def test_export_all_writes_the_old_owners_tools_for_the_move(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    """With previously_managed_by, the old owner's tools are this repository's to define: `export --all` wrote
    none of them ("managed by 'reconciler': plan here would refuse to take it over"), which is no longer so."""
    _applied_under_the_default(repo, run, 2)
    for path in (repo / "tools.d").iterdir():
        path.unlink()
    (repo / "reconciler.yaml").write_text(
        "managed_by: team-billing\npreviously_managed_by: [reconciler]\n", encoding="utf-8"
    )

    exported = run("export", "--all", "--out", "tools.d")
    plan = run("plan", "--format", "json")

    assert exported.code == 0, exported.err
    assert "refuse" not in exported.err
    assert sorted(path.name for path in (repo / "tools.d").iterdir()) == ["tool_000.yaml", "tool_001.yaml"]
    assert [c["action"] for c in json.loads(plan.out)["changes"]] == ["adopt", "adopt"]
