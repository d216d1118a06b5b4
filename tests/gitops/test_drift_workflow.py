"""drift.yml, run step by step: the plan step with a stand-in CLI, and the issue script in node against an
in-memory GitHub seeded with recorded issues (tests/gitops/recorded/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DRIFT = yaml.safe_load((ROOT / ".github" / "workflows" / "drift.yml").read_text(encoding="utf-8"))
RECORDED = Path(__file__).with_name("recorded")
MARKER = "<!-- reconciler-drift -->"
CREDENTIALS = {"GENESYSCLOUD_OAUTHCLIENT_ID": "id", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s", "GENESYSCLOUD_REGION": "r"}
PLAN_MD = "<!-- reconciler-plan -->\n### reconciler plan for `org`\n\n**Plan: 0 to add, 1 to change.**\n"
CHANGES = [{"action": "update", "drift": True, "name": "get_order", "fields": [{"path": "description"}]}]


def step(name: str) -> dict[str, Any]:
    (found,) = [s for job in DRIFT["jobs"].values() for s in job["steps"] if s.get("name") == name]
    return found


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / name).read_text(encoding="utf-8"))
    return data


def drift(
    run_github_script: Any,
    state: dict[str, Any],
    code: str,
    *,
    changes: list[dict[str, Any]] = CHANGES,
    plan: str = PLAN_MD,
    run_id: int = 4242,
) -> Any:
    files = {"plan.md": plan, "plan.json": json.dumps({"changes": changes, "summary": {}})} if code == "2" else {}
    run = run_github_script(
        step("Open, update or close the drift issue")["with"]["script"],
        state=state,
        env={"PLAN_EXIT_CODE": code},
        files=files,
        context={"runId": run_id},
    )
    assert run.error is None, run.error
    return run


def test_the_plan_step_reads_the_org_once(run_step: Any) -> None:
    result = run_step(step("Plan")["run"], CREDENTIALS, fake_code=2)
    assert result.code == 0
    assert result.outputs["exit-code"] == "2"
    assert result.calls == [
        ["plan", "--detailed-exitcode", "--out", "saved-plan.json"],
        ["show", "saved-plan.json", "--format", "markdown"],
        ["show", "saved-plan.json", "--format", "json"],
    ]


def test_a_persons_drift_issue_is_never_touched(run_github_script: Any) -> None:
    """Recorded: issue #7, opened by a person and labelled `drift`, no marker."""
    state = recorded("issues-person-drift.json")
    person = json.loads(json.dumps(state["issues"][0]))
    opened = drift(run_github_script, state, "2")
    assert opened.called("issues.update") == [] and opened.called("issues.createComment") == []
    (created,) = opened.called("issues.create")
    assert created["body"].startswith(MARKER + "\n") and created["labels"] == ["drift"]
    assert PLAN_MD.strip() in created["body"]
    assert opened.state["issues"][0] == person
    closed = drift(run_github_script, opened.state, "0")
    assert closed.state["issues"][0] == person  # still open, body as the person wrote it
    assert closed.state["issues"][1]["state"] == "closed"


def test_a_marker_copied_by_a_person_does_not_make_the_issue_ours(run_github_script: Any) -> None:
    state = recorded("issues-person-drift.json")
    state["issues"][0]["body"] = MARKER + "\n" + state["issues"][0]["body"]
    run = drift(run_github_script, state, "0")
    assert run.called("issues.update") == [] and run.called("issues.createComment") == []


def test_the_same_drift_seen_again_updates_quietly_even_from_another_run(run_github_script: Any) -> None:
    first = drift(run_github_script, {"labels": ["drift"]}, "2", run_id=1)
    assert first.called("issues.createLabel") == []
    again = drift(run_github_script, first.state, "2", run_id=2)
    (updated,) = again.called("issues.update")
    assert "runs/2" in updated["body"]  # the decoration moved on
    assert again.called("issues.createComment") == []  # the drift did not


def test_different_drift_is_called_out_once(run_github_script: Any) -> None:
    first = drift(run_github_script, {}, "2")
    assert first.called("issues.createLabel") == [
        {"name": "drift", "color": "d93f0b", "description": ("The live organization differs from git")}
    ]
    other = [{**CHANGES[0], "name": "cancel_order"}]
    changed = drift(run_github_script, first.state, "2", changes=other, run_id=5)
    (comment,) = changed.called("issues.createComment")
    assert comment["body"].startswith("The drift changed")


def test_no_drift_closes_only_the_workflows_issue(run_github_script: Any) -> None:
    state = recorded("issues-person-drift.json")
    opened = drift(run_github_script, state, "2")
    closed = drift(run_github_script, opened.state, "0")
    (update,) = closed.called("issues.update")
    assert update == {"issue_number": 8, "state": "closed", "state_reason": "completed"}
    (comment,) = closed.called("issues.createComment")
    assert comment["issue_number"] == 8 and comment["body"].startswith("No drift any more")


@pytest.mark.parametrize("code", ["0", "2"])
def test_pull_requests_labelled_drift_are_ignored(run_github_script: Any, code: str) -> None:
    state = {
        "issues": [
            {
                "number": 3,
                "state": "open",
                "labels": [{"name": "drift"}],
                "pull_request": {},
                "body": MARKER,
                "user": {"login": "github-actions[bot]", "type": "Bot"},
            }
        ]
    }
    run = drift(run_github_script, state, code)
    assert all(params.get("issue_number") != 3 for _, params in run.calls)


def test_a_plan_too_big_for_one_comment_fits_the_issue_whole(run_github_script: Any, big_plan: dict[str, str]) -> None:
    changes = json.loads(big_plan["plan.json"])["changes"]
    run = drift(run_github_script, {}, "2", changes=changes, plan=big_plan["plan.md"])
    (created,) = run.called("issues.create")
    assert len(created["body"]) <= 65_536
    assert created["body"].endswith(big_plan["plan.md"].strip())  # not cut again: the note is kept
    assert "more changes not shown" in created["body"]


def test_drift_end_to_end_with_the_real_cli(run_step: Any, run_github_script: Any, tmp_path: Path, start: Any) -> None:
    """A managed tool edited outside git: the real plan step finds drift (exit 2), the issue script opens one
    issue with that plan; the next run, same drift, edits it without a 'drift changed' comment; once the org
    matches git again, the issue is closed."""
    org = start()
    work = tmp_path / "work"
    (work / "tools.d").mkdir(parents=True)
    (work / ".git").mkdir()
    (work / "tools.d" / "a.yaml").write_text(
        "name: check_stock\ndescription: Checks stock.\nendpoint: https://tools.example.com/stock\n", encoding="utf-8"
    )
    env = {**CREDENTIALS, "GENESYS_CLOUD_API_URL": org.url}
    assert run_step("reconciler apply --auto-approve", env, real_cli=True).code == 0
    (tool,) = org.registry.all_tools()
    org.registry.update(tool["id"], {**tool, "description": "Edited in the console."}, tool["version"])

    def detect_and_report(state: dict[str, Any], run_id: int) -> Any:
        detected = run_step(step("Plan")["run"], env, real_cli=True)
        assert detected.code == 0, detected.stdout + detected.stderr
        files = {name: (work / name).read_text(encoding="utf-8") for name in ("plan.md", "plan.json")}
        code = detected.outputs["exit-code"]
        script = step("Open, update or close the drift issue")["with"]["script"]
        report = run_github_script(
            script, state=state, env={"PLAN_EXIT_CODE": code}, files=files, context={"runId": run_id}
        )
        assert report.error is None, report.error
        return code, report

    code, opened = detect_and_report({"labels": ["drift"]}, 1)
    assert code == "2"
    (created,) = opened.called("issues.create")
    assert "Edited in the console." in created["body"] and "check_stock" in created["body"]
    code, again = detect_and_report(opened.state, 2)
    assert code == "2" and again.called("issues.createComment") == []
    assert run_step("reconciler apply --auto-approve", env, real_cli=True).code == 0
    code, closed = detect_and_report(again.state, 3)
    assert code == "0"
    assert closed.state["issues"][0]["state"] == "closed"
