"""Benchmark (a): `validate` of N tool files against a bare libyaml parse of the same files.

Each measurement runs in a fresh interpreter (so peak RSS is its own), median of several runs.
Run: .venv/bin/python bench/validate_files.py [N ...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import in_child, table

TOOL = """name: tool_{i:05d}
description: Checks real-time inventory levels for product family {i}.
endpoint: https://tools.example.com/api/v1/tools/tool_{i:05d}
parameters:
  sku: {{type: string, description: Product stock keeping unit, required: true}}
  warehouse_id: {{type: string, description: Target warehouse identifier}}
  quantity: {{type: integer, description: Units wanted, minimum: 1}}
context:
  user_id: conversation.user_id
rate_limit: {{requests_per_minute: 60, burst_size: 10}}
labels: {{team: commerce, tier: gold}}
"""
TOOL_WITH_SCHEMA = """name: tool_{i:05d}
description: Looks up order {i} for the caller.
endpoint: https://tools.example.com/api/v1/tools/tool_{i:05d}
schema:
  type: object
  properties:
    order_id: {{type: string, description: The order number}}
    status: {{type: string, enum: [open, shipped, cancelled], description: Filter by status}}
  required: [order_id]
labels: {{team: orders}}
"""

BARE = """
import time, yaml
from pathlib import Path
def main(directory, runs):
    files = sorted(Path(directory).rglob('*.yaml'))
    samples = []
    for _ in range(int(runs) + 1):
        t = time.perf_counter()
        for path in files:
            list(yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader))
        samples.append(time.perf_counter() - t)
    samples = samples[1:]
    samples.sort()
    return {'seconds': samples[len(samples) // 2]}
"""
VALIDATE = """
import os, time
from pathlib import Path
from reconciler.config import Config
from reconciler.desired import build_desired_state
def main(directory, runs):
    samples = []
    state = None
    for _ in range(int(runs) + 1):
        state = None  # peak RSS is of one run: the last run's state must not live beside the next one
        t = time.perf_counter()
        state = build_desired_state(Path(directory), Config(root=Path(directory)), os.environ)
        samples.append(time.perf_counter() - t)
        assert not state.errors, state.errors[:3]
    samples = samples[1:]
    samples.sort()
    return {'seconds': samples[len(samples) // 2], 'tools': len(state.tools)}
"""


def write_tools(directory: Path, count: int) -> None:
    for i in range(count):
        template = TOOL_WITH_SCHEMA if i % 10 == 0 else TOOL
        (directory / f"tool_{i:05d}.yaml").write_text(template.format(i=i), encoding="utf-8")


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [300, 3000, 10000]
    rows = []
    for count in sizes:
        rounds, runs = (5, "3") if count <= 3000 else (3, "2")
        bare: list[dict[str, float]] = []
        ours: list[dict[str, float]] = []
        with tempfile.TemporaryDirectory() as tmp:
            write_tools(Path(tmp), count)
            for _ in range(rounds):
                bare.append(in_child(BARE, tmp, runs))
                ours.append(in_child(VALIDATE, tmp, runs))
        rows.append(
            [
                count,
                statistics.median(b["seconds"] for b in bare) * 1000,
                statistics.median(o["seconds"] for o in ours) * 1000,
                statistics.median(o["seconds"] / b["seconds"] for b, o in zip(bare, ours, strict=True)),
                max(b["peak_rss_mib"] for b in bare),
                max(o["peak_rss_mib"] for o in ours),
            ]
        )
    print("validate of N tool files vs a bare libyaml parse (median of rounds; 1 schema in 10 user-written)")
    print(table(["files", "bare parse ms", "validate ms", "ratio", "bare RSS MiB", "validate RSS MiB"], rows))
    print("target: ratio <= 1.5 at 3,000 files")


if __name__ == "__main__":
    main(sys.argv[1:])
