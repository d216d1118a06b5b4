"""Symbolic links in tools.d: followed while they stay inside the repository, refused with their place
otherwise; never skipped in silence (apply would then prune the tools behind them)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import RunningEmulator

from .conftest import write_tools

Run = Callable[..., Any]


def test_a_linked_folder_inside_the_repository_is_read(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    write_tools(repo / "shared" / "tools", 2, prefix="shared")
    write_tools(repo / "tools.d", 1)
    (repo / "tools.d" / "shared").symlink_to(repo / "shared" / "tools", target_is_directory=True)
    (repo / "tools.d" / "one.yaml").symlink_to(repo / "shared" / "tools" / "shared_000.yaml")

    result = run("validate")

    assert result.code == 1  # the same tool twice, through the link and the linked file: both places named
    assert "duplicate tool name 'shared_000'" in result.output
    (repo / "tools.d" / "one.yaml").unlink()
    assert run("validate").code == 0
    assert run("apply", "--auto-approve").code == 0
    assert sorted(t["name"] for t in emulator.registry.all_tools()) == ["shared_000", "shared_001", "tool_000"]
    assert (repo / "tools.d" / "shared" / "shared_001.yaml").exists()


@pytest.mark.parametrize("kind", ["folder-outside", "file-outside", "dangling", "loop"])
def test_a_link_that_cannot_be_followed_is_an_error_at_its_place_and_nothing_is_pruned(
    repo: Path, run: Run, emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    write_tools(elsewhere, 2, prefix="ext")
    write_tools(repo / "tools.d" / "team", 2)
    assert run("apply", "--auto-approve").code == 0
    link = repo / "tools.d" / "team" / "ext"
    if kind == "folder-outside":
        link.symlink_to(elsewhere, target_is_directory=True)
    elif kind == "file-outside":
        link = link.with_suffix(".yaml")
        link.symlink_to(elsewhere / "ext_000.yaml")
    elif kind == "dangling":
        link.symlink_to(repo / "gone")
    else:
        link.symlink_to(repo / "tools.d", target_is_directory=True)
    before = emulator.registry.all_tools()

    results = [run("validate"), run("plan"), run("apply", "--auto-approve")]

    words = {"folder-outside": "outside the repository", "file-outside": "outside the repository",
             "dangling": "which does not exist", "loop": "a loop"}[kind]  # fmt: skip
    for result in results:
        assert result.code == 1
        # a link (or a folder) has no lines: named by its path alone, as a missing tools.d is
        assert f"{os.path.join('tools.d', 'team', link.name)}: error: a link" in result.output
        assert words in result.output
    assert emulator.registry.all_tools() == before


def test_a_file_whose_suffix_is_not_lower_case_is_named_not_skipped(repo: Path, run: Run) -> None:
    write_tools(repo / "tools.d", 1)
    (repo / "tools.d" / "tool_000.yaml").rename(repo / "tools.d" / "orders.YAML")

    relaxed, strict = run("validate"), run("validate", "--strict")

    assert relaxed.code == 0
    assert strict.code == 1
    for result in (relaxed, strict):
        assert "tools.d/orders.YAML:1:1: warning: not read: only .yaml, .yml, .json files count (not .YAML)" in (
            result.output
        )
        assert "rename it to orders.yaml" in result.output


def test_a_folder_that_cannot_be_read_is_named_by_its_path_alone(
    repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tools(repo / "tools.d" / "team", 1)
    scandir = os.scandir

    def refusing(*args: Any) -> Any:
        # os.scandir is the process's: another thread may call it meanwhile, with bytes, an fd, or nothing
        if args and isinstance(args[0], (str, Path)) and os.path.basename(args[0]) == "team":
            raise PermissionError(13, "Permission denied", str(args[0]))
        return scandir(*args)

    # the tests run as root here, who may read any folder: the refusal a user meets is stood in for
    monkeypatch.setattr(os, "scandir", refusing)

    text, as_json = run("validate"), run("validate", "--format", "json")

    assert text.code == 1
    assert f"{os.path.join('tools.d', 'team')}: error: cannot read the folder: Permission denied" in text.output
    [problem] = json.loads(as_json.out)["diagnostics"]
    assert (problem["line"], problem["column"]) == (None, None)
