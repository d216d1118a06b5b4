"""Benchmark (e): N creates applied to the embedded local registry (state on disk) vs the in-memory emulator.

Both sides are the same `apply_plan` over loopback HTTP to an emulator served in this process, as `reconciler
apply` does with no credentials; the only difference is the emulator's state file (the local registry keeps
`.reconciler/registry.db`). The sides take turns; the ratio is the median of each round's ratio.
Run: .venv/bin/python bench/local_registry.py [N] [--rounds R] [--quick]   (N defaults to 10,000; --quick 1,000)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import desired_tools, table

from reconciler.api import ToolsClient, ToolsTarget, resolve_target
from reconciler.apply import apply_plan
from reconciler.emulator import EmulatorConfig, run_emulator
from reconciler.plan import PlanOptions, compute_plan

TARGET = 1.3


def apply_creates(count: int, state: Path | None) -> float:
    plan = compute_plan(desired_tools(count), [], PlanOptions(), target="bench")
    with run_emulator(EmulatorConfig(state_file=state)) as emulator:
        target = resolve_target({"GENESYS_CLOUD_API_URL": emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "bench"})
        assert target is not None
        with ToolsClient(target) as client:
            started = time.perf_counter()
            report = apply_plan(plan, ToolsTarget(client))
            wall = time.perf_counter() - started
        assert not report.failed, report.failed[:3]
        assert len(emulator.registry) == count
    return wall


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1,000 creates")
    args = parser.parse_args(argv)
    count = 1_000 if args.quick else args.count
    floors, locals_, ratios = [], [], []
    for _ in range(args.rounds):
        floor = apply_creates(count, None)
        with tempfile.TemporaryDirectory() as tmp:
            local = apply_creates(count, Path(tmp) / ".reconciler" / "registry.db")
        floors.append(floor)
        locals_.append(local)
        ratios.append(local / floor)
    ratio = statistics.median(ratios)
    print(f"apply of {count} creates (parallelism 4), {args.rounds} round(s)")
    rows = [
        ["in-memory emulator (floor)", statistics.median(floors), count / statistics.median(floors)],
        ["local registry, state on disk", statistics.median(locals_), count / statistics.median(locals_)],
    ]
    print(table(["side", "wall s", "creates/s"], rows))
    print(f"ratio {ratio:.2f} (target <= {TARGET}: {'met' if ratio <= TARGET else 'MISSED'})")


if __name__ == "__main__":
    main(sys.argv[1:])
