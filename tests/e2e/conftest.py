from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator


@pytest.fixture
def start_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., RunningEmulator]]:
    """Starts loopback emulators that the CLI targets through the URL override (as a real org would be)."""
    with contextlib.ExitStack() as stack:

        def start(**settings: Any) -> RunningEmulator:
            running = stack.enter_context(run_emulator(EmulatorConfig(**settings)))
            monkeypatch.setenv("GENESYS_CLOUD_API_URL", running.url)
            monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "e2e-token")
            return running

        yield start


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
