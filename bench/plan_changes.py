"""Benchmark (g): `reconciler plan` of N tool files against N live tools of which half differ from tools.d.

The floor is what a plan cannot avoid: a bare libyaml parse of the files plus the list of live tools over
HTTP (one `ToolsClient.list_tools`). The plan runs in this process (`main(["plan"])`, output discarded)
against the same in-process emulator; the sides take turns and the ratio is the median of each round's.
Run: .venv/bin/python bench/plan_changes.py [N] [--rounds R] [--quick]   (N: 10,000, 3 rounds; --quick: 2,000)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

from reconciler.api import ToolsClient, resolve_target
from reconciler.cli import main as reconciler_main
from reconciler.compile import compile_tool_definition, owned_tool_input
from reconciler.emulator import EmulatorConfig, run_emulator
from reconciler.load import read_documents

TARGET = 1.5
TOOL = """name: tool_{i:05d}
description: Checks real-time inventory levels for product family {i}.
endpoint: https://tools.example.com/api/v1/tools/tool_{i:05d}
parameters:
  sku: {{type: string, description: Product stock keeping unit, required: true}}
  warehouse_id: {{type: string, description: Target warehouse identifier, required: true}}
  status: {{type: string, enum: [open, shipped, cancelled], description: Filter by status}}
context:
  user_id: conversation.user_id
rate_limit: {{requests_per_minute: 60, burst_size: 10}}
labels: {{team: commerce}}
"""


def write_tools(directory: Path, count: int) -> None:
    directory.mkdir(parents=True)
    for i in range(count):
        (directory / f"t{i:05d}.yaml").write_text(TOOL.format(i=i), encoding="utf-8")


def older(text: str) -> str:
    """The same tool as an earlier commit had it: another description, parameter description and rate."""
    return (
        text.replace("Checks real-time inventory levels", "Checked inventory")
        .replace("Product stock keeping unit", "SKU")
        .replace("requests_per_minute: 60", "requests_per_minute: 30")
    )


def seed(registry: object, tools_dir: Path, scratch: Path) -> None:
    """Every tool as the reconciler wrote it, every other one from an earlier commit (so it is to update, with
    no drift), and `required` in another order, which is no change."""
    scratch.mkdir()
    for i, current in enumerate(sorted(tools_dir.iterdir())):
        path = current
        if i % 2:
            path = scratch / current.name
            path.write_text(older(current.read_text(encoding="utf-8")), encoding="utf-8")
        [document] = read_documents(path, f"tools.d/{path.name}")
        payload = owned_tool_input(compile_tool_definition(document), "reconciler", f"tools.d/{path.name}")
        payload["schema"]["required"] = list(reversed(payload["schema"]["required"]))
        registry.put_raw(payload)  # type: ignore[attr-defined]


def floor(root: Path, url: str) -> float:
    started = time.perf_counter()
    for path in sorted((root / "tools.d").rglob("*.yaml")):
        list(yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader))
    target = resolve_target({"GENESYS_CLOUD_API_URL": url, "GENESYS_CLOUD_ACCESS_TOKEN": "bench"})
    assert target is not None
    with ToolsClient(target) as client:
        client.list_tools()
    return time.perf_counter() - started


def plan(root: Path) -> float:
    previous = Path.cwd()
    os.chdir(root)
    try:
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
            code = reconciler_main(["plan", "--detailed-exitcode"])
        wall = time.perf_counter() - started
    finally:
        os.chdir(previous)
    assert code == 2, f"plan exit {code}: {err.getvalue()[-2000:]}"
    assert "drift" not in out.getvalue().lower(), out.getvalue()[-500:]
    return wall


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,000 tools")
    args = parser.parse_args(argv)
    count = 2_000 if args.quick else args.count
    floors, plans, ratios = [], [], []
    with tempfile.TemporaryDirectory() as tmp, run_emulator(EmulatorConfig(log_requests=False)) as emulator:
        root = Path(tmp)
        (root / ".git").mkdir()
        write_tools(root / "tools.d", count)
        seed(emulator.registry, root / "tools.d", root / "older")
        os.environ.update(GENESYS_CLOUD_API_URL=emulator.url, GENESYS_CLOUD_ACCESS_TOKEN="bench")
        for _ in range(args.rounds):
            floors.append(floor(root, emulator.url))
            plans.append(plan(root))
            ratios.append(plans[-1] / floors[-1])
    ratio = statistics.median(ratios)
    print(f"plan of {count} tool files against {count} live tools, {count // 2} of them to update")
    rows = [["floor: bare YAML parse + list", statistics.median(floors)], ["reconciler plan", statistics.median(plans)]]
    print(table(["side", "wall s"], rows))
    print(f"ratio {ratio:.2f} (target <= {TARGET}: {'met' if ratio <= TARGET else 'MISSED'})")


if __name__ == "__main__":
    main(sys.argv[1:])
