"""`reconciler inputs [DIR]`: the paths the desired state reads, for a workflow to decide whether a change
touches it.

One path a line, relative to the repository root, `/` as separator: the folder itself (with a trailing `/`,
meaning everything below it), `reconciler.yaml`, every OpenAPI description a `source:` names, wherever
it lives in the repository, and every file the descriptions' `$ref`s reach (a shared schema file changes the
tools as much as the description does). A path that cannot be resolved is left out: `validate` reports it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import click

from reconciler.cli.common import directory_argument, project_config
from reconciler.cli.output import Output
from reconciler.compile.openapi import description_path
from reconciler.config import CONFIG_FILE
from reconciler.errors import InputError
from reconciler.load import load_directory, read_documents


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
    """The folder (`tools.d/`), `reconciler.yaml`, the descriptions sources name and the files their `$ref`s
    reach, relative to `root`."""
    root = root.resolve()
    folder = directory.resolve()
    paths = {_relative(folder, root) + "/", CONFIG_FILE}
    loaded = load_directory(directory, os.environ, root=root)
    descriptions: list[tuple[Path, Any]] = []
    for document in loaded.documents:
        if document.kind == "openapi":
            descriptions.append((Path(os.path.realpath(document.path)), document.content))
        elif document.kind == "source":
            try:
                descriptions.append((description_path(document, root), None))
            except InputError:
                continue  # validate and plan say what is wrong with it
    for path in _referenced(descriptions, root):
        if not path.is_relative_to(folder):  # the folder's line covers what is inside it
            paths.add(_relative(path, root))
    return sorted(paths)


_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _referenced(descriptions: list[tuple[Path, Any]], root: Path) -> Iterator[Path]:
    """Each description, and each file inside `root` that a `$ref` reaches from it, directly or through other
    files, once. A file that cannot be read is passed over (its reference is validate's error to report)."""
    seen: set[Path] = set()
    pending = list(descriptions)
    while pending:
        path, content = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        yield path
        if content is None:
            try:
                documents = read_documents(path)
            except InputError:
                continue
            content = documents[0].content if documents else None
        for ref in _refs(content):
            location = ref.partition("#")[0]
            if not location or _URI_SCHEME.match(location) or location.startswith("//"):
                continue
            target = (path.parent / unquote(location)).resolve()
            if target not in seen and target.is_relative_to(root) and target.is_file():
                pending.append((target, None))


def _refs(node: Any) -> Iterator[str]:
    """Every string `$ref` value in a document, without recursion (a description may nest deeply)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(value for value in item.values() if isinstance(value, (dict, list)))
        elif isinstance(item, list):
            stack.extend(value for value in item if isinstance(value, (dict, list)))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # a folder outside the repository: name it as given
        return path.as_posix()
