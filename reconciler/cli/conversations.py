"""`reconciler test [conversations.d]`: run the conversation files against the gateway and check them.

With no credentials the gateway is the embedded emulator, in process, and each turn's `script` is its model;
with credentials it is the org's gateway and the same files check the real model. Exit 0 when every file
passes, 1 otherwise; a broken file is reported with file:line before anything runs.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import click

from reconciler.cli.chat import max_turns_option, model_option, open_gateway
from reconciler.cli.common import load_desired
from reconciler.cli.interrupts import run_interruptible
from reconciler.cli.output import Output
from reconciler.cli.validate import github_annotations
from reconciler.conversation import (
    DEFAULT_DIRECTORY,
    ConversationSpec,
    FileResult,
    GatewayClient,
    load_conversations,
    run_conversation,
    runtimes,
    transcript,
)
from reconciler.conversation.printable import printable_json
from reconciler.conversation.report import passing_line, render_json, render_text, summary
from reconciler.errors import Diagnostic, InputError
from reconciler.load import display_path
from reconciler.model import Tool


@click.command("test")
@click.argument(
    "directory", required=False, default=DEFAULT_DIRECTORY, type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--tools",
    "tools_directory",
    default="tools.d",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The tools the conversations may call.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github", "json"]),
    default="text",
    show_default=True,
    help="text for people, github for workflow annotations on the conversation files, json for machines.",
)
@click.option(
    "--transcripts",
    "transcripts_directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each conversation's JSON transcript here (the file's path, .json), sensitive values redacted.",
)
@max_turns_option
@model_option
@click.pass_obj
def test_command(
    output: Output,
    directory: Path,
    tools_directory: Path,
    output_format: str,
    transcripts_directory: Path | None,
    max_turns: int,
    model: str,
) -> int:
    """Run the conversation tests in DIRECTORY (default conversations.d).

    \b
    Examples:
      reconciler test
      reconciler test --format github --transcripts transcripts
    """
    if transcripts_directory is not None:
        _check_apart(transcripts_directory, directory, "conversations")
        _check_apart(transcripts_directory, tools_directory, "tools")
    try:
        desired = load_desired(tools_directory)
        loaded = load_conversations(directory, os.environ, {tool.name for tool in desired.tools})
        loaded.raise_for_errors()
    except InputError as exc:  # a broken tool or conversation file: nothing runs, and the report says why
        if output_format == "json":
            output.data(render_json([], exc.diagnostics))
            return 1
        if output_format != "github":
            raise
        _annotate(output, exc.diagnostics)
        return 1
    secrets = desired.sensitive_values() + [
        value for name, value in loaded.variables.items() if value and desired.config.is_sensitive(name)
    ]
    with open_gateway(os.environ, model=model, debug=output.debug, notice=output.info) as (gateway, description):
        output.info(description)
        results = run_interruptible(
            _run_all(
                loaded.conversations,
                desired.tools,
                gateway,
                max_turns,
                is_sensitive=desired.config.is_sensitive,
                secrets=secrets,
            )
        )
    _report(output, results, output_format)  # first: a --transcripts path that fails must not hide the results
    if transcripts_directory is not None:
        for result, where in zip(results, _transcript_paths(results, directory, transcripts_directory), strict=True):
            where.parent.mkdir(parents=True, exist_ok=True)
            data = transcript(result.conversation, secrets=secrets, is_sensitive=desired.config.is_sensitive)
            where.write_text(printable_json(data) + "\n", encoding="utf-8")
    return 0 if all(result.passed for result in results) else 1


def _report(output: Output, results: list[FileResult], output_format: str) -> None:
    if output_format == "json":
        output.data(render_json(results))
        return
    if output_format == "github":
        for index, result in enumerate(results, start=1):
            if result.passed:
                output.data(passing_line(index, result))
        failures = [Diagnostic("error", f.location, f.message, "conversation") for r in results for f in r.failures]
        _annotate(output, failures)
    else:
        for line in render_text(results):
            output.data(line)
    output.info(summary(results))


async def _run_all(
    conversations: list[ConversationSpec],
    tools: list[Tool],
    gateway: GatewayClient,
    max_turns: int,
    *,
    is_sensitive: Callable[[str], bool],
    secrets: list[str],
) -> list[FileResult]:
    factory = runtimes(tools)
    return [
        await run_conversation(
            spec,
            tools=tools,
            gateway=gateway,
            runners=factory,
            max_model_calls=max_turns,
            is_sensitive=is_sensitive,  # failures show the calls as the transcripts do
            secrets=secrets,
        )
        for spec in conversations
    ]


def _check_apart(transcripts: Path, directory: Path, what: str) -> None:
    """Transcripts written among the conversation or tool files would overwrite a JSON one, or be read as one by
    the next run (or plan)."""
    inside, folder = transcripts.resolve(), directory.resolve()
    if inside == folder or folder in inside.parents:
        raise click.UsageError(
            f"--transcripts {transcripts} is inside the {what} directory {directory}: the transcripts would be read "
            f"as {what} files next time (or overwrite one); write them elsewhere, e.g. --transcripts transcripts"
        )


def _transcript_paths(results: list[FileResult], directory: Path, transcripts: Path) -> list[Path]:
    """Each file's transcript: its path under `transcripts`, `.json` for its suffix (a.yaml → a.json), or after it
    when two files share a stem (a.yaml → a.yaml.json beside a.json.json), so neither overwrites the other."""
    relative = [Path(os.path.relpath(result.spec.file, display_path(directory))) for result in results]
    stems = Counter(path.with_suffix("") for path in relative)
    return [
        transcripts / (path.with_suffix(".json") if stems[path.with_suffix("")] == 1 else Path(f"{path}.json"))
        for path in relative
    ]


def _annotate(output: Output, diagnostics: list[Diagnostic]) -> None:
    for line in github_annotations(diagnostics):
        output.data(line)


__all__ = ["test_command"]
