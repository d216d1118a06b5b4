"""The source label of a tool: the file it came from, where it is once links are followed, relative to the
repository root (or as given when that is outside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.config import Config
from reconciler.desired import DesiredState
from reconciler.model import SourceLocation, Tool


def label(repo: Path, file: str) -> str:
    state = DesiredState([], [], [], Config(root=repo))
    tool = Tool(name="t", description="d", endpoint="https://x.example.com", schema={}, location=SourceLocation(file))
    first = state.source_file(tool)
    assert state.source_file(tool) == first, "asked again, the same answer"
    return first


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    for folder in ("tools.d/deep/er", "shared/more"):
        (root / folder).mkdir(parents=True)
    for file in ("tools.d/a.yaml", "tools.d/deep/er/b.yaml", "shared/linked.yaml", "shared/more/c.yaml", "top.yaml"):
        (root / file).write_text("name: t\n")
    os.symlink(root / "shared" / "linked.yaml", root / "tools.d" / "linked.yaml")
    os.symlink(root / "shared" / "more", root / "tools.d" / "more")
    os.symlink("../../shared/linked.yaml", root / "tools.d" / "deep" / "relative.yaml")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "o.yaml").write_text("name: t\n")
    os.symlink(root / "top.yaml", tmp_path / "outside" / "in.yaml")
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("tools.d/a.yaml", "tools.d/a.yaml"),
        ("tools.d/deep/er/b.yaml", "tools.d/deep/er/b.yaml"),
        ("tools.d/deep/../a.yaml", "tools.d/a.yaml"),
        ("top.yaml", "top.yaml"),
        ("tools.d/linked.yaml", "shared/linked.yaml"),
        ("tools.d/deep/relative.yaml", "shared/linked.yaml"),
        ("tools.d/more/c.yaml", "shared/more/c.yaml"),
        ("tools.d/missing.yaml", "tools.d/missing.yaml"),
        ("../outside/o.yaml", "../outside/o.yaml"),
        ("../outside/in.yaml", "top.yaml"),
    ],
)
def test_the_label_is_the_linked_files_place_in_the_repository(repo: Path, file: str, expected: str) -> None:
    assert label(repo, file) == expected


def test_from_another_directory_the_label_is_the_same(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "tools.d")
    assert label(repo, "more/c.yaml") == "shared/more/c.yaml"
    assert label(repo, "a.yaml") == "tools.d/a.yaml"
    assert label(repo, str(repo / "tools.d" / "linked.yaml")) == "shared/linked.yaml"
