"""The composite action (action.yml): its interface, and its run script with a stand-in `reconciler`."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def action_step(step_id: str) -> dict[str, Any]:
    (found,) = [s for s in ACTION["runs"]["steps"] if s.get("id") == step_id]
    return found


def test_is_a_composite_action_with_the_documented_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    inputs = ACTION["inputs"]
    assert set(inputs) == {"command", "directory", "format", "args", "auto-approve", "python-version", "package-spec"}
    assert inputs["command"]["required"] is True
    defaults = {name: spec.get("default") for name, spec in inputs.items() if name != "command"}
    assert defaults == {
        "directory": "tools.d",
        "format": "",
        "args": "",
        "auto-approve": "false",
        "python-version": "3.11",
        "package-spec": "",
    }


def test_outputs_come_from_the_run_step() -> None:
    outputs = ACTION["outputs"]
    assert set(outputs) == {"exit-code", "has-changes", "plan-summary", "output-file", "saved-plan"}
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


def test_installs_the_actions_own_checkout_unless_told_otherwise() -> None:
    install = action_step("install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert 'spec="${PACKAGE_SPEC:-$ACTION_PATH}"' in install["run"]
    assert install["env"]["RECONCILER_PURE_PYTHON"] == "1"  # no ~30 s C build in every job (setup.py)
    setup = action_step("python")
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["update-environment"] is False  # the caller's Python stays as it was


def _wheel(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A minimal pure-Python wheel, built by hand so that installing it needs no index and no build."""
    info = f"{name}-{version}.dist-info"
    contents = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def test_a_package_spec_that_installs_another_projects_reconciler_fails_the_step(tmp_path: Path, run_step: Any) -> None:
    """`package-spec: reconciler==0.1.0` installs the unrelated PyPI project of that name (a DataFrame
    utility); the step stops there with an annotation rather than fail later on a missing module."""
    other = _wheel(tmp_path, "reconciler", "0.1.0", {"reconciler/__init__.py": '"""Reconcile DataFrames."""\n'})
    workspace = tmp_path / "work" / "reconciler"  # a caller's folder of that name does not pass for the package
    workspace.mkdir(parents=True)
    (workspace / "__init__.py").write_text("", encoding="utf-8")
    (workspace / "cli.py").write_text("", encoding="utf-8")
    env = {"PYTHON": sys.executable, "PACKAGE_SPEC": str(other), "ACTION_PATH": str(ROOT)}
    result = run_step(action_step("install")["run"], env)
    assert result.code == 1
    assert "::error title=reconciler::package-spec" in result.stdout and "another project" in result.stdout
    assert "python" not in result.outputs
    assert not (tmp_path / "reconciler-venv").exists()  # the next use of the action installs again


def test_inputs_reach_scripts_only_through_env() -> None:
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", "")


def run_action(run_step: Any, fake_code: int = 0, **inputs: str) -> Any:
    """The run step with the stand-in CLI, and credentials as a caller's step env gives them."""
    env = {
        "RECONCILER_PYTHON": sys.executable,
        "DIRECTORY": "tools.d",
        "FORMAT": "",
        "ARGS": "",
        "GENESYSCLOUD_OAUTHCLIENT_ID": "client-id",
        **inputs,
    }
    return run_step(action_step("run")["run"], env, fake_code=fake_code)


@pytest.mark.parametrize("code", [0, 2])
def test_plan_reads_the_org_once_and_renders_from_the_saved_plan(tmp_path: Path, run_step: Any, code: int) -> None:
    result = run_action(run_step, code, COMMAND="plan", FORMAT="markdown", ARGS="--tool 'get order' --no-prune")
    assert result.code == 0, result.stderr
    assert result.outputs["exit-code"] == str(code)
    assert result.outputs["has-changes"] == ("true" if code == 2 else "false")
    assert json.loads(result.outputs["plan-summary"]) == {"create": 1, "update": 2, "delete": 0}
    saved = str(tmp_path / "reconciler-plan.json")
    assert result.calls == [
        ["plan", "tools.d", "--detailed-exitcode", "--tool", "get order", "--no-prune", "--out", saved],
        ["show", saved, "--format", "markdown"],
        ["show", saved, "--format", "json"],
    ]
    assert result.outputs["saved-plan"] == saved
    output_file = Path(result.outputs["output-file"])
    assert output_file.name == "reconciler-plan.md"
    assert output_file.read_text(encoding="utf-8").startswith("<!-- reconciler-plan -->\n")
    assert "Plan: 1 to create" in result.stdout  # the plan's text is in the log


def test_plan_keeps_the_callers_out(tmp_path: Path, run_step: Any) -> None:
    result = run_action(run_step, 2, COMMAND="plan", FORMAT="json", ARGS="--out=plans/p.json")
    assert result.code == 0
    assert result.calls[0] == ["plan", "tools.d", "--detailed-exitcode", "--out=plans/p.json"]
    assert result.calls[1:] == [["show", "plans/p.json", "--format", "json"]]
    assert result.outputs["saved-plan"] == "plans/p.json"
    assert json.loads(result.outputs["plan-summary"])["create"] == 1


def test_plan_error_fails_the_step(run_step: Any) -> None:
    result = run_action(run_step, 1, COMMAND="plan")
    assert result.code == 1
    assert result.outputs["exit-code"] == "1"
    assert result.outputs["plan-summary"] == ""


@pytest.mark.parametrize(("command", "code"), [("validate", 0), ("validate", 1), ("apply", 1), ("export", 0)])
def test_other_commands_pass_their_exit_code_through(run_step: Any, command: str, code: int) -> None:
    result = run_action(run_step, code, COMMAND=command, DIRECTORY="defs", ARGS="--auto-approve")
    assert result.code == code
    assert result.outputs["exit-code"] == str(code)
    assert result.outputs["has-changes"] == "false"
    assert result.outputs["plan-summary"] == ""
    where = ["--out", "defs"] if command == "export" else ["defs"]
    assert result.calls == [[command, *where, "--auto-approve"]]


@pytest.mark.parametrize("auto_approve", ["", "false", "no"])
def test_apply_without_auto_approve_fails_before_reading_anything(run_step: Any, auto_approve: str) -> None:
    result = run_action(run_step, COMMAND="apply", AUTO_APPROVE=auto_approve)
    assert result.code == 1
    assert "::error title=reconciler::command: apply changes the org" in result.stdout
    assert 'auto-approve: "true"' in result.stdout
    assert result.calls == []


@pytest.mark.parametrize(("auto_approve", "args"), [("true", ""), ("TRUE", "--parallelism 2"), ("", "--auto-approve")])
def test_apply_with_auto_approve_applies_once(run_step: Any, auto_approve: str, args: str) -> None:
    result = run_action(run_step, COMMAND="apply", AUTO_APPROVE=auto_approve, ARGS=args)
    assert result.code == 0
    (call,) = result.calls
    assert call[:2] == ["apply", "tools.d"] and call.count("--auto-approve") == 1


@pytest.mark.parametrize("given", [{}, {"GENESYSCLOUD_OAUTHCLIENT_ID": " "}, {"GENESYSCLOUD_REGION": "eu-central-1"}])
def test_apply_without_an_org_fails_before_reading_anything(run_step: Any, given: dict[str, str]) -> None:
    """With no credentials (a secret misnamed, or not given to the step) the CLI applies to a throwaway local
    registry in the workspace and ends green: the org is never changed and nobody is told."""
    inputs = {"COMMAND": "apply", "AUTO_APPROVE": "true", "GENESYSCLOUD_OAUTHCLIENT_ID": "", **given}
    result = run_action(run_step, **inputs)
    assert result.code == 1
    assert "::error title=reconciler::command: apply has no org to apply to" in result.stdout
    assert result.calls == []


@pytest.mark.parametrize("variable", ["GENESYS_CLOUD_ACCESS_TOKEN", "GENESYS_CLOUD_API_URL", "GENESYS_CLOUD_CLIENT_ID"])
def test_apply_with_any_way_to_an_org_runs(run_step: Any, variable: str) -> None:
    inputs = {"COMMAND": "apply", "AUTO_APPROVE": "true", "GENESYSCLOUD_OAUTHCLIENT_ID": "", variable: "x"}
    result = run_action(run_step, **inputs)
    assert result.code == 0, result.stdout
    assert [call[0] for call in result.calls] == ["apply"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="PYTHONSAFEPATH is read from Python 3.11 on")
def test_a_reconciler_folder_in_the_workspace_does_not_replace_the_installed_one(tmp_path: Path, run_step: Any) -> None:
    """A fork of this repository has reconciler/ at its root, where the action runs: `python -m reconciler` took
    that folder (whatever version the fork holds) over the one the action installed."""
    workspace = tmp_path / "work" / "reconciler"
    workspace.mkdir(parents=True)
    (workspace / "__init__.py").write_text("", encoding="utf-8")
    (workspace / "__main__.py").write_text("print('the workspace copy')\nraise SystemExit(0)\n", encoding="utf-8")
    result = run_action(run_step, COMMAND="validate")
    assert "the workspace copy" not in result.stdout
    assert [call[0] for call in result.calls] == ["validate"]  # the installed (here: stand-in) reconciler ran


def test_an_unknown_command_fails_before_running_anything(run_step: Any) -> None:
    result = run_action(run_step, COMMAND="destroy")
    assert result.code == 1
    assert "::error" in result.stdout
    assert result.calls == []


@pytest.mark.parametrize("args", ["--tool 'get order", '--tool "x', "--tool x\\"])
def test_args_that_cannot_be_split_fail_with_an_annotation_not_a_traceback(run_step: Any, args: str) -> None:
    result = run_action(run_step, COMMAND="plan", ARGS=args)
    assert result.code == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "::error title=reconciler::args cannot be split as a shell would" in result.stdout
    assert result.calls == []


def test_validate_through_the_action_with_the_real_cli(tmp_path: Path, run_step: Any) -> None:
    """The argument order the action builds is one the real CLI accepts."""
    env = {
        "RECONCILER_PYTHON": sys.executable,
        "COMMAND": "validate",
        "DIRECTORY": str(ROOT / "tools.d"),
        "FORMAT": "github",
        "ARGS": "",
    }
    result = run_step(action_step("run")["run"], env, real_cli=True)
    assert result.code == 0, result.stdout + result.stderr
    assert result.calls == []  # the stand-in was not run
    outputs = result.outputs
    assert outputs["exit-code"] == "0"
    assert Path(outputs["output-file"]) == tmp_path / "reconciler-validate.txt"
    assert (tmp_path / "reconciler-validate.txt").is_file()


def test_plan_through_the_action_with_the_real_cli_passes_cis_own_check(tmp_path: Path, run_step: Any) -> None:
    """What ci.yml's `action` job does, locally: the action plans this repository's tools.d against the local
    registry (no credentials), then the job's check step reads its outputs."""
    work = tmp_path / "work"
    work.mkdir()
    (work / ".git").mkdir()
    shutil.copytree(ROOT / "tools.d", work / "tools.d")
    env = {"RECONCILER_PYTHON": sys.executable, "COMMAND": "plan", "DIRECTORY": "tools.d", "FORMAT": "markdown"}
    planned = run_step(action_step("run")["run"], {**env, "ARGS": ""}, real_cli=True)
    assert planned.code == 0, planned.stdout + planned.stderr
    assert Path(planned.outputs["saved-plan"]).is_file()
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    (check,) = [s for s in workflow["jobs"]["action"]["steps"] if s.get("name") == "Check the action's outputs"]
    outputs = planned.outputs
    checked = run_step(
        check["run"],
        {
            "EXIT_CODE": outputs["exit-code"],
            "HAS_CHANGES": outputs["has-changes"],
            "PLAN_SUMMARY": outputs["plan-summary"],
            "OUTPUT_FILE": outputs["output-file"],
        },
        real_cli=True,
    )
    assert checked.code == 0, checked.stdout + checked.stderr
