"""What several commands share: finding the desired state from the command line's DIR."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.config import Config, find_root, load_config
from reconciler.desired import DesiredState, build_desired_state

DEFAULT_DIRECTORY = "tools.d"

directory_argument = click.argument(
    "directory", required=False, default=DEFAULT_DIRECTORY, type=click.Path(file_okay=False, path_type=Path)
)


def load_desired(directory: Path, *, strict: bool = False, check: bool = True) -> DesiredState:
    """tools.d → a DesiredState; raises InputError when the input is invalid (and `check` is set)."""
    config = project_config(directory)
    state = build_desired_state(directory, config, os.environ)
    if check:
        state.raise_for_errors(strict=strict)
    return state


def project_config(directory: Path) -> Config:
    root = find_root(directory)
    return load_config(root, os.environ)
