"""Benchmark (h): start-up. `reconciler --help` and `reconciler validate` of one file, each a fresh process,
beside `python -c pass` (the interpreter's own start-up, the floor) measured in the same run, interleaved.

Target: each command under 120 ms wall on a quiet machine; on a busy one read the "over python" column, the
cost of our imports and work. Run: .venv/bin/python bench/startup.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

TARGET_MS = 120.0
TOOL = """name: check_inventory
description: Checks real-time inventory levels for a product SKU.
endpoint: https://tools.example.com/api/v1/tools/check_inventory
parameters:
  sku: {type: string, description: Product stock keeping unit, required: true}
"""


def wall_ms(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="5 runs")
    args = parser.parse_args(argv)
    runs = 5 if args.quick else args.runs
    python = sys.executable
    reconciler = [python, "-m", "reconciler"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / "tools.d").mkdir()
        (root / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")
        sides = {
            "python -c pass": [python, "-c", "pass"],
            "reconciler --help": [*reconciler, "--help"],
            "reconciler validate (1 file)": [*reconciler, "validate"],
        }
        samples: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(runs):
            for name, command in sides.items():
                samples[name].append(wall_ms(command, root))
    floor = statistics.median(samples["python -c pass"])
    rows = []
    for name, values in samples.items():
        median = statistics.median(values)
        verdict = "" if name.startswith("python") else ("met" if median < TARGET_MS else "MISSED")
        rows.append([name, median, min(values), median - floor, verdict])
    print(f"start-up, median and best of {runs} fresh processes each ({python} -m reconciler)")
    print(table(["command", "median ms", "best ms", "over python ms", f"< {TARGET_MS:.0f} ms"], rows))


if __name__ == "__main__":
    main(sys.argv[1:])
