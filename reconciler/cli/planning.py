"""What `plan` and `apply` share: reading the registry and deciding the plan."""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.api import DataActionsTarget, RetryPolicy, TargetClient, ToolsTarget, resolve_integration
from reconciler.cli.output import Output
from reconciler.config import Config, find_root, missing_settings
from reconciler.desired import DesiredState
from reconciler.errors import ConfigurationError, InputError, PlanError
from reconciler.plan import (
    DesiredTool,
    Plan,
    PlanOptions,
    compute_plan,
    mass_delete_warning,
    names_moved,
    shared_owner_warning,
)
from reconciler.redaction import one_line
from reconciler.state import DataActionsForm, Record
from reconciler.words import listed


@dataclass
class Session:
    client: TargetClient
    target: str
    is_local: bool


@contextmanager
def connect(
    output: Output,
    config: Config,
    *,
    parallelism: int = 4,
    command: str = "plan",
    writes: bool = False,
    allow_local: bool = False,
) -> Iterator[Session]:
    """Open the target `reconciler.yaml` names, for this environment, and say which it is, first thing on
    stderr. Data Actions: the integration is looked up once, here.

    In a CI run with no org configured, a command that `writes` (apply, export) is refused unless the local
    registry is asked for (`allow_local`), and `plan` says, after its first line, that it compares with it.

    The local registry (used when no org is configured) lives under the repository root of the current
    directory, whatever DIR or `--out` a command is given: every command run in one repository sees one
    registry, and `export --out /elsewhere` does not start an empty one there."""
    from reconciler.cli.target import ci_without_org, no_org_in_ci, open_client, open_data_actions

    unattended = ci_without_org(os.environ, allowed=allow_local)
    if unattended is not None and writes:
        raise ConfigurationError(no_org_in_ci(unattended, command))
    warning = None if unattended is None else f"warning: {no_org_in_ci(unattended, command)}"
    retry = RetryPolicy(notice=output.info)  # a wait of more than a few seconds is said on stderr
    local_root = find_root(Path.cwd())
    if config.target == "data-actions":
        if config.integration is None:  # validate reports it too; plan and apply stop here, before connecting
            raise InputError(missing_settings(config))
        with open_data_actions(
            os.environ,
            local_root,
            integration=config.integration,
            debug=output.debug,
            parallelism=parallelism,
            retry=retry,
        ) as (client, info):
            output.info(f"target: data actions on {info.description}")
            if warning is not None:
                output.info(warning)
            integration = resolve_integration(client, config.integration, config.integration_at)
            category = config.category or str(integration["name"])
            # the org's names: one line, escaped
            output.info(one_line(f"integration: {integration['name']} ({integration['id']}); category {category!r}"))
            form = DataActionsForm(integration_id=str(integration["id"]), category=category)
            name = f"data actions of integration {integration['id']} on {info.description}"
            yield Session(DataActionsTarget(client, form, parallelism=parallelism), name, info.is_local)
        return
    with open_client(os.environ, local_root, debug=output.debug, parallelism=parallelism, retry=retry) as (
        client,
        info,
    ):
        output.info(f"target: {info.description}")
        if warning is not None:
            output.info(warning)
        yield Session(ToolsTarget(client), info.description, info.is_local)


def check_selection(state: DesiredState, live: list[Record], tools: tuple[str, ...]) -> None:
    """`--tool NAME` must name a tool of tools.d or of the registry: a typo selects nothing, and says so."""
    known = {tool.name for tool in state.tools} | {record.name for record in live}
    missing = sorted(set(tools) - known)
    if missing:
        close = [match for name in missing for match in difflib.get_close_matches(name, sorted(known), n=1)]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigurationError(f"--tool {', '.join(missing)}: no such tool in tools.d or in the registry{hint}")


def plan_for(state: DesiredState, session: Session, live: list[Record], *, prune: bool, only: tuple[str, ...]) -> Plan:
    """The plan, with a warning when apply will refuse it (the mass-delete guard speaks at plan time too).
    PlanError when a tool name given out of a collision would move to another operation than it calls."""
    moved = names_moved(state.tools, state.contested, live, managed_by=state.config.managed_by)
    if moved:
        raise PlanError("\n".join(moved))
    desired = [DesiredTool(tool, state.source_file(tool)) for tool in state.tools]
    options = PlanOptions(
        managed_by=state.config.managed_by,
        prune=prune and state.config.prune,
        only=frozenset(only),
        previously_managed_by=frozenset(state.config.previously_managed_by),
    )
    plan = compute_plan(desired, live, options, target=session.target, form=session.client.form)
    warnings = (
        targeting_warning(only),
        mass_delete_warning(plan, state.config.mass_delete_share),
        shared_owner_warning(plan, **owner_settings(state.config, session)),
    )
    said = tuple(warning for warning in warnings if warning is not None)
    return dataclasses.replace(plan, warnings=(*plan.warnings, *said)) if said else plan


def targeting_warning(only: tuple[str, ...]) -> str | None:
    """A plan of some tools looks like the whole one ("Plan: 0 to add, 1 to change"): say it is not, in every
    form and in the saved plan, as Terraform's "Resource targeting is in effect" does."""
    if not only:
        return None
    names = sorted(set(only))
    shown = listed(names)
    return (
        f"--tool is in effect: this plan covers only {shown}; changes tools.d makes to other tools are neither "
        "shown nor applied: plan without --tool for the whole picture"
    )


def owner_settings(config: Config, session: Session) -> dict[str, Any]:
    """What `shared_owner_refusal` needs to know of this repository and this target."""
    return {"owner_named": config.managed_by_at is not None, "shared": not session.is_local, "config_file": config.file}
