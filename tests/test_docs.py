"""The README and docs/ stay true to the code: their links resolve, and the command list names what exists."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from reconciler.cli import cli
from reconciler.cli.commands import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_reaches_a_file_and_its_heading(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no such heading")
    assert broken == []


def _readme_commands() -> dict[str, str]:
    """Each command's synopsis in the README (a line that starts with spaces continues the one above)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Commands", 1)[1].split("```", 2)[1]
    synopses: dict[str, str] = {}
    name = ""
    for line in block.splitlines():
        text = line.split("#", 1)[0].rstrip()
        if line.startswith("reconciler "):
            name = line.split()[1]
            synopses[name] = text
        elif line.startswith(" ") and name:
            synopses[name] += " " + text.strip()
    return synopses


def test_the_readme_lists_every_command_and_no_other() -> None:
    assert set(_readme_commands()) == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_the_readme_shows_exists(name: str) -> None:
    line = _readme_commands()[name]
    shown = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[A-Z])\b", line))
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    accepted = {option for parameter in command.params for option in parameter.opts + parameter.secondary_opts}
    assert shown - accepted == set(), f"the README shows options `reconciler {name}` does not take"
    if not line.endswith(" ..."):  # a synopsis that does not say it is cut short names every option
        own = {option for option in accepted if option.startswith("--")} - {"--help", "--no-color"}
        assert own - shown == set(), f"the README's synopsis of `reconciler {name}` leaves these out"


# `pip install` of the bare name: what a new user types first. The name `reconciler` on PyPI belongs to another
# project (a DataFrame utility, versions 0.1.0 to 0.2.2), so such a line installs it instead of this one. Allowed:
# `python -m pip install 'reconciler[serve]'` (the CLI's hint, into the environment that already has this one,
# where pip keeps it and adds the extra), and a warning that says "not `pip install …`".
BARE_NAME_INSTALL = re.compile(
    r"""pip install (?:-\S+ )*['"]?reconciler(?:\[[\w,]+\])?(?:[=<>~!]=?[\w.]+)?['"]?(?=\s|$|`)"""
)
SHOWN_TO_USERS = [*PAGES, ROOT / "action.yml", *sorted((ROOT / "reconciler").rglob("*.py"))]


@pytest.mark.parametrize("page", SHOWN_TO_USERS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_page_tells_to_pip_install_the_bare_name(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    told = [
        text[max(0, m.start() - 40) : m.end()]
        for m in BARE_NAME_INSTALL.finditer(text)
        if not text[: m.start()].endswith(("not `", "-m "))
    ]
    assert told == [], "these install the PyPI project named reconciler, not this one"
