"""What every command shares beyond its own options: `--no-color` and `--debug` after the command name, and the
help text that says how to run it (examples, the environment it reads, the exit codes)."""

from __future__ import annotations

from typing import Any

import click

from reconciler.cli.output import NO_COLOR_HELP, debug_option, no_color_option

EXIT_CODES = """\b
Exit codes:
  0    success (with --detailed-exitcode: no changes)
  1    error: invalid input (nothing is sent), a refused request, a failed change
  2    success with changes (plan --detailed-exitcode)
  3    a bug in reconciler (rerun with --debug for the traceback)
  130  interrupted (Ctrl-C)"""

ENVIRONMENT = """\b
Environment variables read:
  GENESYS_CLOUD_CLIENT_ID, GENESYS_CLOUD_CLIENT_SECRET   client credentials (or GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET)
  GENESYS_CLOUD_REGION             the org's region, e.g. eu-central-1 (or GENESYSCLOUD_REGION)
  GENESYS_CLOUD_ACCESS_TOKEN       a bearer token instead of client credentials
  GENESYS_CLOUD_API_URL            another Tools API, e.g. `reconciler emulator`'s URL
  GENESYS_CLOUD_LOGIN_URL          its OAuth server (default: the API URL); both https://, or http:// to this machine
  RECONCILER_ALLOW_INSECURE_HTTP=1 allow http:// to another host (a remote emulator; the token travels in clear)
  NO_COLOR, TERM=dumb              no colour
  any ${VAR} that tools.d or reconciler.yaml names
  With no credentials and no URL, plan/apply/export use the local registry (.reconciler/ at the
  repository root of the current directory)."""

EXAMPLES = """\b
Examples:
  reconciler validate                       check tools.d/ offline
  reconciler validate tools.d/orders.yaml   check one file
  reconciler plan --out plan.json           show the changes and save them
  reconciler apply plan.json                apply exactly the saved plan
  reconciler export --all --out tools.d     adopt an existing org
  reconciler completion bash > ~/.local/share/bash-completion/completions/reconciler"""

GROUP_EPILOG = "\n\n".join([EXAMPLES, ENVIRONMENT, EXIT_CODES])


class NonEmptyPath(click.Path):
    """A path option or argument that refuses an empty value. `--out "$PLAN"` with PLAN unset is `--out ""`, which
    click takes as the current folder: plan failed on a temporary file it left behind, export wrote beside the
    repository's files, `plan ""` read the whole repository as tools.d."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            self.fail("is empty; give a path (is the shell variable meant to hold it set?)", param, ctx)
        return super().convert(value, param, ctx)


def apply_conventions(command: click.Command) -> None:
    """Give a registered command `--no-color` and `--debug` (unless it has them) and the exit codes in its help."""
    if not any("--no-color" in getattr(param, "opts", ()) for param in command.params):
        no_color_option(command)
    if not any("--debug" in getattr(param, "opts", ()) for param in command.params):
        debug_option(command)
    if command.epilog is None:
        command.epilog = EXIT_CODES
    for param in command.params:
        if type(param.type) is click.Path:
            param.type.__class__ = NonEmptyPath  # the same settings (exists, dir_okay, ...), one check more


__all__ = ["GROUP_EPILOG", "NO_COLOR_HELP", "apply_conventions"]
