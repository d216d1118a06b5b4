"""The registry of commands, in the order `--help` lists them."""

from __future__ import annotations

import click

ALL: list[click.Command] = []
