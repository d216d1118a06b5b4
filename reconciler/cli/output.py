"""Where output goes: data on stdout, messages and progress on stderr, colour only on a terminal."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import click


@dataclass
class Output:
    debug: bool = False
    no_color: bool = False

    @property
    def color(self) -> bool:
        return not self.no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()

    @property
    def color_stderr(self) -> bool:
        return not self.no_color and "NO_COLOR" not in os.environ and sys.stderr.isatty()

    def data(self, text: str) -> None:
        click.echo(text, color=self.color)

    def info(self, text: str) -> None:
        click.echo(text, err=True, color=self.color_stderr)


def echo_error(message: str, *, prefix: bool = True) -> None:
    click.echo(f"error: {message}" if prefix else message, err=True)
