"""Benchmark: the Data Actions target beside the tools target, for N tools, against the emulator.

Two figures for each target, measured in the same run: the HTTP requests one `plan` sends (the listing of N
entities, everything a plan reads), and the wall time of an apply of N creates, then of N updates, against the
emulator's rate limit (RATE requests per second; the platform's is 300 a minute per token). Data Actions read
each action whole (a listing carries no contract) and update in place through a draft (read, draft, patch,
publish): the ratios say what that costs. Run: .venv/bin/python bench/data_actions_target.py [N] [RATE]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import desired_tools, table

from reconciler.api import (
    DataActionsClient,
    DataActionsTarget,
    TargetClient,
    ToolsClient,
    ToolsTarget,
    resolve_integration,
    resolve_target,
)
from reconciler.apply import apply_plan
from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
from reconciler.plan import PlanOptions, compute_plan
from reconciler.state import DataActionsForm

PARALLELISM = 4


def tools_target(emulator: RunningEmulator) -> tuple[Any, Callable[[], TargetClient]]:
    target = resolve_target({"GENESYS_CLOUD_API_URL": emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "bench"})
    assert target is not None
    client = ToolsClient(target, parallelism=PARALLELISM)
    return client, lambda: ToolsTarget(client)


def actions_target(emulator: RunningEmulator) -> tuple[Any, Callable[[], TargetClient]]:
    emulator.actions.add_integration("Bench")
    target = resolve_target({"GENESYS_CLOUD_API_URL": emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "bench"})
    assert target is not None
    client = DataActionsClient(target, parallelism=PARALLELISM)

    def connect() -> TargetClient:  # what `plan` does: the integration looked up once per run
        integration = resolve_integration(client, "Bench")
        form = DataActionsForm(integration_id=str(integration["id"]), category="Bench")
        return DataActionsTarget(client, form, parallelism=PARALLELISM)

    return client, connect


def measure(count: int, rate: int, opener: Callable[[RunningEmulator], Any]) -> dict[str, float]:
    with run_emulator(EmulatorConfig(rate_limit=rate)) as emulator:
        client, connect = opener(emulator)
        with client:
            result: dict[str, float] = {}
            for step, description in (("create", "Tool {i}."), ("update", "Tool {i}, changed.")):
                target = connect()
                plan = compute_plan(
                    desired_tools(count, description, required=True),
                    target.list(),
                    PlanOptions(),
                    target="b",
                    form=target.form,
                )
                assert len(plan.actionable) == count
                started = time.perf_counter()
                report = apply_plan(plan, target, parallelism=PARALLELISM)
                result[step] = time.perf_counter() - started
                assert not report.failed, report.failed[:2]
            before = client.stats.requests
            target = connect()
            plan = compute_plan(
                desired_tools(count, "Tool {i}, changed.", required=True),
                target.list(),
                PlanOptions(),
                target="b",
                form=target.form,
            )
            assert plan.is_empty
            result["plan_requests"] = client.stats.requests - before
            result["429"] = emulator.stats.responses_429
    return result


def main(count: int = 40, rate: int = 40) -> None:
    tools = measure(count, rate, tools_target)
    actions = measure(count, rate, actions_target)
    rows = [
        [
            "plan: requests",
            tools["plan_requests"],
            actions["plan_requests"],
            actions["plan_requests"] / tools["plan_requests"],
        ],
        ["apply N creates: s", tools["create"], actions["create"], actions["create"] / tools["create"]],
        ["apply N updates: s", tools["update"], actions["update"], actions["update"] / tools["update"]],
        ["429 answers", tools["429"], actions["429"], "-"],
    ]
    print(f"N = {count} tools, emulator limit {rate} requests/s, parallelism {PARALLELISM}")
    print(table(["", "tools", "data-actions", "ratio"], rows))
    floor = (count * 4) / rate
    print(f"floor of the Data Actions updates at the limit: 4 requests each = {floor:.2f} s")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
