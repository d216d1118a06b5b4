"""The registry of commands: where each lives and the first paragraph of its help, so that `reconciler --help`
lists them and `reconciler validate` runs without importing every other command (httpx, the emulator, the
runtime …). A test checks this table against the commands themselves."""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    module: str
    attribute: str
    summary: str
    """The first paragraph of the command's help: `--help` shortens it as click would."""


COMMANDS: dict[str, Entry] = {
    "validate": Entry(
        "reconciler.cli.validate",
        "validate_command",
        "Check tools.d/ (or one file of it) offline: format, names, schemas, the capability matrix, lint.",
    ),
    "render": Entry(
        "reconciler.cli.render",
        "render_command",
        "Print the compiled tools as a JSON array (byte-identical for the same input).",
    ),
    "plan": Entry(
        "reconciler.cli.plan",
        "plan_command",
        "Compare tools.d with the registry and show the changes apply would make.",
    ),
    "show": Entry(
        "reconciler.cli.show", "show_command", "Show a plan saved with `plan --out PLAN`, in any of plan's formats."
    ),
    "apply": Entry(
        "reconciler.cli.apply",
        "apply_command",
        "Apply the changes that make the registry match tools.d (or those of a saved plan).",
    ),
    "export": Entry(
        "reconciler.cli.export", "export_command", "Write the live tools as tools.d files, to adopt an existing org."
    ),
    "inputs": Entry(
        "reconciler.cli.inputs",
        "inputs_command",
        "List the files the desired state is read from (for CI path filters).",
    ),
    "chat": Entry(
        "reconciler.cli.chat",
        "chat_command",
        "Hold a conversation with the LLM gateway; the model may call the tools of DIR.",
    ),
    "test": Entry(
        "reconciler.cli.conversations",
        "test_command",
        "Run the conversation tests in DIRECTORY (default conversations.d).",
    ),
    "emulator": Entry(
        "reconciler.cli.emulator",
        "emulator",
        "Serve the Tools API contract locally: auth, paging, errors, rate limits and injected faults.",
    ),
    "serve": Entry(
        "reconciler.cli.serve",
        "serve_command",
        "Serve every tool of DIR at POST /tools/{name}, with metrics, an audit log and a registry listing.",
    ),
    "completion": Entry(
        "reconciler.cli.completion",
        "completion_command",
        "Print the shell completion script for bash, zsh or fish.",
    ),
    "version": Entry(
        "reconciler.cli.completion",
        "version_command",
        "Print the version (the same as `reconciler --version` and `-V`).",
    ),
}

__all__ = ["COMMANDS", "Entry"]
