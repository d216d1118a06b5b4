from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from reconciler.api import RetryPolicy, ToolsClient, resolve_target
from reconciler.emulator import RunningEmulator


@pytest.fixture
def start_emulator(
    start: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., RunningEmulator]:
    """Starts loopback emulators that the CLI targets through the URL override (as a real org would be)."""

    def start_targeted(**settings: Any) -> RunningEmulator:
        running = start(**settings)
        monkeypatch.setenv("GENESYS_CLOUD_API_URL", running.url)
        monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "e2e-token")
        return running

    return start_targeted


@pytest.fixture
def emulator(start_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return start_emulator()


def write_tools(directory: Path, count: int, *, prefix: str = "tool", description: str = "Does thing {i}.") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (directory / f"{prefix}_{i:03d}.yaml").write_text(
            f"name: {prefix}_{i:03d}\n"
            f"description: {description.format(i=i)}\n"
            f"endpoint: https://tools.example.com/{prefix}/{i}\n"
            "parameters:\n"
            "  q: {type: string, description: Query, required: true}\n",
            encoding="utf-8",
        )


CliRun = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def run_cli() -> CliRun:
    """Runs the real CLI in its own process (`python -m reconciler`), as a user or CI runs it."""
    return _run_cli


def _run_cli(argv: list[str], *, cwd: Path, environ: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        cwd=cwd,
        env=dict(environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def client_for(emulator: RunningEmulator, **credentials: str) -> ToolsClient:
    """A client of `emulator` (a static token unless `credentials` are given) whose retries barely wait."""
    environ = {"GENESYS_CLOUD_API_URL": emulator.url, **(credentials or {"GENESYS_CLOUD_ACCESS_TOKEN": "t"})}
    target = resolve_target(environ)
    assert target is not None
    return ToolsClient(target, retry=RetryPolicy(backoff_initial=0.001, backoff_max=0.01, max_retry_after=0.01))
