"""`reconciler show PLAN`: a saved plan rendered again, without reading the org (Terraform's `show`).

A workflow plans once (`plan --out`) and renders the markdown comment, the JSON summary and the applied plan
from that one file, so what is shown is exactly what `apply PLAN` applies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import click

from reconciler.cli.output import Output, plan_format_option
from reconciler.errors import PlanError
from reconciler.plan import load_plan
from reconciler.plan.render import REDACTED, render_json, render_markdown, render_text


class _Shown(Mapping[str, str]):
    """The environment, where a sensitive variable that is not set reads as `(sensitive)`: showing a plan
    needs no secret, and the values that are set are redacted from the output anyway."""

    def __getitem__(self, name: str) -> str:
        return os.environ.get(name, REDACTED)

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(os.environ)

    def __len__(self) -> int:
        return len(os.environ)


@click.command("show")
@click.argument("plan_file", metavar="PLAN", type=click.Path(dir_okay=False, path_type=Path))
@plan_format_option
@click.pass_obj
def show_command(output: Output, plan_file: Path, output_format: str) -> int:
    """Show a plan saved with `plan --out PLAN`, in any of plan's formats.

    \b
    Examples:
      reconciler plan --out plan.json && reconciler show plan.json --format markdown > plan.md
    """
    if not plan_file.exists():  # a FIFO or device exists: load_plan names what it is
        raise PlanError(f"no such plan file: {plan_file} (make one with `reconciler plan --out {plan_file}`)")
    plan, settings = load_plan(plan_file, _Shown())
    redact = [*settings["sensitive_values"], *output.redactor.values()]
    if output_format == "json":
        output.data(render_json(plan, redact=redact).rstrip("\n"))
    elif output_format == "markdown":
        output.data(render_markdown(plan, redact=redact))
    else:
        output.data(render_text(plan, color=output.color, redact=redact))
    return 0
