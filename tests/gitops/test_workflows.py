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
NAMES = ("ci.yml", "plan.yml", "apply.yml", "drift.yml", "deps.yml", "explore.yml")
SECRET_NAMES = {"GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"}
CREDENTIALS = {
    "GENESYSCLOUD_OAUTHCLIENT_ID": "client-id",
    "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s3cret",
    "GENESYSCLOUD_REGION": "eu-central-1",
}
# Verified against the actions' own repositories: each SHA is the commit its tag names (current majors).
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/github-script": ("ed597411d8f924073f98dfc5c65a23a2325f34cd", "v8.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
}
SETUP_PYTHON = f"actions/setup-python@{PINNED['actions/setup-python'][0]}"
UPLOAD = f"actions/upload-artifact@{PINNED['actions/upload-artifact'][0]}"
# Least privilege: the write scopes each job may hold; everything else reads at most.
WRITE_SCOPES = {
    ("ci.yml", "test"): set(),
    ("ci.yml", "action"): set(),
    ("plan.yml", "plan"): set(),
    ("plan.yml", "comment"): {"pull-requests"},
    ("apply.yml", "plan"): set(),
    ("apply.yml", "apply"): set(),
    ("drift.yml", "detect"): set(),
    ("drift.yml", "issue"): {"issues"},
    ("deps.yml", "test"): {"issues"},
    ("explore.yml", "test"): set(),
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
    lines = [" ".join(line.split()).removeprefix("{ ") for line in text.splitlines()]
    return [line for line in lines if line.startswith("reconciler ")]


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
def test_every_script_runs_with_pipefail(name: str) -> None:
    """GitHub runs a `run:` step whose shell nobody named as `bash -e {0}`, without pipefail: a failed apply
    piped into `tee` (apply.yml), or a failed suite (deps.yml), would leave its step green. `shell: bash`
    (on the step, its job's or the workflow's `defaults.run`) runs `bash --noprofile --norc -eo pipefail {0}`,
    which is how tests/gitops/conftest.py runs the scripts."""
    workflow = load(name)
    unnamed = []
    for job_name, job in workflow["jobs"].items():
        for s in job.get("steps", []):
            if "run" not in s:
                continue
            shell = (
                s.get("shell")
                or job.get("defaults", {}).get("run", {}).get("shell")
                or workflow.get("defaults", {}).get("run", {}).get("shell")
            )
            if shell != "bash":
                unnamed.append(f"{job_name}/{s.get('name', s['run'].splitlines()[0])}: shell {shell!r}")
    assert unnamed == []


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_pinned_by_commit_with_the_tag_in_a_comment(name: str) -> None:
    lines = [line.strip() for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines()]
    uses = [line.split("uses:", 1)[1].strip() for line in lines if re.match(r"(- )?uses:", line)]
    assert uses
    for use in uses:
        if use == "./":
            continue
        action, rest = use.split("@", 1)
        sha, tag = PINNED[action]
        assert rest == f"{sha} # {tag}", use


def test_the_composite_action_pins_setup_python_too() -> None:
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    sha, tag = PINNED["actions/setup-python"]
    assert f"uses: actions/setup-python@{sha} # {tag}" in text
    assert "@v4" not in text and "@v5" not in text


@pytest.mark.parametrize("name", NAMES)
def test_setup_python_caches_pip(name: str) -> None:
    setups = [s for s in all_steps(load(name)) if s.get("uses") == SETUP_PYTHON]
    assert setups
    for setup in setups:
        assert setup["with"]["cache"] == "pip"
        # the cache follows what decides the installed versions: the lock for the project's own CI
        expected = ".ci/requirements.lock" if name in ("ci.yml", "explore.yml") else "pyproject.toml"
        assert setup["with"]["cache-dependency-path"] == expected


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
    setup = [s for s in all_steps(workflow) if s.get("uses") == SETUP_PYTHON]
    assert setup and all(s["with"]["python-version"] == "3.11" for s in setup)
    # the C build of the OpenAPI compiler (setup.py) would cost every job ~30 s to save it milliseconds
    installs = [s for s in all_steps(workflow) if "pip install ." in s.get("run", "")]
    assert installs and all(s.get("env", {}).get("RECONCILER_PURE_PYTHON") == "1" for s in installs), installs


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
    setup = [s for s in job["steps"] if s.get("uses") == SETUP_PYTHON]
    assert setup[0]["with"]["python-version"] == "${{ matrix.python }}"
    assert job["strategy"]["matrix"]["python"] == ["3.10", "3.11"]  # README: Python >= 3.10


def test_ci_smoke_tests_the_composite_action() -> None:
    job = load("ci.yml")["jobs"]["action"]
    used = [s for s in job["steps"] if s.get("uses") == "./"]
    assert [s["with"]["command"] for s in used] == ["validate", "plan"]


# --- explore.yml --------------------------------------------------------------------------------------------


def test_a_weekly_run_draws_new_examples_for_the_property_tests_against_the_lock() -> None:
    """Every other run checks the same examples (tests/conftest.py), so nothing else explores: the explore
    profile, once a week, apart from newest-dependencies (a failure is then the code's, not a release's)."""
    workflow = load("explore.yml")
    assert set(triggers(workflow)) == {"schedule", "workflow_dispatch"}
    [schedule] = triggers(workflow)["schedule"]
    _minute, _hour, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit()  # once a week
    [deps_schedule] = triggers(load("deps.yml"))["schedule"]
    assert schedule["cron"] != deps_schedule["cron"]
    test = find_step(workflow, "Test with new examples")
    assert test["run"].strip() == "HYPOTHESIS_PROFILE=explore bash .ci/run"  # the lock: no RECONCILER_DEPS
    assert "continue-on-error" not in test  # a failure fails the run


def test_the_explore_profile_draws_new_examples_and_prints_how_to_replay_a_failure() -> None:
    from hypothesis import settings

    explore, usual = settings.get_profile("explore"), settings.get_profile("deterministic")
    assert usual.derandomize and not explore.derandomize
    assert explore.print_blob and explore.deadline is None


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
