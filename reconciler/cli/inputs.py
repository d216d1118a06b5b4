"""`reconciler inputs [DIR]`: the paths the desired state reads, for a workflow to decide whether a change
touches it.

One path a line, relative to the repository root, `/` as separator: the folder itself (with a trailing `/`,
meaning everything below it), `reconciler.yaml`, and every OpenAPI description a `source:` names, wherever
it lives in the repository. A description that cannot be resolved is left out: `validate` reports it.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.cli.common import directory_argument, project_config
from reconciler.cli.output import Output
from reconciler.compile.openapi import description_path
from reconciler.config import CONFIG_FILE
from reconciler.errors import InputError
from reconciler.load import load_directory


@click.command("inputs")
@directory_argument
@click.pass_obj
def inputs_command(output: Output, directory: Path) -> int:
    """List the files the desired state is read from (for CI path filters).

    \b
    Examples:
      reconciler inputs                 # tools.d/, reconciler.yaml, specs/orders.yaml
      reconciler inputs defs > inputs.txt
    """
    config = project_config(directory)
    for path in input_paths(directory, config.root):
        output.data(path)
    return 0


def input_paths(directory: Path, root: Path) -> list[str]:
    """The folder (`tools.d/`), `reconciler.yaml` and the descriptions sources name, relative to `root`."""
    root = root.resolve()
    paths = {_relative(directory.resolve(), root) + "/", CONFIG_FILE}
    loaded = load_directory(directory, os.environ, root=root)
    for document in loaded.documents:
        if document.kind != "source":
            continue
        try:
            paths.add(_relative(description_path(document, root), root))
        except InputError:
            continue  # validate and plan say what is wrong with it
    return sorted(paths)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # a folder outside the repository: name it as given
        return path.as_posix()
