"""Where output goes: data on stdout, messages and progress on stderr, colour only on a terminal.

Colour follows no-color.org and Terraform: off with `--no-color` (before or after the command name), with
`NO_COLOR` set to anything but the empty string, with `TERM=dumb`, and whenever the stream is not a terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import click

from reconciler.redaction import Redactor

plan_format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for people, markdown for a pull-request comment, json for machines.",
)
"""`--format` of the commands that print a plan (`plan`, `show`)."""

NO_COLOR_HELP = "No colour, even on a terminal (also NO_COLOR=1 or TERM=dumb)."


@dataclass
class Output:
    """Every line passes through `redactor`, which learns the sensitive values as the command runs."""

    debug: bool = False
    no_color: bool = False
    redactor: Redactor = field(default_factory=Redactor)

    def _color_for(self, stream: TextIO) -> bool:
        if self.no_color or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
            return False
        return stream.isatty()

    @property
    def color(self) -> bool:
        return self._color_for(sys.stdout)

    @property
    def color_stderr(self) -> bool:
        return self._color_for(sys.stderr)

    def data(self, text: str) -> None:
        click.echo(self.redactor.scrub(text), color=self.color)

    def info(self, text: str, *, nl: bool = True) -> None:
        click.echo(self.redactor.scrub(text), err=True, color=self.color_stderr, nl=nl)


MAX_PRINTED_DIAGNOSTICS = 100
"""Findings printed as text: past this, one line counts the rest (the json format keeps every one)."""


def capped(lines: Sequence[str], limit: int = MAX_PRINTED_DIAGNOSTICS) -> list[str]:
    """The first `limit` lines, then one that says how many more there were and where to see them."""
    if len(lines) <= limit:
        return list(lines)
    rest = len(lines) - limit
    return [*lines[:limit], f"… and {rest} more; `reconciler validate --format json` lists every one"]


DEBUG_HELP = "Log every HTTP exchange (secrets redacted) and show tracebacks."


def debug_option(command: Any) -> Any:
    """`--debug` on a command: `reconciler plan --debug` is `reconciler --debug plan`, as `--no-color` is (the
    error funnel already reads it wherever it stands)."""
    return click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_debug, help=DEBUG_HELP)(
        command
    )


def _debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and isinstance(ctx.obj, Output) and not ctx.obj.debug:
        from reconciler.cli.debug_log import start_debug_log

        ctx.obj.debug = True
        start_debug_log(ctx, ctx.obj.redactor)


def _no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and isinstance(ctx.obj, Output):
        ctx.obj.no_color = True


def no_color_option(command: Any) -> Any:
    """`--no-color` on a command, as Terraform takes it: `reconciler plan --no-color` is the same as
    `reconciler --no-color plan`."""
    return click.option(
        "--no-color", is_flag=True, expose_value=False, is_eager=True, callback=_no_color, help=NO_COLOR_HELP
    )(command)


def echo_error(message: str, *, prefix: bool = True, redactor: Redactor | None = None) -> None:
    text = f"error: {message}" if prefix else message
    click.echo(redactor.scrub(text) if redactor is not None else text, err=True)
