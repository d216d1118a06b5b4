"""The command line: parse, call, render. The one place that prints and chooses exit codes.

Each command lives in its own module and is registered on the `cli` group below; library code raises
`ReconcilerError`s and `main` turns them into a message and an exit code (0, 1, 2; 3 for our bugs; 130 on
Ctrl-C: see `funnel`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

import click

from reconciler import __version__
from reconciler.cli.conventions import GROUP_EPILOG, NO_COLOR_HELP, apply_conventions
from reconciler.cli.funnel import guarded
from reconciler.cli.output import Output
from reconciler.redaction import Redactor


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=GROUP_EPILOG,
)
@click.option("--debug", is_flag=True, help="Log every HTTP exchange (secrets redacted) and show tracebacks.")
@click.option("--no-color", is_flag=True, help=NO_COLOR_HELP)
@click.version_option(__version__, "-V", "--version", prog_name="reconciler", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_color: bool) -> None:
    """Declarative GitOps reconciler for Genesys Cloud AI tool definitions."""
    redactor = ctx.obj if isinstance(ctx.obj, Redactor) else Redactor.from_environment(os.environ)
    ctx.obj = Output(debug=debug, no_color=no_color, redactor=redactor)
    if debug:
        # Only our own loggers: they redact secrets; httpx's and httpcore's do not promise to.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_ScrubbingFormatter(redactor, "debug: %(name)s: %(message)s"))
        logger = logging.getLogger("reconciler")
        previous = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

        def restore() -> None:  # `main` may run again in this process (tests do): leave no handler behind
            logger.removeHandler(handler)
            logger.setLevel(previous)

        ctx.call_on_close(restore)


class _ScrubbingFormatter(logging.Formatter):
    """A debug line is text like any other: the sensitive values known so far never reach it."""

    def __init__(self, redactor: Redactor, fmt: str) -> None:
        super().__init__(fmt)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.scrub(super().format(record))


def _register() -> None:
    from reconciler.cli import commands

    for command in commands.ALL:
        apply_conventions(command)
        cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting, so tests can call it."""
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    # One redactor for the whole run: commands add the values they learn (reconciler.yaml's sensitive_variables,
    # the live tools), and every message, errors included, passes through it.
    redactor = Redactor.from_environment(os.environ)
    return guarded(
        lambda: cli.main(
            args=list(argv) if argv is not None else None,
            standalone_mode=False,
            prog_name="reconciler",
            obj=redactor,
        ),
        debug=debug,
        redactor=redactor,
    )


__all__ = ["cli", "main"]
