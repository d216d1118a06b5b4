"""The GitOps workflows: triggers, least privilege, concurrency, the commands they run, and how their scripts
treat the plan's exit codes (run with a stand-in `reconciler`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ("ci.yml", "plan.yml", "apply.yml", "drift.yml")
DESIRED_STATE_PATHS = ["tools.d/**", "reconciler.yaml"]
SECRET_NAMES = {"GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"}
CREDENTIALS = {
    "GENESYSCLOUD_OAUTHCLIENT_ID": "client-id",
    "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s3cret",
    "GENESYSCLOUD_REGION": "eu-central-1",
}
ALLOWED_ACTIONS = {
    "actions/checkout@v4",
    "actions/setup-python@v5",
    "actions/upload-artifact@v4",
    "actions/download-artifact@v4",
    "actions/github-script@v7",
    "./",
}
# Least privilege: the write scopes each job may hold; everything else reads at most.
WRITE_SCOPES = {
    ("ci.yml", "test"): set(),
    ("ci.yml", "action"): set(),
    ("plan.yml", "plan"): set(),
    ("plan.yml", "comment"): {"pull-requests"},
    ("apply.yml", "apply"): set(),
    ("drift.yml", "detect"): set(),
    ("drift.yml", "issue"): {"issues"},
}
MARKER = "<!-- reconciler-plan -->"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` mapping; YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True."""
    value = workflow["on"] if "on" in workflow else workflow[True]
    if isinstance(value, str):
        return {value: None}
    if isinstance(value, list):
        return dict.fromkeys(value)
    return dict(value)


def all_steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def find_step(workflow: dict[Any, Any], name: str) -> dict[str, Any]:
    found = [s for s in all_steps(workflow) if s.get("name") == name]
    assert len(found) == 1, f"expected one step named {name!r}, found {len(found)}"
    return found[0]


def runs(workflow: dict[Any, Any]) -> str:
    return "\n".join(s["run"] for s in all_steps(workflow) if "run" in s)


def scripts(workflow: dict[Any, Any]) -> str:
    return "\n".join(s["with"]["script"] for s in all_steps(workflow) if "github-script" in s.get("uses", ""))


def commands(text: str) -> list[str]:
    """Shell lines that run the reconciler, whitespace-normalised."""
    return [" ".join(line.split()) for line in text.splitlines() if re.match(r"\s*reconciler\s", line)]


# --- every workflow ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_top_level_permissions_grant_nothing_or_read(name: str) -> None:
    assert load(name)["permissions"] in ({}, {"contents": "read"})


@pytest.mark.parametrize("name", NAMES)
def test_jobs_write_only_where_they_must(name: str) -> None:
    workflow = load(name)
    assert {(name, job) for job in workflow["jobs"]} == {key for key in WRITE_SCOPES if key[0] == name}
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert "write-all" not in text and "read-all" not in text
    for job_name, job in workflow["jobs"].items():
        permissions = job.get("permissions", workflow["permissions"])
        assert isinstance(permissions, dict), f"{name}/{job_name}: permissions must list scopes"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes == WRITE_SCOPES[(name, job_name)], f"{name}/{job_name}"
        assert set(permissions.values()) <= {"read", "write", "none"}


@pytest.mark.parametrize("name", NAMES)
def test_only_official_actions_pinned_to_a_major_version(name: str) -> None:
    used = {s["uses"] for s in all_steps(load(name)) if "uses" in s}
    assert used <= ALLOWED_ACTIONS, used - ALLOWED_ACTIONS


@pytest.mark.parametrize("name", NAMES)
def test_checkout_keeps_no_token(name: str) -> None:
    for s in all_steps(load(name)):
        if s.get("uses", "").startswith("actions/checkout@"):
            assert s["with"]["persist-credentials"] is False


@pytest.mark.parametrize("name", NAMES)
def test_no_expression_is_interpolated_into_a_script(name: str) -> None:
    """Script injection: event text (or anything else) reaches `run:` and github-script only through env."""
    workflow = load(name)
    for s in all_steps(workflow):
        for text in (s.get("run", ""), s.get("with", {}).get("script", "")):
            assert "${{" not in text, f"{name}: step {s.get('name') or s.get('uses')} interpolates an expression"


@pytest.mark.parametrize("name", NAMES)
def test_secrets_reach_only_the_steps_that_need_them(name: str) -> None:
    workflow = load(name)
    assert "secrets." not in yaml.safe_dump(workflow.get("env", {}))
    for job in workflow["jobs"].values():
        assert "secrets." not in yaml.safe_dump(job.get("env", {}))
    for s in all_steps(workflow):
        env = s.get("env", {})
        for variable, value in env.items():
            if "secrets." in str(value):
                assert variable in SECRET_NAMES
                assert f"secrets.{variable}" in value
        run = commands(s.get("run", ""))
        if any(line.startswith(("reconciler plan", "reconciler apply")) for line in run):
            assert set(env) >= SECRET_NAMES, f"{name}: {s.get('name')} needs the credentials"
        elif run or "uses" in s:
            assert not SECRET_NAMES & set(env), f"{name}: {s.get('name') or s.get('uses')} gets credentials"


@pytest.mark.parametrize("name", ["plan.yml", "apply.yml", "drift.yml"])
def test_installs_the_reconciler_from_the_repository(name: str) -> None:
    workflow = load(name)
    assert "python -m pip install ." in runs(workflow).splitlines()
    setup = [s for s in all_steps(workflow) if s.get("uses") == "actions/setup-python@v5"]
    assert setup and all(s["with"]["python-version"] == "3.11" for s in setup)


# --- ci.yml --------------------------------------------------------------------------------------------------


def test_ci_runs_the_tests_on_push_and_pull_request() -> None:
    workflow = load("ci.yml")
    assert {"push", "pull_request"} <= set(triggers(workflow))
    assert workflow["permissions"] == {"contents": "read"}
    test = find_step(workflow, "Test")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert test["run"].strip() == "bash .ci/run"  # the same command the README gives for the tests
    assert "```sh\nbash .ci/run\n```" in readme
    job = workflow["jobs"]["test"]
    setup = [s for s in job["steps"] if s.get("uses") == "actions/setup-python@v5"]
    assert setup[0]["with"]["python-version"] == "${{ matrix.python }}"
    assert job["strategy"]["matrix"]["python"] == ["3.10", "3.11"]  # README: Python >= 3.10


def test_ci_smoke_tests_the_composite_action() -> None:
    job = load("ci.yml")["jobs"]["action"]
    used = [s for s in job["steps"] if s.get("uses") == "./"]
    assert [s["with"]["command"] for s in used] == ["validate", "plan"]


# --- plan.yml ------------------------------------------------------------------------------------------------


def test_plan_runs_on_pull_requests_that_touch_the_desired_state() -> None:
    on = triggers(load("plan.yml"))
    assert set(on) == {"pull_request"}
    assert on["pull_request"]["paths"] == DESIRED_STATE_PATHS


def test_plan_validates_with_annotations_then_plans_in_markdown_and_json() -> None:
    workflow = load("plan.yml")
    assert commands(runs(workflow)) == [
        "reconciler validate --format github",
        "reconciler plan --detailed-exitcode --format markdown > plan.md || code=$?",
        "reconciler plan --format json > plan.json",
    ]
    assert 'cat plan.md >> "$GITHUB_STEP_SUMMARY"' in runs(workflow)
    upload = [s for s in all_steps(workflow) if s.get("uses") == "actions/upload-artifact@v4"]
    assert len(upload) == 1
    assert set(upload[0]["with"]["path"].split()) == {"plan.md", "plan.json"}


def test_plan_posts_one_sticky_comment_found_through_the_marker() -> None:
    workflow = load("plan.yml")
    job = workflow["jobs"]["comment"]
    assert job["needs"] == "plan"
    assert "always()" in job["if"]
    assert "head.repo.full_name == github.repository" in job["if"]  # a fork's token cannot comment
    script = scripts(workflow)
    assert f"const marker = '{MARKER}';" in script
    assert "startsWith(marker)" in script
    for call in ("listComments", "updateComment", "createComment"):
        assert f"github.rest.issues.{call}" in script
    assert "github.paginate" in script


# --- apply.yml -----------------------------------------------------------------------------------------------


def test_apply_runs_on_merges_to_main_and_on_demand() -> None:
    on = triggers(load("apply.yml"))
    assert set(on) == {"push", "workflow_dispatch"}
    assert on["push"]["branches"] == ["main"]
    assert on["push"]["paths"] == DESIRED_STATE_PATHS


def test_apply_runs_one_at_a_time_in_an_environment() -> None:
    workflow = load("apply.yml")
    assert workflow["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    assert workflow["jobs"]["apply"]["environment"] == "production"


def test_apply_approves_itself_keeps_an_audit_log_and_a_summary() -> None:
    workflow = load("apply.yml")
    assert commands(runs(workflow)) == [
        'reconciler apply --auto-approve --audit-log audit.jsonl "${extra[@]}" | tee apply.txt'
    ]
    upload = [s for s in all_steps(workflow) if s.get("uses") == "actions/upload-artifact@v4"]
    assert len(upload) == 1
    assert upload[0]["if"] == "always()"
    assert upload[0]["with"]["path"] == "audit.jsonl"
    summary = find_step(workflow, "Job summary")
    assert summary["if"] == "always()"
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]


# --- drift.yml -----------------------------------------------------------------------------------------------


def test_drift_runs_on_a_schedule_and_on_demand() -> None:
    on = triggers(load("drift.yml"))
    assert set(on) == {"schedule", "workflow_dispatch"}
    (entry,) = on["schedule"]
    assert len(entry["cron"].split()) == 5


def test_drift_plans_with_the_detailed_exit_code() -> None:
    workflow = load("drift.yml")
    assert commands(runs(workflow)) == ["reconciler plan --detailed-exitcode --format markdown > plan.md || code=$?"]
    assert workflow["jobs"]["issue"]["needs"] == "detect"
    assert "if" not in workflow["jobs"]["issue"]  # an error (exit 1) fails detect and stops here


def test_drift_opens_updates_or_closes_one_labelled_issue() -> None:
    script = scripts(load("drift.yml"))
    assert "const label = 'drift';" in script
    assert "process.env.PLAN_EXIT_CODE !== '2'" in script
    for call in ("listForRepo", "create", "update", "createComment", "createLabel"):
        assert f"github.rest.issues.{call}(" in script or f"github.rest.issues.{call}," in script
    assert "state: 'closed'" in script
    assert "labels: [label]" in script


# --- the scripts' exit codes, with a stand-in reconciler --------------------------------------------------------


def plan_step(name: str) -> dict[str, Any]:
    return find_step(load(name), "Plan")


@pytest.mark.parametrize(("workflow", "env"), [("plan.yml", {}), ("plan.yml", CREDENTIALS), ("drift.yml", CREDENTIALS)])
@pytest.mark.parametrize(("code", "succeeds"), [(0, True), (2, True), (1, False), (130, False)])
def test_plan_steps_treat_2_as_changes_and_fail_on_errors(
    run_step: Any, workflow: str, env: dict[str, str], code: int, succeeds: bool
) -> None:
    result = run_step(plan_step(workflow)["run"], env, fake_code=code)
    assert (result.code == 0) == succeeds, result.stderr
    assert result.outputs["exit-code"] == str(code)
    assert ["plan", "--detailed-exitcode", "--format", "markdown"] in result.calls
    if succeeds:
        assert result.summary.startswith(MARKER)


def test_plan_without_credentials_warns_that_it_plans_against_the_local_registry(run_step: Any) -> None:
    result = run_step(plan_step("plan.yml")["run"], {})
    assert result.code == 0
    assert "::warning" in result.stdout and "local registry" in result.stdout


@pytest.mark.parametrize("workflow", ["drift.yml", "apply.yml"])
def test_drift_and_apply_refuse_to_run_without_credentials(run_step: Any, workflow: str) -> None:
    script = find_step(load(workflow), "Plan" if workflow == "drift.yml" else "Apply")["run"]
    result = run_step(script, {"GENESYSCLOUD_OAUTHCLIENT_ID": "", "GENESYSCLOUD_OAUTHCLIENT_SECRET": ""})
    assert result.code == 1
    assert "::error" in result.stdout and "GENESYSCLOUD_OAUTHCLIENT_SECRET" in result.stdout
    assert result.calls == []


@pytest.mark.parametrize(
    ("code", "allow", "expected_extra"),
    [
        (0, "", []),
        (0, "false", []),
        (0, "true", ["--allow-mass-delete"]),
        (1, "", []),
    ],
)
def test_apply_step(run_step: Any, code: int, allow: str, expected_extra: list[str]) -> None:
    script = find_step(load("apply.yml"), "Apply")["run"]
    result = run_step(script, {**CREDENTIALS, "ALLOW_MASS_DELETE": allow}, fake_code=code)
    assert result.code == code  # pipefail: tee does not hide a failed apply
    assert result.calls == [["apply", "--auto-approve", "--audit-log", "audit.jsonl", *expected_extra]]
    assert "Plan:" in result.stdout


# --- the pre-commit hook -------------------------------------------------------------------------------------


def test_pre_commit_hook_validates_the_desired_state() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "reconciler-validate"
    assert hook["entry"] == "reconciler validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    pattern = re.compile(hook["files"])
    assert pattern.search("tools.d/orders.yaml") and pattern.search("reconciler.yaml")
    assert not pattern.search("README.md") and not pattern.search("docs/reconciler.yaml.md")
