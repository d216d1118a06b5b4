"""Benchmark (i): `reconciler render` of N tool files (5,000), and its encoder beside the standard library's.

The render runs in this process (output discarded); the encoder step is timed alone on the same payloads:
`json.dumps(indent=2, sort_keys=True)` (what render used) vs orjson (what it uses), median of 5.
Run: .venv/bin/python bench/render_encoder.py [N] [--quick]   (--quick: 1,000)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median_seconds, table

from reconciler.cli import main as reconciler_main
from reconciler.cli.render import encode

TOOL = """name: tool_{i:05d}
description: Checks real-time inventory levels for product family {i}.
endpoint: https://tools.example.com/api/v1/tools/tool_{i:05d}
parameters:
  sku: {{type: string, description: Product stock keeping unit, required: true}}
  status: {{type: string, enum: [open, shipped, cancelled], description: Filter by status}}
  quantity: {{type: integer, description: Units wanted, minimum: 1}}
labels: {{team: commerce}}
"""


def run(argv: list[str], root: Path) -> tuple[float, str]:
    previous = Path.cwd()
    os.chdir(root)
    try:
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
            code = reconciler_main(argv)
        wall = time.perf_counter() - started
    finally:
        os.chdir(previous)
    assert code == 0, code
    return wall, out.getvalue()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=5_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    count = 1_000 if args.quick else args.count
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / "tools.d").mkdir()
        for i in range(count):
            (root / "tools.d" / f"t{i:05d}.yaml").write_text(TOOL.format(i=i), encoding="utf-8")
        validate, _ = run(["validate"], root)
        render, text = run(["render"], root)
    payloads = json.loads(text)
    stdlib = median_seconds(lambda: json.dumps(payloads, indent=2, sort_keys=True, ensure_ascii=False), 5)
    fast = median_seconds(lambda: encode(payloads), 5)
    assert encode(payloads) == json.dumps(payloads, indent=2, sort_keys=True, ensure_ascii=False)
    print(f"render of {count} tool files")
    rows = [
        ["validate (load, compile, check)", validate * 1000],
        ["render (the same + payloads + encode)", render * 1000],
        ["encode: json.dumps(indent=2, sort_keys)", stdlib * 1000],
        ["encode: orjson (render's encoder)", fast * 1000],
    ]
    print(table(["step", "ms"], rows))
    print(f"encoder {stdlib / fast:.1f}x faster; render / validate {render / validate:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
