"""`reconciler completion bash|zsh|fish` and `reconciler version`: the shell's and the packager's view."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from reconciler import __version__
from reconciler.cli.output import Output

COMPLETE_VARIABLE = "_RECONCILER_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> int:
    """Print the shell completion script for bash, zsh or fish.

    \b
    Examples:
      reconciler completion bash > ~/.local/share/bash-completion/completions/reconciler
      reconciler completion zsh > "${fpath[1]}/_reconciler"
      reconciler completion fish > ~/.config/fish/completions/reconciler.fish
    """
    root = ctx.find_root().command
    completion_class = get_completion_class(shell)
    assert completion_class is not None  # the Choice admits only shells click knows
    script = completion_class(root, {}, "reconciler", COMPLETE_VARIABLE).source()
    click.echo(script)
    return 0


@click.command("version")
@click.pass_obj
def version_command(output: Output) -> int:
    """Print the version (the same as `reconciler --version` and `-V`)."""
    output.data(f"reconciler {__version__}")
    return 0
