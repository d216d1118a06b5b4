"""The command line: parse, call, render. The one place that prints and chooses exit codes.

Each command lives in its own module and is registered on the `cli` group below; library code raises
`ReconcilerError`s and `main` turns them into a message and an exit code (0, 1, 2; 3 for our bugs; 130 on
Ctrl-C: see `funnel`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import click

from reconciler.cli.funnel import guarded
from reconciler.cli.output import Output


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Log every HTTP exchange (secrets redacted) and show tracebacks.")
@click.option("--no-color", is_flag=True, help="No colour, even on a terminal (NO_COLOR works too).")
@click.version_option(package_name="reconciler")
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_color: bool) -> None:
    """Declarative GitOps reconciler for Genesys Cloud AI tool definitions."""
    ctx.obj = Output(debug=debug, no_color=no_color)
    if debug:
        # Only our own loggers: they redact secrets; httpx's and httpcore's do not promise to.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
        logger = logging.getLogger("reconciler")
        previous = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

        def restore() -> None:  # `main` may run again in this process (tests do): leave no handler behind
            logger.removeHandler(handler)
            logger.setLevel(previous)

        ctx.call_on_close(restore)


def _register() -> None:
    from reconciler.cli import commands

    for command in commands.ALL:
        cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting, so tests can call it."""
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    return guarded(
        lambda: cli.main(args=list(argv) if argv is not None else None, standalone_mode=False, prog_name="reconciler"),
        debug=debug,
    )


__all__ = ["cli", "main"]
