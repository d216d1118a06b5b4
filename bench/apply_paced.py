"""Benchmark (f): apply at a server that enforces less than its headers announce, at parallelism 1 to 32.

The server is the emulator with its rate limit replaced: it enforces 5 requests a second (a fixed window) while
its `inin-ratelimit-*` headers announce 300 a minute, as the platform was seen to do; a 429's `Retry-After` is
what is left of the enforced window. Time is scaled (`--scale 4`: 5 requests per 0.25 s, 300 per 15 s, latency
50 ms / 4) so a run takes seconds. The floor is N / the enforced rate. Creates, updates and deletes each.
Run: .venv/bin/python bench/apply_paced.py [--count N] [--parallelism 1,4,32] [--scale S] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import desired_tools, table

from reconciler.api import ToolsClient, ToolsTarget, resolve_target
from reconciler.apply import apply_plan
from reconciler.emulator import EmulatorConfig, run_emulator
from reconciler.emulator.limits import WindowState
from reconciler.plan import PlanOptions, compute_plan, desired_payload
from reconciler.state import TOOLS_FORM

ENFORCED = 5  # requests per (1 s / scale)
ANNOUNCED = 300  # requests per (60 s / scale)
LATENCY_MS = 50.0
TARGET_RATIO, TARGET_SHARE = 1.1, 0.05


@dataclass(frozen=True)
class ScaledState(WindowState):
    enforced_reset: float = 0.0

    @property
    def retry_after(self) -> str:
        return f"{max(self.enforced_reset, 0.001):.3f}"


class Misleading:
    """Fixed windows: ENFORCED per `second` are served; the headers describe ANNOUNCED per 60 `second`s."""

    def __init__(self, second: float) -> None:
        self._second = second
        self._lock = threading.Lock()
        self._opened = self._announced_opened = float("-inf")
        self._count = self._announced = 0

    def hit(self) -> tuple[bool, WindowState]:
        with self._lock:
            now = time.monotonic()
            if now >= self._opened + self._second:
                self._opened, self._count = now, 0
            if now >= self._announced_opened + 60 * self._second:
                self._announced_opened, self._announced = now, 0
            admitted = self._count < ENFORCED
            self._count += admitted
            self._announced += 1
            return admitted, self._state(now)

    def peek(self) -> WindowState:
        with self._lock:
            return self._state(time.monotonic())

    def _state(self, now: float) -> WindowState:
        reset = max(0.0, self._announced_opened + 60 * self._second - now)
        enforced = max(0.0, self._opened + self._second - now)
        return ScaledState(ANNOUNCED, min(self._announced, ANNOUNCED), reset, enforced)


def run(kind: str, count: int, parallelism: int, scale: float) -> dict[str, Any]:
    config = EmulatorConfig(latency_ms=LATENCY_MS / scale, log_requests=False)
    with run_emulator(config) as emulator:
        emulator.server.window = Misleading(1.0 / scale)  # type: ignore[assignment]
        seeded = desired_tools(count, "Old tool {i}.") if kind != "create" else []
        for item in seeded:
            emulator.registry.put_raw(desired_payload(item, None, "reconciler"))
        live = [TOOLS_FORM.parse(raw, host="bench") for raw in emulator.registry.all_tools()]
        wanted = {
            "create": desired_tools(count, "Tool {i}."),
            "update": desired_tools(count, "New tool {i}."),
            "delete": [],
        }[kind]
        plan = compute_plan(wanted, live, PlanOptions(), target="bench")
        assert len(plan.actionable) == count, (kind, len(plan.actionable))
        target = resolve_target({"GENESYS_CLOUD_API_URL": emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "bench"})
        assert target is not None
        emulator.stats.reset()
        with ToolsClient(target, parallelism=parallelism) as client:
            started = time.perf_counter()
            report = apply_plan(plan, ToolsTarget(client), parallelism=parallelism)
            wall = time.perf_counter() - started
        return {
            "wall": wall,
            "requests": emulator.stats.requests,
            "429": emulator.stats.responses_429,
            "failed": len(report.failed),
        }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=80)
    parser.add_argument("--parallelism", default="1,4,32")
    parser.add_argument("--kinds", default="create,update,delete")
    parser.add_argument("--scale", type=float, default=4.0)
    parser.add_argument("--quick", action="store_true", help="creates only, parallelism 1 and 32")
    args = parser.parse_args(argv)
    kinds = ["create"] if args.quick else args.kinds.split(",")
    levels = [1, 32] if args.quick else [int(p) for p in args.parallelism.split(",")]
    floor = args.count / (ENFORCED * args.scale)
    rows, met = [], True
    for kind in kinds:
        for parallelism in levels:
            result = run(kind, args.count, parallelism, args.scale)
            ratio = result["wall"] / floor
            share = result["429"] / result["requests"] if result["requests"] else 0.0
            ok = ratio <= TARGET_RATIO and share < TARGET_SHARE and result["failed"] == 0
            met &= ok
            rows.append(
                [
                    kind,
                    parallelism,
                    result["wall"],
                    floor,
                    ratio,
                    result["requests"],
                    f"{share:.1%}",
                    result["failed"],
                    "met" if ok else "MISSED",
                ]
            )
    print(
        f"{args.count} writes a run; the server enforces {ENFORCED} requests per {1 / args.scale:g} s and announces "
        f"{ANNOUNCED} per {60 / args.scale:g} s (time scaled {args.scale:g}x), latency {LATENCY_MS / args.scale:g} ms"
    )
    print(table(["writes", "parallelism", "wall s", "floor s", "ratio", "requests", "429 share", "failed", ""], rows))
    print(
        f"target: ratio <= {TARGET_RATIO}, 429 share < {TARGET_SHARE:.0%}, no failed write: "
        + ("met" if met else "MISSED")
    )


if __name__ == "__main__":
    main(sys.argv[1:])
