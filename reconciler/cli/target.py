"""Which Tools API a command talks to: the org the environment names, or the embedded local registry.

With no credentials and no URL override, commands run the emulator in-process on an ephemeral loopback port,
with its state in `.reconciler/registry.db` (SQLite) under the repository root, so `plan` and `apply` work out of
the box and two runs see each other's writes. `TargetInfo.description` says which, never with a secret.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.api import DataActionsClient, RetryPolicy, Target, ToolsClient, resolve_target

LOCAL_STATE = Path(".reconciler") / "registry.db"
LEGACY_STATE = Path(".reconciler") / "registry.json"
"""Where versions before the SQLite registry kept it; migrated once into LOCAL_STATE."""


@dataclass(frozen=True)
class TargetInfo:
    description: str
    """`local registry (.reconciler/registry.db)`, `region eu-central-1 (api.mypurecloud.de)` or a URL."""
    is_local: bool
    api_url: str


def _prepare_state_dir(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(parents=True)
        (directory / ".gitignore").write_text("# local registry state of `reconciler`\n*\n", encoding="utf-8")


@contextlib.contextmanager
def _serving(
    environ: Mapping[str, str], root: Path, *, debug: bool, seed: Callable[[Any], None] | None = None
) -> Iterator[tuple[Target, TargetInfo]]:
    """The configured org, or the embedded local registry (started here, `seed` run on it, stopped on exit)."""
    target = resolve_target(environ)
    if target is not None:
        yield target, TargetInfo(target.description, is_local=False, api_url=target.api_url)
        return

    from reconciler.emulator import EmulatorConfig, run_emulator

    state = root / LOCAL_STATE
    _prepare_state_dir(state.parent)
    description = f"local registry ({LOCAL_STATE.as_posix()})"
    config = EmulatorConfig(state_file=state, legacy_state_file=root / LEGACY_STATE, log_requests=debug)
    with run_emulator(config) as running:
        if seed is not None:
            seed(running)
        local = Target(api_url=running.url, login_url=running.url, description=description, credentials=None)
        yield local, TargetInfo(description, is_local=True, api_url=running.url)


@contextlib.contextmanager
def open_client(
    environ: Mapping[str, str],
    root: Path,
    *,
    debug: bool,
    parallelism: int = 4,
    retry: RetryPolicy | None = None,
) -> Iterator[tuple[ToolsClient, TargetInfo]]:
    """A client for the configured org, or for the embedded local registry; closed (and stopped) on exit.

    Raises ConfigurationError for a bad environment (unknown region, half-given client credentials).
    `debug` also logs the requests the embedded registry serves.
    """
    with (
        _serving(environ, root, debug=debug) as (target, info),
        ToolsClient(target, parallelism=parallelism, retry=retry) as client,
    ):
        yield client, info


@contextlib.contextmanager
def open_data_actions(
    environ: Mapping[str, str],
    root: Path,
    *,
    integration: str,
    debug: bool,
    parallelism: int = 4,
    retry: RetryPolicy | None = None,
) -> Iterator[tuple[DataActionsClient, TargetInfo]]:
    """As `open_client`, for the Data Actions API. The local registry holds the integration `reconciler.yaml`
    names (created on first use, as a Web Services Data Actions integration), so the target works offline."""

    def seed(running: Any) -> None:
        running.actions.add_integration(integration)

    with (
        _serving(environ, root, debug=debug, seed=seed) as (target, info),
        DataActionsClient(target, parallelism=parallelism, retry=retry) as client,
    ):
        yield client, info


__all__ = ["LOCAL_STATE", "TargetInfo", "open_client", "open_data_actions"]
