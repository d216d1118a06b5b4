"""Two repositories on one org: the default `managed_by` is everyone's, so deleting under it needs this
repository to say the owner is its own (DESIGN §5; docs/gitops.md). Real CLI, one emulator as the org."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import RunningEmulator

from .conftest import write_tools

Run = Callable[..., Any]


@pytest.fixture
def first(repo: Path, run: Run, emulator: RunningEmulator) -> Path:
    """Repository A, on the default owner, has applied five tools."""
    write_tools(repo / "tools.d", 5, prefix="alpha")
    assert run("apply", "--auto-approve").code == 0
    return repo


def _second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: str = "") -> Path:
    """Repository B, next to A, as the current directory."""
    other = tmp_path / "second"
    (other / ".git").mkdir(parents=True)
    write_tools(other / "tools.d", 15, prefix="beta")
    if settings:
        (other / "reconciler.yaml").write_text(settings, encoding="utf-8")
    monkeypatch.chdir(other)
    return other


def _names(emulator: RunningEmulator) -> list[str]:
    return sorted(tool["name"] for tool in emulator.registry.all_tools())


ALPHAS = [f"alpha_{i:03d}" for i in range(5)]
BETAS = [f"beta_{i:03d}" for i in range(15)]


def test_a_second_repository_on_the_default_owner_may_not_delete_the_first_ones_tools(
    first: Path, tmp_path: Path, run: Run, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _second(tmp_path, monkeypatch)
    # B's first apply meets A's tools as its own and would delete all five: `--no-prune` (or `prune: false`)
    # gets B going, and from then on the mass-delete guard no longer stops B: 5 of 20 is 25%
    assert run("apply", "--auto-approve", "--no-prune").code == 0

    plan = run("plan", "--format", "json")
    applied = run("apply", "--auto-approve")
    saved = run("plan", "--out", "plan.json")
    applied_saved = run("apply", "plan.json")

    assert plan.code == 0
    [warning] = [w for w in json.loads(plan.out)["warnings"] if "managed_by" in w]
    assert warning.startswith("applying this plan will be refused: the plan deletes 5 tools managed by the default")
    for refused in (applied, applied_saved):
        assert refused.code == 1
        assert "Set managed_by in a reconciler.yaml at the repository root" in refused.err
        assert "Traceback" not in refused.err
    assert saved.code == 0
    assert _names(emulator) == ALPHAS + BETAS  # A's tools are still there


def test_a_repository_that_names_its_own_owner_leaves_the_others_alone(
    first: Path, tmp_path: Path, run: Run, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _second(tmp_path, monkeypatch, "managed_by: team-beta\n")

    result = run("apply", "--auto-approve")

    assert result.code == 0, result.err
    assert "0 destroyed" in result.err
    assert _names(emulator) == ALPHAS + BETAS
    monkeypatch.chdir(first)
    assert run("plan", "--detailed-exitcode").code == 0  # A sees B's tools as another owner's: no change


def test_naming_the_default_owner_keeps_the_tools_and_allows_pruning(
    first: Path, run: Run, emulator: RunningEmulator
) -> None:
    (first / "tools.d" / "alpha_001.yaml").unlink()
    refused = run("apply", "--auto-approve")
    assert refused.code == 1 and "managed_by" in refused.err
    assert "alpha_001" in _names(emulator)

    (first / "reconciler.yaml").write_text("managed_by: reconciler\n", encoding="utf-8")
    plan = run("plan", "--format", "json")
    result = run("apply", "--auto-approve")

    assert [(c["action"], c["name"]) for c in json.loads(plan.out)["changes"]] == [("delete", "alpha_001")]
    assert json.loads(plan.out)["warnings"] == []
    assert result.code == 0, result.err
    assert _names(emulator) == [name for name in ALPHAS if name != "alpha_001"]


def test_the_local_registry_is_this_repository_s_alone_and_prunes_on_the_default(
    repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GENESYS_CLOUD_API_URL", raising=False)
    monkeypatch.delenv("GENESYS_CLOUD_ACCESS_TOKEN", raising=False)
    write_tools(repo / "tools.d", 5)
    assert run("apply", "--auto-approve").code == 0
    (repo / "tools.d" / "tool_001.yaml").unlink()

    result = run("apply", "--auto-approve")

    assert result.code == 0, result.err
    assert "1 destroyed" in result.err
