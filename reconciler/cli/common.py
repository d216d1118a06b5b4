"""What several commands share: finding the desired state from the command line's DIR, and telling the
run's redactor every sensitive value the configuration and tools.d bring into play."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import click

from reconciler.cli.output import Output, capped
from reconciler.config import Config, find_root, read_config
from reconciler.desired import DesiredState, build_desired_state
from reconciler.errors import Diagnostic, InputError, sorted_diagnostics
from reconciler.redaction import Redactor, credentials_in
from reconciler.state import Record

DEFAULT_DIRECTORY = "tools.d"

directory_argument = click.argument(
    "directory",
    metavar="[DIR]",  # as the README and each command's help call it
    required=False,
    default=DEFAULT_DIRECTORY,
    type=click.Path(file_okay=False, path_type=Path),
)


allow_local_option = click.option(
    "--allow-local-registry",
    "allow_local",
    is_flag=True,
    envvar="RECONCILER_ALLOW_LOCAL_REGISTRY",
    help="In a CI run with no org configured, use the local registry (refused otherwise: a pipeline whose "
    "secrets are missing would apply to a throwaway registry).",
)


def complete_tool_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """`--tool` completion: the names the DIR given (else tools.d) defines, read offline; none where it cannot
    be read (a shell's completion must never print an error or a traceback)."""
    # click leaves a DIR typed before the unfinished `--tool` in ctx.args, unparsed
    given = [word for word in ctx.args if not word.startswith("-")]
    directory = given[0] if given else ctx.params.get("directory") or DEFAULT_DIRECTORY
    try:
        state = load_desired(Path(directory), check=False)
    except Exception:  # whatever goes wrong, completion offers nothing
        return []
    return sorted(tool.name for tool in state.tools if tool.name.startswith(incomplete))


def load_desired(
    directory: Path, *, strict: bool = False, check: bool = True, output_schemas: bool = True
) -> DesiredState:
    """tools.d → a DesiredState; raises InputError when the input is invalid (and `check` is set).
    `output_schemas`: see `build_desired_state`; both targets send them (`outputSchema`, `successSchema`), so
    only a caller that sends neither (the OpenAI function form) leaves them out."""
    config, problems = project_config_and_problems(directory)
    state = build_desired_state(directory, config, os.environ, output_schemas=output_schemas)
    if problems:  # reconciler.yaml's mistakes that no tool check depends on: reported with tools.d's, in one run
        state.diagnostics = sorted_diagnostics([*problems, *state.diagnostics])
    # `${SECRET:-default}` puts a value in play that the environment does not hold
    redactor().add(*state.sensitive_values())
    if check:
        state.raise_for_errors(strict=strict)
    return state


def project_config(directory: Path) -> Config:
    config, problems = project_config_and_problems(directory)
    if problems:
        raise InputError(problems)
    return config


def project_config_and_problems(directory: Path) -> tuple[Config, list[Diagnostic]]:
    """The configuration and its mistakes that tools.d can be checked past (see `read_config`)."""
    config, problems = read_config(find_root(directory), os.environ)
    redactor().add_environment(os.environ, config.sensitive_variables)
    return config, problems


def show_warnings(output: Output, state: DesiredState) -> None:
    """validate's warnings, on stderr where plan and apply run too: an `include` that selects nothing explains
    the deletes the plan shows."""
    for line in capped([str(warning) for warning in state.warnings]):
        output.info(line)


def learn_live(records: Iterable[Record]) -> None:
    """Credentials the registry holds (a tool pruned from tools.d may carry a key no variable names now).
    A live record's `content` is picked from its `raw` entity (the same strings, fewer fields), so `raw` alone
    is scanned; `content` only when a record has no `raw`."""
    redactor().add(*credentials_in([record.raw or record.content for record in records]))


def redactor() -> Redactor:
    """The run's redactor (a throwaway one when called outside a command, as a library)."""
    context = click.get_current_context(silent=True)
    found = getattr(context.obj, "redactor", None) if context is not None else None
    return found if isinstance(found, Redactor) else Redactor()
