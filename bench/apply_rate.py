"""Benchmark (d): `apply` of 400 creates against the emulator limited to 40 requests/s with 25 ms latency.

Measured beside its floor (N / rate) and a serial baseline without pacing (one request at a time, exponential
sleep on 429, as the seed tutorials do). Run: .venv/bin/python bench/apply_rate.py [N] [RATE]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import desired_tools, table

from reconciler.api import ToolsClient, ToolsTarget, resolve_target
from reconciler.apply import apply_plan
from reconciler.emulator import EmulatorConfig, run_emulator
from reconciler.plan import PlanOptions, compute_plan, desired_payload

LATENCY_MS = 25


def paced_apply(count: int, rate: int, parallelism: int) -> dict[str, Any]:
    config = EmulatorConfig(rate_limit=rate, latency_ms=LATENCY_MS)
    with run_emulator(config) as emulator:
        target = resolve_target({"GENESYS_CLOUD_API_URL": emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "bench"})
        assert target is not None
        with ToolsClient(target, parallelism=parallelism) as client:
            plan = compute_plan(desired_tools(count), [], PlanOptions(), target="bench")
            stamps: list[float] = []
            started = time.perf_counter()
            report = apply_plan(
                plan,
                ToolsTarget(client),
                parallelism=parallelism,
                on_outcome=lambda _: stamps.append(time.perf_counter()),
            )
            wall = time.perf_counter() - started
        assert not report.failed, report.failed[:3]
        assert len(emulator.registry.all_tools()) == count
        return {
            "wall": wall,
            "requests": emulator.stats.requests,
            "429": emulator.stats.responses_429,
            "late_429": _late_429s(emulator, started),
        }


def _late_429s(emulator: Any, started: float) -> str:
    if emulator.stats.responses_429 == 0:
        return "0"
    times = getattr(emulator.stats, "times_429", None)
    if times is None:
        return "not recorded"
    return str(sum(1 for t in times if t - started > 1.0))


def serial_baseline(count: int, rate: int) -> dict[str, Any]:
    """One request at a time; on 429 sleep 0.5 s, 1 s, 2 s … and try again (the seed tutorials' loop)."""
    config = EmulatorConfig(rate_limit=rate, latency_ms=LATENCY_MS)
    with run_emulator(config) as emulator, httpx.Client(base_url=emulator.url, timeout=30) as http:
        headers = {"Authorization": "Bearer bench"}
        started = time.perf_counter()
        for item in desired_tools(count):
            payload = desired_payload(item, None, "reconciler")
            delay = 0.5
            while True:
                response = http.post("/api/v2/ai/assistant/tools", json=payload, headers=headers)
                if response.status_code != 429:
                    response.raise_for_status()
                    break
                time.sleep(delay)
                delay *= 2
        wall = time.perf_counter() - started
        assert len(emulator.registry.all_tools()) == count
        return {"wall": wall, "requests": emulator.stats.requests, "429": emulator.stats.responses_429, "late_429": "-"}


def main(argv: list[str]) -> None:
    count = int(argv[0]) if argv else 400
    rate = int(argv[1]) if len(argv) > 1 else 40
    floor = count / rate
    rows = []
    for label, result in (
        ("reconciler apply (paced, parallelism 4)", paced_apply(count, rate, 4)),
        ("reconciler apply (paced, parallelism 8)", paced_apply(count, rate, 8)),
        ("serial baseline, sleep on 429", serial_baseline(count, rate)),
    ):
        share = result["429"] / result["requests"] if result["requests"] else 0.0
        rows.append(
            [
                label,
                result["wall"],
                floor,
                result["wall"] / floor,
                result["requests"],
                result["429"],
                f"{share:.1%}",
                result["late_429"],
            ]
        )
    print(f"apply of {count} creates, emulator limited to {rate} requests/s with {LATENCY_MS} ms latency")
    print(table(["run", "wall s", "floor s", "ratio", "requests", "429s", "429 share", "429s after 1 s"], rows))
    print("target: ratio <= 1.1, 429s only in the first second")


if __name__ == "__main__":
    main(sys.argv[1:])
