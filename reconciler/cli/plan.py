"""`reconciler plan [DIR]`: what apply would change, Terraform-style."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.cli.common import (
    allow_local_option,
    complete_tool_names,
    directory_argument,
    learn_live,
    load_desired,
    show_warnings,
)
from reconciler.cli.output import Output, plan_format_option
from reconciler.cli.planning import check_selection, connect, plan_for
from reconciler.desired import cyclic_gc_paused
from reconciler.plan import save_plan
from reconciler.plan.render import render_json, render_markdown, render_text


@click.command("plan")
@directory_argument
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan for `apply PLAN`.")
@plan_format_option
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when there are none.")
@click.option(
    "--tool",
    "tools",
    multiple=True,
    metavar="NAME",
    help="Plan only this tool (repeatable).",
    shell_complete=complete_tool_names,
)
@click.option("--no-prune", is_flag=True, help="Keep managed tools that are no longer in tools.d.")
@allow_local_option
@click.pass_obj
def plan_command(
    output: Output,
    directory: Path,
    out: Path | None,
    output_format: str,
    detailed_exitcode: bool,
    tools: tuple[str, ...],
    no_prune: bool,
    allow_local: bool,
) -> int:
    """Compare tools.d with the registry and show the changes apply would make.

    \b
    Examples:
      reconciler plan
      reconciler plan --out plan.json          # then: reconciler apply plan.json
      reconciler plan --detailed-exitcode      # exit 2 when there are changes (drift checks)
      reconciler plan --tool check_inventory --format markdown
    """
    if out is not None and directory.resolve() in out.resolve().parents:
        # the next plan (and validate) would read the saved plan as a tool file, and refuse every key of it
        raise click.UsageError(
            f"--out {out} is inside the tools directory {directory}: the next plan would read it as a tool file; "
            f"save it elsewhere, e.g. --out {out.name}"
        )
    with cyclic_gc_paused():  # the desired state, the live records and the plan live until the run ends
        state = load_desired(directory)
        with connect(output, state.config, allow_local=allow_local) as session:
            live = session.client.list()
            learn_live(live)
            show_warnings(output, state)
            check_selection(state, live, tools)
            plan = plan_for(state, session, live, prune=not no_prune, only=tools)
    redact = output.redactor.values()
    if output_format == "json":
        output.data(render_json(plan, redact=redact).rstrip("\n"))
    elif output_format == "markdown":
        output.data(render_markdown(plan, redact=redact))
    else:
        output.data(render_text(plan, color=output.color, redact=redact))
    if out is not None:
        sensitive = {k: v for k, v in {**os.environ, **state.variables}.items() if state.config.is_sensitive(k)}
        save_plan(
            out,
            plan,
            managed_by=state.config.managed_by,
            mass_delete_share=state.config.mass_delete_share,
            sensitive=sensitive,
            unnamed=redact,
            live=live,
        )
        output.info(f"Saved the plan to {out}; apply it exactly with: reconciler apply {out}")
    return 2 if detailed_exitcode and not plan.is_empty else 0
