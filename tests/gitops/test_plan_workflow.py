"""plan.yml, run step by step: the inputs gate on a real git history with the real `reconciler inputs`, the plan
step with a stand-in CLI, and the sticky-comment script in node against an in-memory GitHub."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "plan.yml").read_text(encoding="utf-8"))
MARKER = "<!-- reconciler-plan -->"
COMMENT_LIMIT = 65_536
PR_CONTEXT = {"payload": {"pull_request": {"number": 12, "head": {"sha": "abcdef0123456789"}}}}
BOT = {"login": "github-actions[bot]", "type": "Bot"}
PERSON = {"login": "octocat", "type": "User"}


def step(name: str) -> dict[str, Any]:
    (found,) = [s for job in WORKFLOW["jobs"].values() for s in job["steps"] if s.get("name") == name]
    return found


def comment_script() -> str:
    return str(step("Post or update the sticky plan comment")["with"]["script"])


def test_runs_on_every_pull_request_and_a_step_decides() -> None:
    on = WORKFLOW[True]  # PyYAML reads the bare key `on` as True
    assert on == {"pull_request": None}  # no paths filter: a description a source names may live anywhere
    gated = [s for s in WORKFLOW["jobs"]["plan"]["steps"] if s.get("if")]
    assert {s.get("name") or s["uses"].split("@")[0] for s in gated} == {
        "Validate",
        "Conversation tests",
        "Plan",
        "actions/upload-artifact",
    }
    assert all(s["if"] == "steps.inputs.outputs.touched == 'true'" for s in gated)
    checkout = WORKFLOW["jobs"]["plan"]["steps"][0]
    assert checkout["with"]["fetch-depth"] == 2  # the merge commit and the base it is diffed against


# --- the inputs gate, on a real repository -----------------------------------------------------------------------

SOURCE = "source:\n  openapi: ../specs/orders.yaml\n  endpoint_base: https://orders.example.com\n"
SPEC = "openapi: 3.0.3\ninfo: {title: Orders, version: '1'}\npaths: {}\n"


def git(work: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def pull_request_merge(work: Path, change: dict[str, str | None]) -> None:
    """A repository whose HEAD is the merge commit GitHub checks out for a pull request making `change`."""
    work.mkdir(parents=True, exist_ok=True)
    files = {"tools.d/orders.yaml": SOURCE, "specs/orders.yaml": SPEC, "README.md": "# tools\n", "tools.d/old.yaml": ""}
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text, encoding="utf-8")
    git(work, "init", "-q", "-b", "main")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "base")
    git(work, "checkout", "-q", "-b", "feature")
    for name, text in change.items():
        if text is None:
            (work / name).unlink()
        else:
            (work / name).write_text(text, encoding="utf-8")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "change")
    git(work, "checkout", "-q", "main")
    (work / "CHANGES.md").write_text("base moved on\n", encoding="utf-8")  # the base branch moved meanwhile
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "unrelated")
    git(work, "merge", "-q", "--no-ff", "-m", "merge", "feature")


@pytest.mark.parametrize(
    ("change", "touched"),
    [
        ({"specs/orders.yaml": SPEC.replace("'1'", "'2'")}, ["specs/orders.yaml"]),  # only what a source names
        ({"tools.d/new.yaml": "name: x\n"}, ["tools.d/new.yaml"]),
        ({"tools.d/old.yaml": None}, ["tools.d/old.yaml"]),  # a deleted file is a change too
        ({"reconciler.yaml": "prune: false\n"}, ["reconciler.yaml"]),
        ({"README.md": "# tools, documented\n"}, []),
        # git quotes a name that is not ASCII ("tools.d/caf\303\251.yaml") unless told not to: no prefix matched
        ({"tools.d/caf\u00e9.yaml": "name: x\n"}, ["tools.d/caf\u00e9.yaml"]),
    ],
)
def test_the_gate_plans_exactly_when_an_input_changed(
    tmp_path: Path, run_step: Any, change: dict[str, str | None], touched: list[str]
) -> None:
    pull_request_merge(tmp_path / "work", change)
    result = run_step(step("Inputs touched")["run"], {}, real_cli=True)
    assert result.code == 0, result.stderr
    assert result.outputs["touched"] == ("true" if touched else "false")
    if touched:
        assert result.stdout.split("\n")[1:-1] == touched
    else:
        assert "::notice title=reconciler::this pull request changes nothing the desired state reads" in result.stdout
        assert "CHANGES.md" not in result.stdout  # the base's own commits are not the pull request's


def test_a_broken_reconciler_yaml_is_planned_so_that_validate_annotates_it(tmp_path: Path, run_step: Any) -> None:
    """`reconciler inputs` cannot list inputs of a reconciler.yaml it cannot read: the gate step failed, the
    Validate step never ran, and the pull request got "see the annotations" with none to see."""
    pull_request_merge(tmp_path / "work", {"reconciler.yaml": "prnue: true\n"})
    gate = run_step(step("Inputs touched")["run"], {}, real_cli=True)
    assert gate.code == 0, gate.stderr
    assert gate.outputs["touched"] == "true"
    validate = run_step(step("Validate")["run"], {}, real_cli=True)
    assert validate.code == 1
    assert (
        "::error file=reconciler.yaml,line=1,col=1,title=reconciler::unknown key 'prnue'; did you mean 'prune'?"
        in validate.stdout
    )


# --- the plan step, with a stand-in CLI ----------------------------------------------------------------------------

CREDENTIALS = {
    "GENESYSCLOUD_OAUTHCLIENT_ID": "client-id",
    "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s3cret",
    "GENESYSCLOUD_REGION": "eu-central-1",
}


@pytest.mark.parametrize("env", [{}, CREDENTIALS])
@pytest.mark.parametrize(("code", "succeeds"), [(0, True), (2, True), (1, False), (130, False)])
def test_the_plan_reads_the_org_once_and_renders_from_the_saved_plan(
    tmp_path: Path, run_step: Any, env: dict[str, str], code: int, succeeds: bool
) -> None:
    result = run_step(step("Plan")["run"], env, fake_code=code)
    assert (result.code == 0) == succeeds, result.stderr
    assert result.outputs["exit-code"] == str(code)
    plans = [call for call in result.calls if call[0] == "plan"]
    assert plans == [["plan", "--detailed-exitcode", "--out", "saved-plan.json"]]
    if succeeds:
        assert result.calls[1:] == [
            ["show", "saved-plan.json", "--format", "markdown"],
            ["show", "saved-plan.json", "--format", "json"],
        ]
        assert result.summary.startswith(MARKER)
        assert (tmp_path / "work" / "plan.md").read_text(encoding="utf-8").startswith(MARKER)
    else:
        assert len(result.calls) == 1
    warned = "::warning" in result.stdout and "local registry" in result.stdout
    assert warned == (not env)


# --- the sticky comment, in node --------------------------------------------------------------------------------


def comment_on(
    run_github_script: Any, comments: list[dict[str, Any]], *, result: str, touched: str, plan: str, local: str = ""
) -> Any:
    return run_github_script(
        comment_script(),
        state={"issues": [{"number": 12, "state": "open", "labels": [], "user": PERSON}], "comments": comments},
        env={"PLAN_RESULT": result, "TOUCHED": touched, "LOCAL": local},
        files={"plan.md": plan} if plan else {},
        context=PR_CONTEXT,
    )


PLAN_MD = f"{MARKER}\n### reconciler plan for `org`\n\nsome plan\n"


def test_the_first_plan_creates_the_comment(run_github_script: Any) -> None:
    run = comment_on(run_github_script, [], result="success", touched="true", plan=PLAN_MD)
    assert run.error is None
    (created,) = run.called("issues.createComment")
    assert created == {"issue_number": 12, "body": PLAN_MD}


def test_a_plan_against_the_local_registry_says_so_at_the_top_of_the_comment(
    run_github_script: Any, run_step: Any
) -> None:
    """A Dependabot pull request (no secrets) touches pyproject.toml, so it is planned against the empty local
    registry: the comment showed every tool as a create, with only a warning in the run's log to say why."""
    plan = run_step(step("Plan")["run"], {"GENESYSCLOUD_OAUTHCLIENT_ID": ""}, fake_code=2)
    assert plan.outputs["local"] == "true"
    assert "local" not in run_step(step("Plan")["run"], CREDENTIALS, fake_code=2).outputs
    assert WORKFLOW["jobs"]["plan"]["outputs"]["local"] == "${{ steps.plan.outputs.local }}"
    run = comment_on(run_github_script, [], result="success", touched="true", plan=PLAN_MD, local="true")
    (created,) = run.called("issues.createComment")
    first, second, *rest = created["body"].split("\n")
    assert first == MARKER
    assert second == "> [!WARNING]"
    assert "Not the org: no credentials reached this run" in rest[0]
    assert "\n".join(rest[1:]) == PLAN_MD.split("\n", 1)[1]  # the plan follows, whole


def test_later_plans_edit_the_bots_comment_and_leave_a_persons_alone(run_github_script: Any) -> None:
    comments = [
        {"id": 1, "issue_number": 12, "body": f"{MARKER}\nquoted by a person", "user": PERSON},
        {"id": 2, "issue_number": 12, "body": f"{MARKER}\nold plan", "user": BOT},
    ]
    run = comment_on(run_github_script, comments, result="success", touched="true", plan=PLAN_MD)
    assert run.called("issues.createComment") == []
    assert run.called("issues.updateComment") == [{"comment_id": 2, "body": PLAN_MD}]
    assert run.state["comments"][0]["body"] == f"{MARKER}\nquoted by a person"


def test_a_failed_plan_replaces_the_stale_one(run_github_script: Any) -> None:
    comments = [{"id": 2, "issue_number": 12, "body": f"{MARKER}\nold plan", "user": BOT}]
    run = comment_on(run_github_script, comments, result="failure", touched="", plan="")
    (updated,) = run.called("issues.updateComment")
    assert "plan failed" in updated["body"] and "abcdef0" in updated["body"]


def test_a_pull_request_that_no_longer_touches_the_inputs_says_so_only_where_it_commented(
    run_github_script: Any,
) -> None:
    quiet = comment_on(run_github_script, [], result="success", touched="false", plan="")
    assert [name for name, _ in quiet.calls] == ["issues.listComments"]
    comments = [{"id": 2, "issue_number": 12, "body": f"{MARKER}\nold plan", "user": BOT}]
    run = comment_on(run_github_script, comments, result="success", touched="false", plan="")
    (updated,) = run.called("issues.updateComment")
    assert updated["body"].startswith(MARKER) and "changes nothing the desired state reads" in updated["body"]


def well_formed(markdown: str) -> None:
    assert markdown.count("<details>") == markdown.count("</details>")
    fences = re.findall(r"^(`{3,})", markdown, flags=re.M)
    assert len(fences) % 2 == 0
    assert markdown.count("<summary>") == markdown.count("</summary>")


def test_a_plan_too_big_for_a_comment_is_posted_as_rendered(run_github_script: Any, big_plan: dict[str, str]) -> None:
    """250 tools: the renderer truncates once, by whole blocks; the workflow posts it unchanged."""
    plan = big_plan["plan.md"]
    assert len(plan) <= COMMENT_LIMIT
    well_formed(plan)
    note = re.search(r"> Plan truncated: (\d+) more changes not shown\.", plan)
    assert note is not None
    assert plan.count("<details>") + int(note.group(1)) == 250
    run = comment_on(run_github_script, [], result="success", touched="true", plan=plan)
    assert run.error is None
    (created,) = run.called("issues.createComment")
    assert created["body"] == plan


def test_a_comment_over_the_limit_fails_rather_than_being_cut(run_github_script: Any) -> None:
    run = comment_on(run_github_script, [], result="success", touched="true", plan=MARKER + "\n" + "x" * COMMENT_LIMIT)
    assert run.error is not None and "over the comment limit" in run.error
    assert run.called("issues.createComment") == []


def test_a_tools_d_variable_set_where_the_docs_say_reaches_every_step_that_reads_tools_d(
    tmp_path: Path, run_step: Any
) -> None:
    """docs/gitops.md said to give `${TOOLS_BASE_URL}` to the Plan and Apply steps: the Validate step, which
    reads the same files, then failed every pull request with "environment variable TOOLS_BASE_URL is not set".
    Given where the docs now say (the workflow's top-level `env:`, which a runner passes to every step), the
    steps that read tools.d all see it."""
    docs = (ROOT / "docs" / "gitops.md").read_text(encoding="utf-8")
    assert "add them to the top-level `env:` of `plan.yml`, `apply.yml` and `drift.yml`" in docs
    work = tmp_path / "work"
    (work / "tools.d").mkdir(parents=True)
    (work / "tools.d" / "a.yaml").write_text(
        "name: a_tool\ndescription: Does a thing.\nendpoint: ${TOOLS_BASE_URL}/a\n", encoding="utf-8"
    )
    workflow_env = {"TOOLS_BASE_URL": "https://tools.example.com"}
    for name in ("Validate", "Plan"):
        assert "TOOLS_BASE_URL" not in step(name).get("env", {})
        result = run_step(step(name)["run"], {**workflow_env, "GENESYSCLOUD_OAUTHCLIENT_ID": ""}, real_cli=True)
        assert result.code == 0, (name, result.stdout, result.stderr)
    without = run_step(step("Validate")["run"], {}, real_cli=True)  # the step as the old docs left it
    assert without.code == 1 and "environment variable TOOLS_BASE_URL is not set" in without.stdout
