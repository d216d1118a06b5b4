"""apply.yml and drift.yml, run step by step: which commit may be applied (on a real git history), the plan job
that decides whether there is anything to apply, the apply of exactly the saved plan, and its summary."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
APPLY = yaml.safe_load((WORKFLOWS / "apply.yml").read_text(encoding="utf-8"))
DRIFT = yaml.safe_load((WORKFLOWS / "drift.yml").read_text(encoding="utf-8"))
CREDENTIALS = {
    "GENESYSCLOUD_OAUTHCLIENT_ID": "client-id",
    "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s3cret",
    "GENESYSCLOUD_REGION": "eu-central-1",
}


def step(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for job in workflow["jobs"].values() for s in job["steps"] if s.get("name") == name]
    return found


def test_apply_runs_on_every_push_to_main_and_on_demand() -> None:
    on = APPLY[True]
    assert set(on) == {"push", "workflow_dispatch"}
    assert on["push"] == {"branches": ["main"]}  # no paths: the plan decides, whatever file the state reads


def test_drift_and_apply_share_one_queue_that_never_drops_a_pending_apply() -> None:
    expected = {"group": "reconciler-org", "cancel-in-progress": False, "queue": "max"}
    assert APPLY["concurrency"] == expected
    assert DRIFT["concurrency"] == expected


def test_only_the_apply_job_runs_in_the_environment_and_only_with_changes() -> None:
    jobs = APPLY["jobs"]
    assert "environment" not in jobs["plan"]
    assert jobs["apply"]["environment"] == "production"
    assert jobs["apply"]["needs"] == "plan"
    assert jobs["apply"]["if"] == "needs.plan.outputs.has-changes == 'true'"
    steps = [s.get("name") or s["uses"].split("@")[0] for s in jobs["plan"]["steps"]]
    # the commit is checked before anything is installed or any secret is given
    assert steps.index("Check the commit") < steps.index("Install reconciler") < steps.index("Plan")
    assert jobs["plan"]["steps"][0]["with"]["fetch-depth"] == 0


# --- which commit may be applied --------------------------------------------------------------------------------


def git(work: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def clone(tmp_path: Path) -> dict[str, str]:
    """A checkout as actions/checkout leaves it with fetch-depth 0: two commits, origin/main at the newer."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    shas = {}
    for name in ("old", "new"):
        (work / "tools.d").mkdir(exist_ok=True)
        (work / "tools.d" / "a.yaml").write_text(f"# {name}\n", encoding="utf-8")
        git(work, "add", ".")
        git(work, "commit", "-q", "-m", name)
        shas[name] = git(work, "rev-parse", "HEAD")
    git(work, "update-ref", "refs/remotes/origin/main", shas["new"])
    return shas


def check_commit(run_step: Any, sha: str, ref: str = "refs/heads/main") -> Any:
    env = {"GITHUB_SHA": sha, "GITHUB_REF": ref, "DEFAULT_BRANCH": "main"}
    return run_step(step(APPLY, "Check the commit")["run"], env)


def test_the_head_of_the_default_branch_is_applied(run_step: Any, clone: dict[str, str]) -> None:
    result = check_commit(run_step, clone["new"])
    assert result.code == 0, result.stdout + result.stderr
    assert "::error" not in result.stdout


def test_another_branch_is_refused(run_step: Any, clone: dict[str, str]) -> None:
    result = check_commit(run_step, clone["new"], ref="refs/heads/feature")
    assert result.code == 1
    assert "::error title=reconciler::apply runs only from the default branch (main), not refs/heads/feature" in (
        result.stdout
    )


def test_a_rerun_of_an_old_commit_is_refused(run_step: Any, clone: dict[str, str]) -> None:
    result = check_commit(run_step, clone["old"])
    assert result.code == 1
    assert f"commit {clone['old'][:7]} is no longer the head of main ({clone['new'][:7]})" in result.stdout


def test_a_rerun_of_the_apply_job_alone_checks_the_commit_again(run_step: Any, clone: dict[str, str]) -> None:
    """ "Re-run failed jobs" re-runs the apply job alone, with the plan saved back then: without a check of its
    own it put an old commit's plan over a newer state (the stale-plan guard misses a tool the newer commit
    left as the org had it)."""
    job = APPLY["jobs"]["apply"]
    names = [s.get("name") or s["uses"].split("@")[0] for s in job["steps"]]
    assert names.index("Check the commit again") < names.index("Install reconciler") < names.index("Apply")
    assert job["steps"][0]["with"]["fetch-depth"] == 0
    env = {"GITHUB_SHA": clone["old"], "GITHUB_REF": "refs/heads/main", "DEFAULT_BRANCH": "main"}
    result = run_step(step(APPLY, "Check the commit again")["run"], env)
    assert result.code == 1
    assert f"commit {clone['old'][:7]} is no longer the head of main ({clone['new'][:7]})" in result.stdout
    head = run_step(step(APPLY, "Check the commit again")["run"], {**env, "GITHUB_SHA": clone["new"]})
    assert head.code == 0, head.stdout + head.stderr


# --- the plan job ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "has_changes"), [(0, "false"), (2, "true")])
def test_the_plan_job_saves_the_plan_and_says_whether_to_apply(
    run_step: Any, tmp_path: Path, code: int, has_changes: str
) -> None:
    result = run_step(step(APPLY, "Plan")["run"], CREDENTIALS, fake_code=code)
    assert result.code == 0, result.stderr
    assert result.outputs["has-changes"] == has_changes
    assert result.calls == [
        ["plan", "--detailed-exitcode", "--out", "saved-plan.json"],
        ["show", "saved-plan.json", "--format", "markdown"],
    ]
    assert (tmp_path / "work" / "saved-plan.json").is_file()
    assert ("nothing to apply" in result.summary) == (code == 0)


def test_a_failed_plan_fails_the_job(run_step: Any) -> None:
    result = run_step(step(APPLY, "Plan")["run"], CREDENTIALS, fake_code=1)
    assert result.code == 1
    assert "has-changes" not in result.outputs


@pytest.mark.parametrize(("workflow", "name"), [(APPLY, "Plan"), (APPLY, "Apply"), (DRIFT, "Plan")])
def test_drift_and_apply_refuse_to_run_without_credentials(run_step: Any, workflow: Any, name: str) -> None:
    result = run_step(
        step(workflow, name)["run"], {"GENESYSCLOUD_OAUTHCLIENT_ID": "", "GENESYSCLOUD_OAUTHCLIENT_SECRET": ""}
    )
    assert result.code == 1
    assert "::error" in result.stdout and "GENESYSCLOUD_OAUTHCLIENT_SECRET" in result.stdout
    assert result.calls == []


# --- the apply job --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "allow", "extra"),
    [(0, "", []), (0, "false", []), (0, "true", ["--allow-mass-delete"]), (1, "", [])],
)
def test_apply_applies_exactly_the_saved_plan_and_keeps_its_outcome(
    run_step: Any, tmp_path: Path, code: int, allow: str, extra: list[str]
) -> None:
    result = run_step(step(APPLY, "Apply")["run"], {**CREDENTIALS, "ALLOW_MASS_DELETE": allow}, fake_code=code)
    assert result.code == code  # pipefail: tee does not hide a failed apply
    assert result.calls == [["apply", "saved-plan.json", "--audit-log", "audit.jsonl", *extra]]
    outcome = (tmp_path / "work" / "outcome.txt").read_text(encoding="utf-8")
    assert outcome == "target: org example\n[1/1] get_order: updated (id 7)\n"  # stderr only
    assert "Plan:" in result.stdout and "get_order: updated" in result.stdout  # both streams reach the log


@pytest.mark.parametrize("outcome", ["success", "failure"])
def test_the_summary_shows_what_was_applied_and_the_plan(run_step: Any, tmp_path: Path, outcome: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "outcome.txt").write_text(
        "target: org example\n[1/1] get_order: updated (id 7)\nApply complete! Resources: 0 adopted, 0 added, "
        "1 changed, 0 destroyed.\n",
        encoding="utf-8",
    )
    (work / "audit.jsonl").write_text('{"tool": "get_order"}\n', encoding="utf-8")
    (work / "plan.md").write_text("<!-- reconciler-plan -->\n### reconciler plan for `org`\n", encoding="utf-8")
    result = run_step(step(APPLY, "Job summary")["run"], {"OUTCOME": outcome})
    assert result.code == 0
    summary = result.summary
    assert summary.startswith(f"## reconciler apply: {outcome}\n")
    assert "get_order: updated (id 7)" in summary and "Apply complete! Resources:" in summary
    assert "1 changes recorded in the audit log" in summary
    assert "<details><summary>The plan applied</summary>" in summary and "### reconciler plan for `org`" in summary
    assert summary.count("<details>") == summary.count("</details>") == 1
    assert summary.count("````") == 2


def test_plan_then_apply_end_to_end_with_the_real_cli(run_step: Any, tmp_path: Path, start: Any) -> None:
    """The two jobs' scripts in order, with the real CLI against an emulated org reached through its URL: the
    plan job saves a plan with changes, the apply job applies exactly it, the summary shows what happened, and
    the next plan has nothing to apply."""
    org = start()
    work = tmp_path / "work"
    (work / "tools.d").mkdir(parents=True)
    (work / ".git").mkdir()
    (work / "tools.d" / "a.yaml").write_text(
        "name: check_stock\ndescription: Checks stock.\nendpoint: https://tools.example.com/stock\n", encoding="utf-8"
    )
    env = {**CREDENTIALS, "GENESYS_CLOUD_API_URL": org.url}
    planned = run_step(step(APPLY, "Plan")["run"], env, real_cli=True)
    assert planned.code == 0, planned.stdout + planned.stderr
    assert planned.outputs["has-changes"] == "true"
    assert "check_stock" in (work / "plan.md").read_text(encoding="utf-8")
    applied = run_step(step(APPLY, "Apply")["run"], {**env, "ALLOW_MASS_DELETE": "false"}, real_cli=True)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert [tool["name"] for tool in org.registry.all_tools()] == ["check_stock"]
    summary = run_step(step(APPLY, "Job summary")["run"], {"OUTCOME": "success"}, real_cli=True).summary
    assert "[1/1] check_stock: created" in summary
    assert "Apply complete! Resources: 0 adopted, 1 added, 0 changed, 0 destroyed." in summary
    assert "1 changes recorded in the audit log" in summary
    again = run_step(step(APPLY, "Plan")["run"], env, real_cli=True)
    assert again.outputs["has-changes"] == "false"
    assert "nothing to apply" in again.summary
