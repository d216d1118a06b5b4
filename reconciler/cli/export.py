"""`reconciler export`: the live tools written as tools.d files (or, with --format json, a summary)."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import yaml

from reconciler.cli.common import DEFAULT_DIRECTORY, allow_local_option, learn_live, load_desired, project_config
from reconciler.cli.output import Output
from reconciler.cli.planning import connect
from reconciler.errors import ConfigurationError, InputError
from reconciler.export import export_tools
from reconciler.export_actions import export_actions
from reconciler.redaction import one_line
from reconciler.state import DataActionsForm, Record
from reconciler.words import counted, listed

HEADER = "# Exported from {target} by `reconciler export`.\n"


@click.command("export")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIRECTORY,
    show_default=True,
    help="Folder to write one file per tool into.",
)
@click.option("--all", "include_unmanaged", is_flag=True, help="Export unmanaged tools too (to adopt them).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="yaml: write tools.d files; json: print a summary of the registry instead.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option(
    "--tool",
    "tools",
    multiple=True,
    metavar="NAME",
    help="Export only this live tool, managed or not (repeatable): adopt one tool.",
)
@allow_local_option
@click.pass_obj
def export_command(
    output: Output,
    out: Path,
    include_unmanaged: bool,
    output_format: str,
    force: bool,
    tools: tuple[str, ...],
    allow_local: bool,
) -> int:
    """Write the live tools as tools.d files, to adopt an existing org.

    \b
    Examples:
      reconciler export --all --out tools.d     # every live tool, managed or not
      reconciler export --tool check_inventory  # adopt one tool
      reconciler export --format json           # a summary of the registry, no files
    """
    config = project_config(_config_home(out))
    with connect(output, config, command="export", writes=True, allow_local=allow_local) as session:
        live = session.client.list()
        learn_live(live)
        target = session.target
        form = session.client.form
        category = form.category if isinstance(form, DataActionsForm) else None
    if tools:
        # as Terraform's `import` of one resource: a tool named is asked for, managed or not; the rest is not
        _check_names(live, tools)
        live = [record for record in live if record.name in tools]
        include_unmanaged = True
    sensitive = {name: value for name, value in os.environ.items() if config.is_sensitive(name) and value}
    everything = include_unmanaged or output_format == "json"
    # without --all, what nobody manages yet is left out: say so, or an adoption finds "Exported 0 tools" (Data
    # Actions: --all leaves some of those out too, for reasons export_actions gives; it is not promised there)
    quiet = everything or config.target == "data-actions"
    left_out = [] if quiet else sorted(record.name for record in live if record.owner is None)
    not_exported: list[str] = []
    if config.target == "data-actions":
        exported, not_exported = export_actions(
            live, managed_by=config.managed_by, include_unmanaged=everything, sensitive=sensitive, category=category
        )
        shown = {item.document["name"] for item in exported}
        live = [record for record in live if record.name in shown]
    else:
        exported = export_tools(live, managed_by=config.managed_by, include_unmanaged=everything, sensitive=sensitive)
    if output_format == "json":
        summary = [
            {
                "name": item.document["name"],
                "id": record.id,
                "version": record.version,
                "status": record.raw.get("status"),
                "managed": item.managed,
                "parameters": _parameters(record.content),
            }
            for item, record in zip(exported, sorted(live, key=lambda r: r.name), strict=True)
        ]
        output.data(json.dumps(summary, indent=2, sort_keys=True))
        return 0
    # What another repository manages (another `managed_by`) is its to define: plan here refuses a file of it.
    # An owner reconciler.yaml lists under previously_managed_by was this repository's: plan moves its tools.
    owners = {record.name: record.owner for record in live}
    ours = (None, config.managed_by, *config.previously_managed_by)
    foreign = [item for item in exported if owners.get(item.document["name"]) not in ours]
    exported = [item for item in exported if item not in foreign]
    # Beside existing files, write only the tools not defined there yet: a second definition of a name is one
    # that validate refuses.
    defined = _defined_names(out)
    kept = [item.document["name"] for item in exported if item.document["name"] in defined]
    exported = [item for item in exported if item.document["name"] not in defined]
    clashes = [item.filename for item in exported if (out / item.filename).exists()]
    if clashes and not force:
        raise ConfigurationError(
            f"{counted(len(clashes), 'file')} already exist in {out} (e.g. {clashes[0]}); pass --force to overwrite, "
            "or --out a new folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    for item in exported:
        text = yaml.safe_dump(item.document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
        (out / item.filename).write_text(HEADER.format(target=target) + text, encoding="utf-8")
    for item in exported:
        for variable in item.new_variables:
            output.info(
                f"{item.filename}: a credential that only the registry holds is written as ${{{variable}}}; "
                "export it before running plan"
            )
    if not_exported:
        names = one_line(", ".join(not_exported))  # the org's action names: one line, escaped
        output.info(
            f"Not exported: {counted(len(not_exported), 'action')} no tool definition can express as they are "
            f"(only a POST of the inputs as JSON to an endpoint, in this repository's category, can be): {names}"
        )
    if foreign:
        output.info(
            f"Not exported: {counted(len(foreign), 'tool')} another repository manages (plan here would refuse them; "
            "export them from that repository): "
            + ", ".join(f"{item.document['name']} (managed by {owners[item.document['name']]!r})" for item in foreign)
        )
    unmanaged = sum(not item.managed for item in exported)
    output.info(f"Exported {counted(len(exported), 'tool')} to {out}/ ({unmanaged} unmanaged).")
    if left_out:
        names = listed(left_out)
        output.info(
            f"Left out {counted(len(left_out), 'tool')} no reconciler manages yet ({names}): "
            "`reconciler export --all` writes them too, to adopt them."
        )
    if kept:
        names = listed(kept)
        output.info(f"Left {counted(len(kept), 'tool')} already defined in {out}/ as they are: {names}.")
    return 0


def _config_home(out: Path) -> Path:
    """Where the configuration is read: the repository `out` is in (its reconciler.yaml says the target and
    `managed_by`), else the current directory's. Not `out` itself: a folder in no repository would be its own
    root once it exists, so a second run of the same export read no reconciler.yaml and exported nothing."""
    existing = next((folder for folder in (out.absolute(), *out.absolute().parents) if folder.is_dir()), Path.cwd())
    resolved = existing.resolve()
    if any((folder / ".git").exists() for folder in (resolved, *resolved.parents)):
        return existing
    return Path.cwd()


def _check_names(live: list[Record], tools: tuple[str, ...]) -> None:
    """`--tool NAME` must name a live tool: a typo would export nothing and say "Exported 0 tools"."""
    known = sorted({record.name for record in live})
    missing = sorted(set(tools) - set(known))
    if missing:
        close = [match for name in missing for match in difflib.get_close_matches(name, known, n=1)]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        # the names a user typed: one line, escaped
        raise ConfigurationError(one_line(f"--tool {', '.join(missing)}: no such tool in the registry{hint}"))


def _parameters(content: Mapping[str, Any]) -> list[str]:
    """The input names of a live tool (its `schema`) or action (its input contract)."""
    schema = content.get("schema") or ((content.get("contract") or {}).get("input") or {}).get("inputSchema") or {}
    return sorted(schema.get("properties") or {})


def _defined_names(out: Path) -> set[str]:
    """The names of the tools `out` already defines (none when it does not exist yet)."""
    if not out.is_dir():
        return set()
    try:
        state = load_desired(out, check=False)
    except InputError:  # a broken reconciler.yaml: validate says what; the files are still compared by name
        return set()
    return {tool.name for tool in state.tools}
