"""`reconciler apply [DIR | PLAN]`: make the registry match tools.d, or apply a saved plan exactly."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from reconciler.api import TargetClient
from reconciler.apply import ApplyInterrupted, ApplyReport, ApplyStopped, Outcome, apply_plan
from reconciler.audit import AuditLog, current_actor, current_commit
from reconciler.cli.common import (
    DEFAULT_DIRECTORY,
    allow_local_option,
    complete_tool_names,
    learn_live,
    load_desired,
    project_config,
    show_warnings,
)
from reconciler.cli.output import Output
from reconciler.cli.planning import Session, check_selection, connect, owner_settings, plan_for
from reconciler.config import Config, find_root
from reconciler.desired import cyclic_gc_paused
from reconciler.errors import ConfigurationError, PlanError
from reconciler.plan import Plan, check_against_registry, load_plan, shared_owner_refusal, stale_changes
from reconciler.plan.render import render_text
from reconciler.redaction import one_line
from reconciler.state import Record

_PAST = {"create": "created", "update": "updated", "adopt": "adopted", "delete": "destroyed"}


@click.command("apply")
@click.argument(
    "source", metavar="[DIR | PLAN]", required=False, default=DEFAULT_DIRECTORY, type=click.Path(path_type=Path)
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show what would be done and write nothing.")
@click.option("--parallelism", type=click.IntRange(1, 64), default=4, show_default=True, help="Concurrent writes.")
@click.option("--allow-mass-delete", is_flag=True, help="Allow deleting more than the configured share of tools.")
@click.option("--audit-log", type=click.Path(dir_okay=False, path_type=Path), help="Append a JSON line per change.")
@click.option("--no-prune", is_flag=True, help="Keep managed tools that are no longer in tools.d.")
@click.option(
    "--tool",
    "tools",
    multiple=True,
    metavar="NAME",
    help="Apply only this tool (repeatable).",
    shell_complete=complete_tool_names,
)
@allow_local_option
@click.pass_obj
def apply_command(
    output: Output,
    source: Path,
    auto_approve: bool,
    dry_run: bool,
    parallelism: int,
    allow_mass_delete: bool,
    audit_log: Path | None,
    no_prune: bool,
    tools: tuple[str, ...],
    allow_local: bool,
) -> int:
    """Apply the changes that make the registry match tools.d (or those of a saved plan).

    \b
    Examples:
      reconciler apply                          # show the plan, ask, apply
      reconciler apply plan.json                # exactly a plan saved by `plan --out plan.json`
      reconciler apply --auto-approve --audit-log audit.jsonl
      reconciler apply --dry-run
    """
    if not source.exists() and source.suffix not in ("", ".d"):  # plan.json, tfplan.out: meant as a saved plan
        raise PlanError(f"no such plan file: {source} (save one with `reconciler plan --out {source}`)")
    if source.exists() and not source.is_dir():  # a saved plan; load_plan says so when it is not one (a FIFO…)
        planning_options = [name for name, given in (("--no-prune", no_prune), ("--tool", bool(tools))) if given]
        if planning_options:
            raise ConfigurationError(
                f"{' and '.join(planning_options)} cannot be used with a saved plan, which is applied exactly as "
                f"it was reviewed; make a new plan with them: reconciler plan {' '.join(planning_options)} ... "
                f"--out {source}"
            )
        return _apply_saved(output, source, dry_run, parallelism, allow_mass_delete, audit_log, allow_local)
    state = load_desired(source)
    config = state.config
    with connect(
        output, config, parallelism=parallelism, command="apply", writes=not dry_run, allow_local=allow_local
    ) as session:
        with cyclic_gc_paused():  # the live records and the plan live until the run ends
            live = session.client.list()
            learn_live(live)
            show_warnings(output, state)
            check_selection(state, live, tools)
            plan = plan_for(state, session, live, prune=not no_prune, only=tools)
        guarded = _shown_and_guarded(
            output, plan, live, config, allow_mass_delete=allow_mass_delete, dry_run=dry_run, session=session
        )
        if not guarded:
            return 0
        if not auto_approve and not _confirmed(output):
            output.info("Apply cancelled.")
            return 1
        return _execute(output, plan, session.client, parallelism, audit_log, config.root, session.target)


def _apply_saved(
    output: Output,
    path: Path,
    dry_run: bool,
    parallelism: int,
    allow_mass_delete: bool,
    audit_log: Path | None,
    allow_local: bool,
) -> int:
    root = find_root(Path.cwd())
    # the project's rules, not the plan file's: the guards are recomputed from them and the live state
    config = project_config(root)
    plan, settings = load_plan(path, os.environ)
    output.redactor.add(*settings["sensitive_values"])
    if settings["managed_by"] != config.managed_by:
        raise PlanError(
            f"the plan was made for managed_by '{settings['managed_by']}', but reconciler.yaml says "
            f"'{config.managed_by}'; plan again"
        )
    with connect(
        output, config, parallelism=parallelism, command="apply", writes=not dry_run, allow_local=allow_local
    ) as session:
        if session.target != plan.target:
            raise PlanError(f"the plan was made for {plan.target}, but this run targets {session.target}; plan again")
        live = session.client.list()
        learn_live(live)
        stale = stale_changes(plan, live, managed_by=config.managed_by, registry=settings["registry"])
        if stale:
            raise PlanError(
                "plan is stale: the registry changed since it was made; plan again\n  " + "\n  ".join(stale)
            )
        guarded = _shown_and_guarded(
            output, plan, live, config, allow_mass_delete=allow_mass_delete, dry_run=dry_run, session=session
        )
        if not guarded:
            return 0
        return _execute(output, plan, session.client, parallelism, audit_log, root, session.target)


def _shown_and_guarded(
    output: Output,
    plan: Plan,
    live: list[Record],
    config: Config,
    *,
    allow_mass_delete: bool,
    dry_run: bool,
    session: Session,
) -> bool:
    """Show `plan`, check every guard against the registry as just read, and say whether there is a write to make:
    False for an empty plan or a dry run (both end the command with 0)."""
    output.data(render_text(plan, color=output.color, redact=output.redactor.values()))
    if plan.is_empty:
        return False
    check_against_registry(
        plan,
        live,
        managed_by=config.managed_by,
        mass_delete_share=config.mass_delete_share,
        allow_mass_delete=allow_mass_delete,
        prune=config.prune,
        form=session.client.form,
        previously_managed_by=config.previously_managed_by,
    )
    refusal = shared_owner_refusal(plan, **owner_settings(config, session))
    if refusal is not None:
        raise PlanError(refusal)
    if dry_run:
        output.info("Dry run: nothing was applied.")
        return False
    return True


def _confirmed(output: Output) -> bool:
    if not sys.stdin.isatty():
        raise ConfigurationError("apply asks for confirmation, but there is no terminal; pass --auto-approve")
    output.info("\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n")
    answer: str = click.prompt("  Enter a value", default="", show_default=False, err=True)
    return answer.strip() == "yes"


def _execute(
    output: Output, plan: Plan, client: TargetClient, parallelism: int, audit_path: Path | None, root: Path, target: str
) -> int:
    audit = None
    if audit_path is not None:
        audit = AuditLog.open(
            audit_path,
            actor=current_actor(os.environ),
            commit=current_commit(os.environ, root),
            target=target,
            scrub=output.redactor.scrub,
        )
    total = len(plan.actionable)
    progress = _Progress(output, total)

    def on_outcome(outcome: Outcome) -> None:
        try:
            if audit is not None:
                audit.record(outcome)
        finally:  # shown whether or not its line could be written: then this is the only account of it
            progress.show(outcome)

    try:
        report = apply_plan(plan, client, parallelism=parallelism, on_outcome=on_outcome)
    except (ApplyInterrupted, ApplyStopped) as stopped:
        progress.finish()
        output.info(_summary(stopped.report))
        raise
    finally:
        progress.finish()
        if audit is not None:
            audit.close()
    output.info(_summary(report))
    report.raise_for_failures()
    return 0


def _summary(report: ApplyReport) -> str:
    if report.failed or report.not_attempted or report.unknown:
        return (
            f"Apply incomplete: {len(report.failed)} failed, {len(report.unknown)} unknown, "
            f"{len(report.not_attempted)} not attempted."
        )
    others = len(report.made_by_another_writer)
    # a change another writer made (a concurrent apply) is done, but not by this run: counted apart, as its line says
    found = f"; {others} found already made by another writer" if others else ""
    return (
        f"Apply complete! Resources: {report.count('adopt')} adopted, {report.count('create')} added, "
        f"{report.count('update')} changed, {report.count('delete')} destroyed{found}."
    )


class _Progress:
    """A bar on a terminal; one line per change otherwise (CI logs keep every line)."""

    def __init__(self, output: Output, total: int) -> None:
        self.output = output
        self.total = total
        self.done = 0
        self.bar = sys.stderr.isatty() and total > 1

    def show(self, outcome: Outcome) -> None:
        self.done += 1
        change = outcome.change
        if outcome.status == "ok":
            text = f"{change.name}: {_PAST[change.action]}" + (f" (id {outcome.id})" if outcome.id else "")
            if outcome.note:
                text += f"; {outcome.note}"
        elif outcome.status in ("failed", "unknown"):
            text = f"{change.name}: {change.action} {outcome.status}: {outcome.error}"
        else:
            text = f"{change.name}: {change.action} not attempted: {outcome.error}"
        text = one_line(text)  # a live tool's name (a delete's) and the server's words: one line, escaped
        if self.bar:
            width = 30
            filled = width * self.done // self.total
            self.output.info(f"\r\x1b[2K{text}")
            self.output.info(f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}", nl=False)
        else:
            self.output.info(f"[{self.done}/{self.total}] {text}")

    def finish(self) -> None:
        if self.bar and self.done:
            self.output.info("")
