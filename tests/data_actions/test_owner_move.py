"""Renaming `managed_by` on the Data Actions target: `previously_managed_by` moves each action tools.d names to the
new owner in place (same id, through a draft), as the tools target does (docs/gitops.md). Real CLI, one emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.emulator import RunningEmulator

from .conftest import INTEGRATION
from .test_cli import TOOL, org  # noqa: F401 - the fixture: an integration, and one tool applied under `reconciler`

Run = Callable[..., Any]
MOVED = f"target: data-actions\nintegration: {INTEGRATION}\nmanaged_by: team-billing\n"


def _owners(emulator: RunningEmulator) -> dict[str, str]:
    found = {}
    for action in emulator.actions.actions():
        marker = action["contract"]["input"]["inputSchema"]["id"]  # urn:reconciler:OWNER:sha256:...
        found[action["name"]] = marker.split(":")[2]
    return found


def _three_applied(repo: Path, run: Run) -> None:
    for name in ("reserve_stock", "track_order"):
        text = TOOL.format(description="Does it.").replace("check_inventory", name)
        (repo / "tools.d" / f"{name}.yaml").write_text(text, encoding="utf-8")
    assert run("apply", "--auto-approve").code == 0


def test_a_renamed_owner_moves_its_actions_in_place_and_a_half_way_failure_converges(
    org: RunningEmulator,  # noqa: F811
    repo: Path,
    run: Run,
) -> None:
    _three_applied(repo, run)
    ids = {action["name"]: action["id"] for action in org.actions.actions()}
    (repo / "reconciler.yaml").write_text(MOVED, encoding="utf-8")
    refused = run("plan")
    (repo / "reconciler.yaml").write_text(MOVED + "previously_managed_by: [reconciler]\n", encoding="utf-8")
    plan = run("plan", "--format", "json")
    org.faults.inject("drop", times=5, methods=("PATCH",))  # the 5 tries of one move's draft: it fails
    failed = run("apply", "--auto-approve", "--parallelism", "1")
    halfway = _owners(org)
    org.faults.clear()
    rerun = run("apply", "--auto-approve")

    assert refused.code == 1 and "list it under previously_managed_by" in refused.err
    changes = json.loads(plan.out)["changes"]
    assert [(c["action"], c["name"]) for c in changes] == [
        ("adopt", "check_inventory"),
        ("adopt", "reserve_stock"),
        ("adopt", "track_order"),
    ]
    assert {f["path"] for c in changes for f in c["fields"]} == {"contract.input.inputSchema.id"}
    assert failed.code == 1, failed.output
    assert sorted(halfway.values()) == ["reconciler", "team-billing", "team-billing"]
    assert rerun.code == 0, rerun.output
    assert set(_owners(org).values()) == {"team-billing"}
    assert {action["name"]: action["id"] for action in org.actions.actions()} == ids
    assert org.actions.drafts() == []
    assert run("plan", "--detailed-exitcode").code == 0


def test_a_saved_move_is_refused_as_stale_once_an_action_changed(
    org: RunningEmulator,  # noqa: F811
    repo: Path,
    run: Run,
) -> None:
    _three_applied(repo, run)
    (repo / "reconciler.yaml").write_text(MOVED + "previously_managed_by: [reconciler]\n", encoding="utf-8")
    assert run("plan", "--out", "plan.json").code == 0
    [action] = [action for action in org.actions.actions() if action["name"] == "track_order"]
    org.actions.put_raw({**action, "version": action["version"] + 1, "category": "moved in the UI"})

    stale = run("apply", "plan.json")

    assert stale.code == 1
    assert "plan is stale" in stale.err and "track_order: version 2 in the registry, 1 when planned" in stale.err
    assert set(_owners(org).values()) == {"reconciler"}
    assert run("plan", "--out", "plan.json").code == 0
    assert run("apply", "plan.json").code == 0
    assert set(_owners(org).values()) == {"team-billing"}
