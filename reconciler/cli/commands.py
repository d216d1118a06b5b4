"""The registry of commands, in the order `--help` lists them."""

from __future__ import annotations

import click

from reconciler.cli.apply import apply_command
from reconciler.cli.chat import chat_command
from reconciler.cli.completion import completion_command, version_command
from reconciler.cli.conversations import test_command
from reconciler.cli.emulator import emulator
from reconciler.cli.export import export_command
from reconciler.cli.inputs import inputs_command
from reconciler.cli.plan import plan_command
from reconciler.cli.render import render_command
from reconciler.cli.serve import serve_command
from reconciler.cli.show import show_command
from reconciler.cli.validate import validate_command

ALL: list[click.Command] = [
    validate_command,
    render_command,
    plan_command,
    show_command,
    apply_command,
    export_command,
    inputs_command,
    chat_command,
    test_command,
    emulator,
    serve_command,
    completion_command,
    version_command,
]
