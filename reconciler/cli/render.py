"""`reconciler render [DIR]`: the compiled payloads, exactly as they would be sent."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.cli.common import directory_argument, load_desired
from reconciler.cli.output import Output
from reconciler.compile import openai_function, owned_tool_input
from reconciler.plan.render import redact


@click.command("render")
@directory_argument
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["registry", "openai"]),
    default="registry",
    show_default=True,
    help="registry: the ToolInput payloads sent to the Tools API; openai: the LLM gateway's function-tool form.",
)
@click.pass_obj
def render_command(output: Output, directory: Path, output_format: str) -> int:
    """Print the compiled tools as a JSON array (byte-identical for the same input).

    Values of sensitive variables are shown as (sensitive)."""
    state = load_desired(directory)
    if output_format == "openai":
        payloads = [openai_function(tool) for tool in state.tools]
    else:
        managed_by = state.config.managed_by
        payloads = [owned_tool_input(tool, managed_by, state.source_file(tool)) for tool in state.tools]
    for skipped in state.skipped:
        output.info(f"{skipped.location}: skipped {skipped.operation}: {skipped.reason}")
    for warning in state.warnings:
        output.info(str(warning))
    # The payload sent carries the value; what is printed never does.
    shown = redact(payloads, state.sensitive_values())
    output.data(json.dumps(shown, indent=2, sort_keys=True, ensure_ascii=False))
    return 0
