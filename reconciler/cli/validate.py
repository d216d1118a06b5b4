"""`reconciler validate [DIR]`: offline checks of format, names, schemas, capability matrix and lint."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from reconciler.cli.common import DEFAULT_DIRECTORY, load_desired
from reconciler.cli.output import Output, capped
from reconciler.config import CONFIG_FILE, load_config, missing_settings
from reconciler.desired import DesiredState
from reconciler.errors import Diagnostic, InputError, one_line, sorted_diagnostics
from reconciler.validate import check_serve
from reconciler.words import counted

GITHUB_ANNOTATION_LIMIT = 10


@click.command("validate")
@click.argument(
    "directory", metavar="[DIR | FILE]", required=False, default=DEFAULT_DIRECTORY, type=click.Path(path_type=Path)
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github", "json"]),
    default="text",
    show_default=True,
    help="text for people, github for workflow annotations, json for machines.",
)
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option("--serve", "for_serve", is_flag=True, help="Also check what `reconciler serve` needs (credentials).")
@click.pass_obj
def validate_command(output: Output, directory: Path, output_format: str, strict: bool, for_serve: bool) -> int:
    """Check tools.d/ (or one file of it) offline: format, names, schemas, the capability matrix, lint.

    \b
    Examples:
      reconciler validate
      reconciler validate tools.d/orders.yaml --strict
      reconciler validate --format github      # annotations in a GitHub Actions log
    """
    state: DesiredState | None = None
    try:
        if directory.name == CONFIG_FILE and directory.is_file():
            # `validate reconciler.yaml` checks the configuration, not a tool definition that has none of its keys
            diagnostics = missing_settings(load_config(directory.resolve().parent, os.environ))
        else:
            state = load_desired(directory, check=False)
            diagnostics = sorted_diagnostics([*state.diagnostics, *missing_settings(state.config)])
            if for_serve:
                diagnostics = sorted_diagnostics([*diagnostics, *check_serve(state.tools)])
    except InputError as exc:  # a broken reconciler.yaml
        diagnostics = exc.diagnostics
    failed = any(d.severity == "error" for d in diagnostics) or (strict and bool(diagnostics))
    if output_format == "json":
        output.data(json.dumps(_json_report(state, diagnostics, failed), indent=2, sort_keys=True))
    elif output_format == "github":
        for line in github_annotations(diagnostics):
            output.data(line)
    else:
        for line in capped([_styled(diagnostic, output.color) for diagnostic in diagnostics]):
            output.data(line)
    tools = len(state.tools) if state else 0
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    if output_format != "json":
        verdict = "invalid" if failed else "valid"
        counts = ", ".join(counted(n, noun) for n, noun in ((tools, "tool"), (errors, "error"), (warnings, "warning")))
        output.info(f"{verdict}: {counts}")
    return 1 if failed else 0


def _styled(diagnostic: Diagnostic, color: bool) -> str:
    if not color:
        return str(diagnostic)
    severity = click.style(diagnostic.severity, fg="red" if diagnostic.severity == "error" else "yellow", bold=True)
    where, message = one_line(str(diagnostic.location)), one_line(diagnostic.message)
    return f"{click.style(where, bold=True)}: {severity}: {message}"


def github_annotations(diagnostics: list[Diagnostic]) -> list[str]:
    """GitHub workflow commands. GitHub shows ten annotations of each kind (error, warning) per step: the first
    ten of each are annotations, so warnings never take an error's place, and the rest are plain log lines,
    so that every finding is in the log."""
    lines = []
    annotated = {"error": 0, "warning": 0}
    rest = 0
    for diagnostic in diagnostics:
        if annotated[diagnostic.severity] >= GITHUB_ANNOTATION_LIMIT:
            rest += 1
            lines.append(str(diagnostic))
            continue
        annotated[diagnostic.severity] += 1
        where = diagnostic.location
        if os.path.isfile(where.file):
            place = [f"file={_escape_property(where.file)}", f"line={where.line}", f"col={where.column}"]
            message = diagnostic.message
        else:  # a missing folder or file: an annotation on it would point nowhere, so the log line names it
            place, message = [], f"{where.file}: {diagnostic.message}"
        properties = ",".join([*place, "title=reconciler"])
        lines.append(f"::{diagnostic.severity} {properties}::{_escape_data(message)}")
    if rest:
        lines.append(
            f"::notice title=reconciler::{rest} more findings not annotated (GitHub shows "
            f"{GITHUB_ANNOTATION_LIMIT} of each kind); the log lists them"
        )
    return lines


def _escape_data(text: str) -> str:
    text = one_line(text)  # control characters as \u escapes: an escape sequence in a name would colour the log
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _json_report(state: DesiredState | None, diagnostics: list[Diagnostic], failed: bool) -> dict[str, object]:
    return {
        "format_version": 1,
        "valid": not failed,
        "tools": [tool.name for tool in state.tools] if state else [],
        "diagnostics": [d.as_record() for d in diagnostics],
        "skipped": [
            {"operation": s.operation, "file": s.location.file, "line": s.location.line, "reason": s.reason}
            for s in (state.skipped if state else [])
        ],
    }
