"""The local Tools API: the whole DESIGN §4 contract on loopback, with knobs for the outages tests need.

    with run_emulator(EmulatorConfig(rate_limit=40)) as running:
        running.url                      # http://127.0.0.1:PORT
        running.registry.put_raw({...})  # seed or inspect the registry directly
        running.faults.inject("503", times=3)
        running.stats.responses_429

The core packages never import this one (an import-linter contract); only the CLI and tests do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reconciler.emulator.actions import ActionStore
from reconciler.emulator.config import EmulatorConfig, EmulatorStats, Paging
from reconciler.emulator.faults import FaultKind, Faults
from reconciler.emulator.registry import Registry
from reconciler.emulator.server import Background, EmulatorServer
from reconciler.emulator.tokens import TokenStore


@dataclass
class RunningEmulator:
    url: str
    registry: Registry
    stats: EmulatorStats
    faults: Faults
    tokens: TokenStore
    config: EmulatorConfig
    server: EmulatorServer

    @property
    def state_file(self) -> Path | None:
        return self.registry.path

    @property
    def actions(self) -> ActionStore:
        """The Data Actions side: integrations, actions, drafts (seed with `add_integration`, `put_raw`)."""
        return self.server.actions

    @property
    def openapi_url(self) -> str:
        return f"{self.url}/openapi.json"


def create_server(config: EmulatorConfig) -> EmulatorServer:
    """A bound, not yet serving, emulator (the CLI serves it in the foreground)."""
    registry = Registry(config.state_file, legacy=config.legacy_state_file)
    try:
        return EmulatorServer(config, registry)
    except BaseException:
        registry.close()
        raise


@contextlib.contextmanager
def run_emulator(config: EmulatorConfig | None = None) -> Iterator[RunningEmulator]:
    """Serve the emulator from a background thread for the duration of the block."""
    config = config if config is not None else EmulatorConfig()
    server = create_server(config)
    background = Background(server)
    try:
        yield RunningEmulator(
            url=server.url,
            registry=server.registry,
            stats=server.stats,
            faults=server.faults,
            tokens=server.tokens,
            config=config,
            server=server,
        )
    finally:
        background.stop()


__all__ = [
    "ActionStore",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorStats",
    "FaultKind",
    "Faults",
    "Paging",
    "Registry",
    "RunningEmulator",
    "create_server",
    "run_emulator",
]
