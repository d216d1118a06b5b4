"""The newest-dependencies workflow's issue script, run by node against a recorded GitHub API, and the lock."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".github" / "scripts" / "newest-dependencies.js"
MARKER = "<!-- reconciler:newest-dependencies -->"

# A stand-in for github-script's `github` and `context`: serves the issues given, records every write.
HARNESS = """
const calls = [];
const issues = JSON.parse(process.env.ISSUES);
const github = {
  paginate: async (fn, params) => {
    calls.push(['list', params]);
    return issues.filter((i) => i.user.login === params.creator && i.state === params.state);
  },
  rest: { issues: {
    listForRepo: 'listForRepo',
    create: async (p) => { calls.push(['create', p]); },
    update: async (p) => { calls.push(['update', p]); },
    createComment: async (p) => { calls.push(['comment', p]); },
  } },
};
const context = { repo: { owner: 'acme', repo: 'tools' }, serverUrl: 'https://github.com', runId: 42 };
const log = require('fs').readFileSync(process.env.LOG_FILE, 'utf8');
require(process.env.SCRIPT)({ github, context, outcome: process.env.OUTCOME, log, freeze: 'pyyaml==9.0\\n' })
  .then((done) => console.log(JSON.stringify({ done, calls })));
"""


def run_script(
    tmp_path: Path, issues: list[dict[str, object]], outcome: str, log: str = ""
) -> tuple[str, list[list[object]]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    log_file = tmp_path / "newest.log"
    log_file.write_text(log, encoding="utf-8")
    env = {"ISSUES": json.dumps(issues), "OUTCOME": outcome, "LOG_FILE": str(log_file), "SCRIPT": str(SCRIPT)}
    done = subprocess.run([node, "-e", HARNESS], env=env, capture_output=True, text=True, timeout=30, check=True)
    answer = json.loads(done.stdout)
    return answer["done"], answer["calls"]


def issue(number: int, body: str, login: str = "github-actions[bot]") -> dict[str, object]:
    return {"number": number, "body": body, "state": "open", "user": {"login": login}}


def writes(calls: list[list[object]]) -> list[list[object]]:
    return [call for call in calls if call[0] != "list"]


def test_a_failure_opens_one_issue_with_the_marker_the_versions_and_the_log(tmp_path: Path) -> None:
    log = "== pytest\nFAILED tests/x.py::test_y\n1 failed, 600 passed\n"
    done, calls = run_script(tmp_path, [], "failure", log=log)
    assert done == "opened"
    [(kind, created)] = writes(calls)
    assert kind == "create"
    assert created["body"].startswith(MARKER)  # type: ignore[index]
    assert "pyyaml==9.0" in created["body"]  # type: ignore[index]
    assert "1 failed, 600 passed" in created["body"]  # type: ignore[index]
    assert "actions/runs/42" in created["body"]  # type: ignore[index]


def test_a_person_s_issue_is_never_touched_even_with_the_same_words(tmp_path: Path) -> None:
    people = [issue(1, MARKER + " copied by hand", login="octocat"), issue(2, "newest dependencies broke")]
    done, calls = run_script(tmp_path, people, "failure", log="boom")
    assert done == "opened"
    assert [call[0] for call in writes(calls)] == ["create"]
    done, calls = run_script(tmp_path, people, "success")
    assert (done, writes(calls)) == ("nothing", [])


def test_a_later_failure_updates_the_workflow_s_own_issue_and_a_pass_closes_it(tmp_path: Path) -> None:
    own = [issue(7, MARKER + "\nold"), issue(3, "something else by the bot")]
    done, calls = run_script(tmp_path, own, "failure", log="new failure")
    assert done == "updated"
    [(kind, updated)] = writes(calls)
    assert (kind, updated["issue_number"]) == ("update", 7)  # type: ignore[index]
    assert "new failure" in updated["body"]  # type: ignore[index]
    done, calls = run_script(tmp_path, own, "success")
    assert done == "closed"
    assert [(c[0], c[1]["issue_number"]) for c in writes(calls)] == [("comment", 7), ("update", 7)]  # type: ignore[index]


def test_a_huge_log_keeps_the_body_under_the_limit_with_its_end_and_fences_balanced(tmp_path: Path) -> None:
    log = "".join(f"line {i} ```\n" for i in range(20000)) + "the last line\n"
    _, calls = run_script(tmp_path, [], "failure", log=log)
    body = writes(calls)[0][1]["body"]  # type: ignore[index]
    assert len(body) <= 65536
    assert body.rstrip().endswith("```")
    assert "the last line" in body
    assert body.count("```") % 2 == 0


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_the_lock_pins_every_declared_dependency_with_a_hash() -> None:
    """A dependency added to pyproject.toml without `bash .ci/lock` would be missing on a fresh machine."""
    if sys.version_info < (3, 11):
        pytest.skip("tomllib")
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _names(project["dependencies"]) | {
        name for extra in project["optional-dependencies"].values() for name in _names(extra)
    }
    lock = (ROOT / ".ci" / "requirements.lock").read_text(encoding="utf-8")
    pinned = {m.group(1).lower().replace("_", "-") for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock, re.M)}
    assert declared - pinned == set(), "run `bash .ci/lock` and commit .ci/requirements.lock"
    for entry in re.split(r"\n(?=[A-Za-z])", lock.strip()):
        if not entry.startswith("#"):
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_workflow_runs_the_suite_unlocked_and_reports_through_the_script() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deps.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["test"]["steps"]
    suite = next(s for s in steps if s.get("id") == "suite")
    assert "RECONCILER_DEPS=newest bash .ci/run" in suite["run"]
    assert suite["continue-on-error"] is True
    reporter = next(s for s in steps if "github-script" in s.get("uses", ""))
    assert ".github/scripts/newest-dependencies.js" in reporter["with"]["script"]
    assert steps[-1]["if"] == "steps.suite.outcome != 'success'"
    assert workflow["jobs"]["test"]["permissions"] == {"contents": "read", "issues": "write"}
