from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator

# The suite imports test modules with --import-mode=importlib, which leaves sys.path alone: make the shared
# helpers of this directory importable as `api_helpers`.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def start() -> Iterator[Callable[..., RunningEmulator]]:
    """Starts loopback emulators (port 0) that stop at the end of the test."""
    with contextlib.ExitStack() as stack:

        def _start(**settings: Any) -> RunningEmulator:
            return stack.enter_context(run_emulator(EmulatorConfig(**settings)))

        yield _start
