"""What "the org changed since the plan" covers when a saved plan is applied (DESIGN §5).

A saved plan was reviewed against the registry as it was: every tool this repository manages, changed or not.
Applying it refuses when that set moved since (a managed tool created, edited or deleted anywhere, not only one
the plan changes), as Terraform refuses a saved plan once the state it was made from has moved on. Tools that
other repositories or people own are not part of it: their churn never makes a plan stale.
"""

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


def _planned(repo: Path, run: Run) -> None:
    """Three managed tools; a saved plan that changes tool_000 only."""
    write_tools(repo / "tools.d", 3)
    assert run("apply", "--auto-approve").code == 0
    path = repo / "tools.d" / "tool_000.yaml"
    path.write_text(path.read_text().replace("Does thing 0.", "Does thing 0 better."))
    assert run("plan", "--out", "plan.json").code == 0


def _tool(emulator: RunningEmulator, name: str) -> dict[str, Any]:
    return next(tool for tool in emulator.registry.all_tools() if tool["name"] == name)


def _edit_in_ui(emulator: RunningEmulator) -> str:
    tool = _tool(emulator, "tool_002")
    emulator.registry.put_raw({**tool, "description": "Edited in the UI.", "version": tool["version"] + 1})
    return "tool_002: changed since the plan (version 2 in the registry, 1 when planned)"


def _delete(emulator: RunningEmulator) -> str:
    emulator.registry.delete(_tool(emulator, "tool_002")["id"])
    return "tool_002: deleted since the plan"


def _create_managed(emulator: RunningEmulator) -> str:
    labels = dict(_tool(emulator, "tool_002")["labels"])  # another branch's apply of this repository
    tool = {k: v for k, v in _tool(emulator, "tool_002").items() if k not in ("id", "version")}
    emulator.registry.create({**tool, "name": "tool_new", "labels": labels})
    return "tool_new: created since the plan"


@pytest.mark.parametrize("meanwhile", [_edit_in_ui, _delete, _create_managed], ids=["edited", "deleted", "created"])
def test_a_managed_tool_the_plan_does_not_change_makes_it_stale_when_it_moved(
    repo: Path, run: Run, emulator: RunningEmulator, meanwhile: Callable[[RunningEmulator], str]
) -> None:
    _planned(repo, run)
    reason = meanwhile(emulator)
    before = emulator.registry.all_tools()

    result = run("apply", "plan.json")

    assert result.code == 1
    assert "plan is stale" in result.err and reason in result.err, result.err
    assert "Traceback" not in result.err
    assert emulator.registry.all_tools() == before


def test_tools_this_repository_does_not_manage_never_make_a_plan_stale(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _planned(repo, run)
    emulator.registry.put_raw(
        {"name": "hand_made", "description": "Made in the UI.", "executionEndpoint": "https://x", "schema": {}}
    )
    emulator.registry.put_raw(
        {
            "name": "theirs",
            "description": "Another repository's.",
            "executionEndpoint": "https://x",
            "schema": {},
            "labels": {"managed-by": "team-b"},
        }
    )

    result = run("apply", "plan.json")

    assert result.code == 0, result.err
    assert _tool(emulator, "tool_000")["description"] == "Does thing 0 better."


def test_a_plan_saved_before_the_registry_was_recorded_still_applies(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    _planned(repo, run)
    document = json.loads((repo / "plan.json").read_text())
    del document["registry"]  # as an older reconciler saved it
    document["digest"] = content_digest(document)
    (repo / "plan.json").write_text(json.dumps(document))

    result = run("apply", "plan.json")

    assert result.code == 0, result.err
    assert _tool(emulator, "tool_000")["description"] == "Does thing 0 better."
