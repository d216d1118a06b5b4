"""`reconciler render [DIR]`: the compiled payloads, exactly as they would be sent."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import click

from reconciler.cli.common import directory_argument, load_desired
from reconciler.cli.output import Output
from reconciler.compile import indented_json, openai_function, owned_tool_input
from reconciler.compile.data_actions import compile_action
from reconciler.desired import DesiredState
from reconciler.errors import InputError
from reconciler.plan.render import redact

INTEGRATION_PLACEHOLDER = "(integration id)"


@click.command("render")
@directory_argument
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["registry", "openai", "data-actions"]),
    default="registry",
    show_default=True,
    help="registry: the ToolInput payloads sent to the Tools API; openai: the LLM gateway's function-tool form; "
    "data-actions: the PostActionInput bodies that create Genesys Cloud Data Actions.",
)
@click.pass_obj
def render_command(output: Output, directory: Path, output_format: str) -> int:
    """Print the compiled tools as a JSON array (byte-identical for the same input).

    Values of sensitive variables are shown as (sensitive).

    \b
    Examples:
      reconciler render > tools.json
      reconciler render --format openai         # the gateway's function-tool form
    """
    # Answers are compiled for the function form too, which has no output: a broken success answer is refused
    # here as validate and plan refuse it, not rendered as if the description were sound
    state = load_desired(directory)
    if output_format == "openai":
        payloads = [openai_function(tool) for tool in state.tools]
    elif output_format == "data-actions":
        payloads = _action_bodies(state)
    else:
        managed_by = state.config.managed_by
        payloads = [owned_tool_input(tool, managed_by, state.source_file(tool)) for tool in state.tools]
    for skipped in state.skipped:
        output.info(f"{skipped.location}: skipped {skipped.operation}: {skipped.reason}")
    for warning in state.warnings:
        output.info(str(warning))
    # The payload sent carries the value; what is printed never does.
    shown = redact(payloads, output.redactor.values())
    output.data(encode(shown))
    return 0


def encode(value: Any) -> str:
    """Pretty JSON, keys sorted: the standard library's text, byte for byte, from run to run."""
    return indented_json(value)


def _action_bodies(state: DesiredState) -> list[dict[str, Any]]:
    """Every tool's PostActionInput, or one InputError naming each tool that cannot be an action.

    The integration is looked up in the org by plan and apply; offline, what reconciler.yaml says is shown and
    the rest is a placeholder. `integration:` holds a name or an id: an id (the platform's are UUIDs) is the
    action's `integrationId`, and gives no name for the category, which defaults to the integration's name."""
    config = state.config
    given_id = config.integration if config.integration is not None and _is_id(config.integration) else None
    named = None if given_id is not None else config.integration
    category = config.category or named or "(integration name)"
    integration_id = given_id or INTEGRATION_PLACEHOLDER
    compiled = [compile_action(tool, category=category, integration_id=integration_id) for tool in state.tools]
    errors = [d for action in compiled for d in action.diagnostics if d.severity == "error"]
    if errors:
        raise InputError(errors)
    return [action.body for action in compiled if action.body is not None]


def _is_id(value: str) -> bool:
    """Whether `value` is written as an integration id (a UUID), not a name."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
