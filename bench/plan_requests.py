"""Benchmark (c): `reconciler plan` against the emulator holding N live tools: wall time and HTTP requests.

The desired state matches the registry, so the plan is empty and the cost is reading: the target is exactly
ceil(N/100) list requests plus one token request. Run: .venv/bin/python bench/plan_requests.py [N ...]
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

from reconciler.cli import main as reconciler_main
from reconciler.compile import compile_tool_definition, owned_tool_input
from reconciler.emulator import EmulatorConfig, run_emulator
from reconciler.load import read_documents


def write_tools(directory: Path, count: int) -> None:
    directory.mkdir(parents=True)
    for i in range(count):
        (directory / f"t{i:05d}.yaml").write_text(
            f"name: tool_{i:05d}\ndescription: Tool number {i}.\nendpoint: https://tools.example.com/{i}\n"
            "parameters:\n  q: {type: string, description: Query, required: true}\n",
            encoding="utf-8",
        )


def seed(registry: object, tools_dir: Path) -> None:
    for path in sorted(tools_dir.iterdir()):
        [document] = read_documents(path, f"tools.d/{path.name}")
        payload = owned_tool_input(compile_tool_definition(document), "reconciler", f"tools.d/{path.name}")
        registry.put_raw(payload)  # type: ignore[attr-defined]


def measure(count: int) -> list[object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        write_tools(root / "tools.d", count)
        config = EmulatorConfig(client_id="bench-client", client_secret="bench-secret", default_page_size=25)
        with run_emulator(config) as emulator:
            seed(emulator.registry, root / "tools.d")
            os.environ.update(
                GENESYS_CLOUD_API_URL=emulator.url,
                GENESYS_CLOUD_CLIENT_ID="bench-client",
                GENESYS_CLOUD_CLIENT_SECRET="bench-secret",
            )
            previous = Path.cwd()
            os.chdir(root)
            try:
                emulator.stats.reset()
                started = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    code = reconciler_main(["plan", "--detailed-exitcode"])
                wall = time.perf_counter() - started
            finally:
                os.chdir(previous)
            assert code == 0, f"plan exit {code}"
            by_method = emulator.stats.by_method
    requests = sum(by_method.values())
    lists = by_method.get("GET", 0)
    tokens = by_method.get("POST", 0)
    target = math.ceil(count / 100) + 1
    return [count, wall * 1000, requests, lists, tokens, target, "met" if requests == target else "MISSED"]


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1000, 10000]
    rows = [measure(count) for count in sizes]
    print("plan against the emulator holding N managed tools (empty plan; client credentials)")
    print(table(["live tools", "wall ms", "HTTP requests", "list GETs", "token POSTs", "target", "verdict"], rows))


if __name__ == "__main__":
    main(sys.argv[1:])
