from __future__ import annotations

import sys
from pathlib import Path

# The suite imports test modules with --import-mode=importlib, which leaves sys.path alone: make the shared
# helpers of this directory importable as `conversation_helpers`.
sys.path.insert(0, str(Path(__file__).parent))


import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler.conversation import GatewayClient
from reconciler.emulator import RunningEmulator


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
