"""A server that fills a default the desired state leaves unset (`rateLimit`, or one of its keys) has not
drifted: the plan after the create is empty, and a real edit outside git is still drift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import RunningEmulator

Run = Callable[..., Any]
TOOL = "name: lookup\ndescription: Looks up.\nendpoint: https://tools.example.com/lookup\n"


@pytest.mark.parametrize(
    ("written", "default"),
    [
        ("", {"requestsPerMinute": 300, "burstSize": 50}),
        ("rate_limit: {requests_per_minute: 60}\n", {"requestsPerMinute": 300, "burstSize": 50}),
        ("rate_limit: {requests_per_minute: 300, burst_size: 50}\n", {"requestsPerMinute": 300, "burstSize": 50}),
    ],
    ids=["unset", "half-set", "set-to-the-default"],
)
def test_a_default_the_server_fills_is_no_drift_and_no_change(
    repo: Path, run: Run, start_emulator: Callable[..., RunningEmulator], written: str, default: dict[str, int]
) -> None:
    emulator = start_emulator(default_rate_limit=default)
    (repo / "tools.d" / "lookup.yaml").write_text(TOOL + written)
    assert run("apply", "--auto-approve").code == 0
    [stored] = emulator.registry.all_tools()
    assert stored["rateLimit"], "the server filled its default"

    again = run("plan", "--detailed-exitcode")

    assert again.code == 0, again.out
    assert "No changes" in again.out
    assert "outside of reconciler" not in again.out


def test_an_edit_outside_git_is_still_drift_when_the_server_fills_defaults(
    repo: Path, run: Run, start_emulator: Callable[..., RunningEmulator]
) -> None:
    emulator = start_emulator(default_rate_limit={"requestsPerMinute": 300, "burstSize": 50})
    (repo / "tools.d" / "lookup.yaml").write_text(TOOL)
    assert run("apply", "--auto-approve").code == 0
    [stored] = emulator.registry.all_tools()
    emulator.registry.put_raw({**stored, "description": "Edited in the UI.", "version": stored["version"] + 1})

    again = run("plan", "--detailed-exitcode")

    assert again.code == 2
    assert "Changed outside of reconciler" in again.out
    assert "Edited in the UI." in again.out
