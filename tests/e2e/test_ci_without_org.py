"""A CI run with no org configured: the secrets did not reach the job (a fork, a renamed secret, another CI
system), and the CLI would fall back to a throwaway local registry in the runner and report success. apply and
export refuse unless the local registry is asked for; plan says so under its first line (DESIGN §6; docs/gitops.md).
Real CLI, in-process, as a pipeline step runs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import RunningEmulator

from .conftest import write_tools

Run = Callable[..., Any]
REFUSED = "no org is configured"


@pytest.fixture
def ci(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A GitHub Actions job whose credentials are missing."""
    monkeypatch.delenv("RECONCILER_ALLOW_LOCAL_REGISTRY", raising=False)
    monkeypatch.setenv("CI", "true")
    write_tools(repo / "tools.d", 2)
    return repo


@pytest.mark.parametrize("argv", [("apply", "--auto-approve"), ("export", "--all", "--out", "exported")])
def test_apply_and_export_in_ci_without_an_org_are_refused_before_anything_starts(
    ci: Path, run: Run, argv: tuple[str, ...]
) -> None:
    result = run(*argv)

    assert result.code == 1
    assert result.err.startswith(f"error: {REFUSED}")
    assert "this is a CI run (CI is set)" in result.err
    assert "GENESYS_CLOUD_CLIENT_ID, GENESYS_CLOUD_CLIENT_SECRET and GENESYS_CLOUD_REGION" in result.err  # README's
    assert "pass --allow-local-registry (or RECONCILER_ALLOW_LOCAL_REGISTRY=1)" in result.err
    assert "Traceback" not in result.err
    assert not (ci / ".reconciler").exists()  # no local registry was started, nothing was written
    assert not (ci / "exported").exists()


def test_a_saved_plan_in_ci_without_an_org_is_refused_too(ci: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("plan", "--out", "plan.json").code == 0
    result = run("apply", "plan.json")
    assert result.code == 1 and REFUSED in result.err


@pytest.mark.parametrize("variable", ["GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD", "JENKINS_URL", "BUILDKITE"])
def test_other_ci_systems_are_told_apart_by_their_own_variable(
    ci: Path, run: Run, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.delenv("CI")
    monkeypatch.setenv(variable, "https://ci.example.com/" if variable == "JENKINS_URL" else "True")
    result = run("apply", "--auto-approve")
    assert result.code == 1 and f"this is a CI run ({variable} is set)" in result.err


def test_plan_and_a_dry_run_in_ci_without_an_org_say_so_under_their_first_line(ci: Path, run: Run) -> None:
    plan = run("plan", "--format", "json")
    dry = run("apply", "--dry-run")

    for result in (plan, dry):
        assert result.code == 0, result.err
        first, second = result.err.splitlines()[:2]
        assert first == "target: local registry (.reconciler/registry.db)"
        assert second.startswith(f"warning: {REFUSED}") and "throwaway local registry" in second
    assert json.loads(plan.out)["summary"]["create"] == 2


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_the_local_registry_asked_for_in_ci_is_used(
    ci: Path, run: Run, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "variable":
        monkeypatch.setenv("RECONCILER_ALLOW_LOCAL_REGISTRY", "1")
    extra = ("--allow-local-registry",) if how == "flag" else ()

    applied = run("apply", "--auto-approve", *extra)
    planned = run("plan", "--detailed-exitcode", *extra)

    assert applied.code == 0, applied.err
    assert "Apply complete! Resources: 0 adopted, 2 added" in applied.err
    assert planned.code == 0 and "warning" not in planned.err


@pytest.mark.parametrize("value", ["false", "0", ""])
def test_ci_set_to_false_is_no_ci_run(ci: Path, run: Run, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert run("apply", "--auto-approve").code == 0


def test_ci_with_an_org_configured_applies_to_it(ci: Path, run: Run, emulator: RunningEmulator) -> None:
    result = run("apply", "--auto-approve")
    assert result.code == 0, result.err
    assert "warning" not in result.err
    assert len(emulator.registry.all_tools()) == 2
