"""Runs the scripts of workflow and action steps as a runner would, with a stand-in `reconciler`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Stands in for the CLI: records its arguments, prints something in the requested format, and exits as
# FAKE_CODE says when --detailed-exitcode applies (2 means changes, which is 0 without the flag). `plan --out F`
# saves a stand-in plan in F; `show F` renders it (and fails for a missing F, as the CLI does); `inputs` prints
# FAKE_INPUTS.
FAKE_RECONCILER = """\
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
formats = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--format"]
fmt = formats[-1] if formats else "text"
outs = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--out"] + [a[6:] for a in args if a.startswith("--out=")]
if args and args[0] == "inputs":
    print(os.environ.get("FAKE_INPUTS", "tools.d/\\nreconciler.yaml"))
    sys.exit(0)
if args and args[0] == "show" and not os.path.isfile(args[1]):
    print(f"error: no such plan file: {args[1]}", file=sys.stderr)
    sys.exit(1)
if args and args[0] == "plan" and outs:
    os.makedirs(os.path.dirname(outs[-1]) or ".", exist_ok=True)
    with open(outs[-1], "w", encoding="utf-8") as saved:
        saved.write('{"kind": "reconciler-plan"}\\n')
if args and args[0] == "apply":
    print("target: org example", file=sys.stderr)
    print("[1/1] get_order: updated (id 7)", file=sys.stderr)
if fmt == "json":
    print(json.dumps({"summary": {"create": 1, "update": 2, "delete": 0}, "changes": [{"name": "get_order"}]}))
elif fmt == "markdown":
    print("<!-- reconciler-plan -->")
    print("### Plan: 1 to create, 2 to update, 0 to delete")
else:
    print("Plan: 1 to create, 2 to update, 0 to delete.")
code = int(os.environ.get("FAKE_CODE", "0"))
sys.exit(0 if code == 2 and "--detailed-exitcode" not in args else code)
"""


@dataclass
class StepRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    calls: list[list[str]]


@pytest.fixture
def fake_reconciler(tmp_path: Path) -> Path:
    """A directory holding `bin/reconciler` (for PATH) and `pkg/reconciler/__main__.py` (for `python -m`)."""
    bin_dir = tmp_path / "fake" / "bin"
    package = tmp_path / "fake" / "pkg" / "reconciler"
    bin_dir.mkdir(parents=True)
    package.mkdir(parents=True)
    executable = bin_dir / "reconciler"
    executable.write_text(f"#!{sys.executable}\n{FAKE_RECONCILER}", encoding="utf-8")
    executable.chmod(0o755)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "__main__.py").write_text(FAKE_RECONCILER, encoding="utf-8")
    return tmp_path / "fake"


@pytest.fixture
def run_step(tmp_path: Path, fake_reconciler: Path):  # type: ignore[no-untyped-def]
    """Run a step's `run:` script the way a runner does with `shell: bash` (bash -eo pipefail; every workflow
    sets it, test_workflows.py checks), with the stand-in reconciler (or, with `real_cli`, the real one)."""

    def run(script: str, env: dict[str, str], fake_code: int = 0, *, real_cli: bool = False) -> StepRun:
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        files = {name: tmp_path / name for name in ("output", "summary", "calls")}
        for path in files.values():
            path.write_text("", encoding="utf-8")
        stand_in = {
            "PATH": f"{fake_reconciler / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(fake_reconciler / "pkg"),
        }
        environment = {
            **({"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"} if real_cli else stand_in),
            "HOME": str(tmp_path),
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_ACTOR": "octocat",
            "FAKE_LOG": str(files["calls"]),
            "FAKE_CODE": str(fake_code),
            **env,
        }
        script_file = tmp_path / "step.sh"
        script_file.write_text(script, encoding="utf-8")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=work,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        outputs = dict(
            line.split("=", 1) for line in files["output"].read_text(encoding="utf-8").splitlines() if "=" in line
        )
        calls = [json.loads(line) for line in files["calls"].read_text(encoding="utf-8").splitlines()]
        return StepRun(done.returncode, done.stdout, done.stderr, outputs, files["summary"].read_text("utf-8"), calls)

    return run


NODE = shutil.which("node")


@dataclass
class ScriptRun:
    state: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]]
    error: str | None

    def called(self, name: str) -> list[dict[str, Any]]:
        return [params for called, params in self.calls if called == name]


@pytest.fixture
def run_github_script(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run a github-script step's script with node, as actions/github-script does, against an in-memory
    GitHub seeded with `state` (issues, comments, labels), in a folder holding `files` (downloaded artifacts)."""
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node is required in CI to run the workflows' github-script steps")
        pytest.skip("node not installed")

    def run(
        script: str, *, state: dict[str, Any], env: dict[str, str], files: dict[str, str], context: dict[str, Any]
    ) -> ScriptRun:
        work = tmp_path / "script"
        work.mkdir(exist_ok=True)
        for name, text in files.items():
            (work / name).write_text(text, encoding="utf-8")
        request = tmp_path / "script-input.json"
        full_context = {"repo": {"owner": "acme", "repo": "tools"}, **context}
        request.write_text(json.dumps({"script": script, "state": state, "context": full_context}), encoding="utf-8")
        done = subprocess.run(
            [str(NODE), str(Path(__file__).with_name("fake_github.js")), str(request)],
            cwd=work,
            env={"PATH": os.environ["PATH"], **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        return ScriptRun(answer["state"], [tuple(call) for call in answer["calls"]], answer["error"])

    return run


def real_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI, in `cwd`, with no org credentials (so against the embedded local registry)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYS", "NO_COLOR"))}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def many_tools(count: int) -> str:
    """`count` tool definitions, each rendering to a plan block of several hundred characters."""
    documents = []
    for index in range(count):
        documents.append(
            f"name: tool_{index:04d}\n"
            f"description: Looks up record {index} of the catalogue and returns its price, stock and warehouse.\n"
            f"endpoint: https://tools.example.com/api/v1/tools/tool_{index:04d}\n"
            "parameters:\n"
            "  sku: {type: string, description: Product stock keeping unit, required: true}\n"
            "  warehouse: {type: string, description: Warehouse code, enum: [north, south, east, west]}\n"
            "  quantity: {type: integer, description: How many units are wanted}\n"
        )
    return "---\n".join(documents)


@pytest.fixture(scope="session")
def big_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A real 250-tool plan, too big for one comment: plan.md and plan.json rendered from the saved plan."""
    repo = tmp_path_factory.mktemp("big-plan")
    (repo / ".git").mkdir()
    (repo / "tools.d").mkdir()
    (repo / "tools.d" / "catalogue.yaml").write_text(many_tools(250), encoding="utf-8")
    planned = real_cli("plan", "--detailed-exitcode", "--out", "saved-plan.json", cwd=repo)
    assert planned.returncode == 2, planned.stderr
    files = {}
    for name, fmt in (("plan.md", "markdown"), ("plan.json", "json")):
        shown = real_cli("show", "saved-plan.json", "--format", fmt, cwd=repo)
        assert shown.returncode == 0, shown.stderr
        files[name] = shown.stdout
    return files
