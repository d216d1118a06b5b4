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
ALLOW_LOCAL_VARIABLE = "RECONCILER_ALLOW_LOCAL_REGISTRY"
"""`--allow-local-registry` in the environment: a CI run with no org configured uses the local registry."""
CI_VARIABLES = (
    "CI",  # GitHub Actions, GitLab, CircleCI, Travis, Buildkite, Bitbucket, Woodpecker, ...
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "TF_BUILD",  # Azure Pipelines
    "JENKINS_URL",
    "TEAMCITY_VERSION",
    "CODEBUILD_BUILD_ID",  # AWS CodeBuild
    "BUILDKITE",
)
"""Variables whose presence says a CI system runs the command (no person reads where it went)."""
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


def ci_without_org(environ: Mapping[str, str], *, allowed: bool) -> str | None:
    """The CI variable that is set, when a CI system runs this command with no org configured (no credentials,
    no URL) and the local registry was not asked for (`allowed`): a pipeline whose secrets did not reach it
    would plan against, and apply to, a throwaway registry in its runner and report success. None otherwise."""
    if allowed or resolve_target(environ) is not None:
        return None
    for name in CI_VARIABLES:
        if environ.get(name, "").strip().lower() not in ("", "0", "false", "no"):
            return name
    return None


def no_org_in_ci(variable: str, command: str) -> str:
    return (
        f"no org is configured ({ORG_VARIABLES}) and this is a CI run ({variable} is set): {command} would use a "
        f"throwaway local registry in this runner, not your org. Give the job the credentials (docs/gitops.md), "
        f"or pass --allow-local-registry (or {ALLOW_LOCAL_VARIABLE}=1) if the local registry is meant"
    )


ORG_VARIABLES = (
    "GENESYS_CLOUD_CLIENT_ID, GENESYS_CLOUD_CLIENT_SECRET and GENESYS_CLOUD_REGION, or GENESYS_CLOUD_ACCESS_TOKEN, "
    "or GENESYS_CLOUD_API_URL"
)


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


__all__ = [
    "ALLOW_LOCAL_VARIABLE",
    "CI_VARIABLES",
    "LOCAL_STATE",
    "TargetInfo",
    "ci_without_org",
    "no_org_in_ci",
    "open_client",
    "open_data_actions",
]
