"""Where output goes: data on stdout, messages and progress on stderr, colour only on a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import click

from reconciler.redaction import Redactor


@dataclass
class Output:
    """Every line passes through `redactor`, which learns the sensitive values as the command runs."""

    debug: bool = False
    no_color: bool = False
    redactor: Redactor = field(default_factory=Redactor)

    @property
    def color(self) -> bool:
        return not self.no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()

    @property
    def color_stderr(self) -> bool:
        return not self.no_color and "NO_COLOR" not in os.environ and sys.stderr.isatty()

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


def echo_error(message: str, *, prefix: bool = True, redactor: Redactor | None = None) -> None:
    text = f"error: {message}" if prefix else message
    click.echo(redactor.scrub(text) if redactor is not None else text, err=True)
