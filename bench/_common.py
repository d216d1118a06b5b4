"""Shared helpers of the benchmark scripts: timing, child processes for peak memory, table printing."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.plan import DesiredTool

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "openapi"


def median_seconds(function: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def in_child(code: str, *args: str) -> dict[str, float]:
    """Run `code` in a fresh interpreter; it prints a JSON object. Adds the child's peak RSS in MiB."""
    wrapper = (
        "import json, resource, sys\n"
        f"{code}\n"
        "result = main(*sys.argv[1:])\n"
        "result['peak_rss_mib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(result))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return str(value)


def desired_tools(count: int, description: str = "Tool number {i}.", *, required: bool = False) -> list[DesiredTool]:
    """`count` hand-written tools as the planner receives them (`{i}` in `description` is the tool's number)."""
    from reconciler.model import SourceLocation, Tool
    from reconciler.plan import DesiredTool

    schema: dict[str, object] = {"type": "object", "properties": {"q": {"type": "string", "description": "Query"}}}
    if required:
        schema["required"] = ["q"]
    return [
        DesiredTool(
            Tool(
                name=f"tool_{i:05d}",
                description=description.format(i=i),
                endpoint=f"https://tools.example.com/{i}",
                schema=schema,
                location=SourceLocation("tools.d/bench.yaml"),
            ),
            "tools.d/bench.yaml",
        )
        for i in range(count)
    ]
