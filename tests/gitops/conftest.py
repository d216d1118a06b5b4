"""Runs the scripts of workflow and action steps as a runner would, with a stand-in `reconciler`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Stands in for the CLI: records its arguments, prints something in the requested format, and exits as
# FAKE_CODE says when --detailed-exitcode applies (2 means changes, which is 0 without the flag).
FAKE_RECONCILER = """\
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
formats = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--format"]
fmt = formats[-1] if formats else "text"
if fmt == "json":
    print(json.dumps({"summary": {"create": 1, "update": 2, "delete": 0}, "changes": []}))
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
    """Run a step's `run:` script the way a runner does (bash -eo pipefail), with the stand-in reconciler (or,
    with `real_cli`, the real one)."""

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
            **({"PATH": os.environ["PATH"]} if real_cli else stand_in),
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
