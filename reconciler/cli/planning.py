"""What `plan` and `apply` share: reading the registry and deciding the plan."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.api import TargetClient, ToolsTarget
from reconciler.cli.output import Output
from reconciler.desired import DesiredState
from reconciler.plan import DesiredTool, Plan, PlanOptions, compute_plan
from reconciler.state import Record


@dataclass
class Session:
    client: TargetClient
    target: str
    is_local: bool


@contextmanager
def connect(output: Output, root: Path, *, parallelism: int = 4) -> Iterator[Session]:
    """Open the Tools API client for this environment and say which target it is, first thing on stderr."""
    from reconciler.cli.target import open_client

    with open_client(os.environ, root, debug=output.debug, parallelism=parallelism) as (client, info):
        output.info(f"target: {info.description}")
        yield Session(ToolsTarget(client), info.description, info.is_local)


def plan_for(state: DesiredState, session: Session, live: list[Record], *, prune: bool, only: tuple[str, ...]) -> Plan:
    desired = [DesiredTool(tool, state.source_file(tool)) for tool in state.tools]
    options = PlanOptions(managed_by=state.config.managed_by, prune=prune and state.config.prune, only=frozenset(only))
    return compute_plan(desired, live, options, target=session.target, form=session.client.form)
