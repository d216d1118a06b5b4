from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.conversation import GatewayClient
from reconciler.emulator import RunningEmulator

# The suite imports test modules with --import-mode=importlib, which leaves sys.path alone: make the shared
# helpers of this directory importable as `conversation_helpers`.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def gateway_on() -> Iterator[Callable[..., GatewayClient]]:
    """Gateway clients on emulators (settings as `gateway_for`'s), closed at the end of the test."""
    from conversation_helpers import gateway_for

    with contextlib.ExitStack() as stack:

        def _open(running: RunningEmulator, **settings: Any) -> GatewayClient:
            gateway = gateway_for(running, **settings)
            stack.callback(gateway.api.close)
            return gateway

        yield _open


@pytest.fixture
def endpoint() -> Iterator[Any]:
    """A loopback upstream for hand-written tools (`ToolEndpoint`), stopped at the end of the test."""
    from conversation_helpers import ToolEndpoint

    running = ToolEndpoint()
    yield running
    running.close()
