"""The command line: parse, call, render. The one place that prints and chooses exit codes.

Each command lives in its own module and is registered on the `cli` group below; library code raises
`ReconcilerError`s and `main` turns them into a message and an exit code (0, 1, 2; 3 for our bugs; 130 on
Ctrl-C: see `funnel`).
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Sequence

import click

from reconciler import __version__
from reconciler.cli.conventions import GROUP_EPILOG, NO_COLOR_HELP, apply_conventions
from reconciler.cli.funnel import guarded
from reconciler.cli.output import DEBUG_HELP, Output
from reconciler.redaction import Redactor


class LazyGroup(click.Group):
    """Commands imported when they run (or their own help is asked for), not when the CLI starts: `--help`
    lists them from the table in `commands`, and `validate` imports neither httpx nor the emulator."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from reconciler.cli.commands import COMMANDS

        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            _load(cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """`reconciler pln`: click says only "No such command"; as for an option, name the close one."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            typed = args[0] if args else ""
            close = difflib.get_close_matches(typed, self.list_commands(ctx), n=1)
            if not close or typed.startswith("-"):
                raise
            raise click.UsageError(f"{exc.message} (Did you mean {close[0]!r}?)", ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from reconciler.cli.commands import COMMANDS

        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if not loaded.hidden:
                    rows.append((name, loaded.get_short_help_str(limit)))
            else:
                # a stand-in with the same first paragraph shortens it exactly as the command would
                rows.append((name, click.Command(name, help=COMMANDS[name].summary).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _load(name: str) -> None:
    """Import one command of the table and register it (with the conventions every command shares)."""
    import importlib

    from reconciler.cli.commands import COMMANDS

    entry = COMMANDS.get(name)
    if entry is None:
        return
    command = getattr(importlib.import_module(entry.module), entry.attribute)
    apply_conventions(command)
    cli.add_command(command, name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=GROUP_EPILOG,
)
@click.option("--debug", is_flag=True, help=DEBUG_HELP)
@click.option("--no-color", is_flag=True, help=NO_COLOR_HELP)
@click.version_option(__version__, "-V", "--version", prog_name="reconciler", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_color: bool) -> None:
    """Declarative GitOps reconciler for Genesys Cloud AI tool definitions."""
    redactor = ctx.obj if isinstance(ctx.obj, Redactor) else Redactor.from_environment(os.environ)
    ctx.obj = Output(debug=debug, no_color=no_color, redactor=redactor)
    if debug:
        from reconciler.cli.debug_log import start_debug_log

        start_debug_log(ctx, redactor)


def _register() -> None:
    """Import and register every command (tests, and whatever needs them all at once)."""
    from reconciler.cli.commands import COMMANDS

    for name in COMMANDS:
        if name not in cli.commands:
            _load(name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting, so tests can call it."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    # One redactor for the whole run: commands add the values they learn (reconciler.yaml's sensitive_variables,
    # the live tools), and every message, errors included, passes through it.
    redactor = Redactor.from_environment(os.environ)
    args = list(argv) if argv is not None else sys.argv[1:]

    def run() -> object:
        try:
            return cli.main(args=args, standalone_mode=False, prog_name="reconciler", obj=redactor)
        except click.NoSuchOption as exc:
            raise _with_two_dashes(exc, args) from None

    return guarded(run, debug=debug, redactor=redactor)


def _with_two_dashes(exc: click.NoSuchOption, args: list[str]) -> click.UsageError:
    """Terraform's `-out=plan.json`, `-auto-approve`: click reads `-out` as the short options -o -u -t and says
    "No such option '-o'"; name the long option meant instead."""
    command = exc.ctx.command if exc.ctx is not None else cli
    known = {option for param in command.params for option in (*param.opts, *param.secondary_opts)}
    for arg in args:
        name = arg.split("=", 1)[0]
        if len(name) > 2 and name[0] == "-" and name[1] != "-" and f"-{name}" in known:
            return click.UsageError(
                f"No such option '{name}'. (Did you mean '-{name}'? Long options take two dashes.)", exc.ctx
            )
    return exc


__all__ = ["cli", "main"]
