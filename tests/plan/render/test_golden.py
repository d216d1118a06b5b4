"""Each renderer on each sample plan, compared byte for byte with tests/plan/render/golden/.

After an intended change of output, regenerate with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/plan/render`
and review the diff of the golden files like any other change.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.plan.model import Plan
from reconciler.plan.render import render_json, render_markdown, render_text

GOLDEN = Path(__file__).parent / "golden"
RENDERERS: dict[str, Callable[[Plan], str]] = {"txt": render_text, "md": render_markdown, "json": render_json}


@pytest.mark.parametrize("suffix", sorted(RENDERERS))
def test_matches_golden(plans: dict[str, Plan], plan_name: str, suffix: str) -> None:
    rendered = RENDERERS[suffix](plans[plan_name])
    path = GOLDEN / f"{plan_name}.{suffix}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(rendered.encode("utf-8"))
    assert path.exists(), f"no golden file {path.name}; run with UPDATE_GOLDEN=1 to create it"
    assert rendered == path.read_bytes().decode("utf-8")


def test_no_stale_golden_files(plans: dict[str, Plan]) -> None:
    expected = {f"{name}.{suffix}" for name in plans for suffix in RENDERERS}
    assert {path.name for path in GOLDEN.iterdir()} == expected


def test_rendering_is_deterministic(plans: dict[str, Plan], plan_name: str) -> None:
    for render in RENDERERS.values():
        assert render(plans[plan_name]) == render(plans[plan_name])
