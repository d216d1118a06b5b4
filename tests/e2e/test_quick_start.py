"""The README's quick start, as written: the repository's own tools.d, no credentials, the real CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from reconciler.emulator import Registry

REPOSITORY = Path(__file__).resolve().parents[2]


def test_plan_then_apply_against_the_embedded_registry_then_nothing_left_to_do(tmp_path: Path, run_cli: Any) -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/reconciler plan && .venv/bin/reconciler apply --auto-approve" in readme
    shutil.copytree(REPOSITORY / "tools.d", tmp_path / "tools.d")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GENESYS")}

    def reconciler(*argv: str) -> subprocess.CompletedProcess[str]:
        return run_cli(list(argv), cwd=tmp_path, environ=environ)

    plan = reconciler("plan")
    assert plan.returncode == 0, plan.stderr
    assert plan.stderr.splitlines()[0].endswith("local registry (.reconciler/registry.db)")
    wanted = sorted(
        line.split(":", 1)[1].strip()
        for path in (tmp_path / "tools.d").glob("*.yaml")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("name:")
    )
    assert wanted and all(name in plan.stdout for name in wanted)

    apply = reconciler("apply", "--auto-approve")
    assert apply.returncode == 0, apply.stderr
    state = Registry(tmp_path / ".reconciler" / "registry.db")
    assert sorted(tool["name"] for tool in state.all_tools()) == wanted
    state.close()

    again = reconciler("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
