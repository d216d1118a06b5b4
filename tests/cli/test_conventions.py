"""The conventions users bring from Terraform, kubectl and no-color.org: `--no-color` anywhere, NO_COLOR and
TERM=dumb, help that says how to run, the version three ways, shell completion, one-file validate, clear
messages for missing paths, and `${VAR:-default}` as the shell reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from reconciler import __version__
from reconciler.cli import _register, cli
from reconciler.errors import Diagnostic
from reconciler.load import interpolate

ROOT = Path(__file__).resolve().parents[2]
BAD = "name: bad name\ndescription: x\nendpoint: https://tools.example.com/x\n"
GOOD = "name: ok\ndescription: Checks stock.\nendpoint: https://tools.example.com/x\n"
ANSI = "\x1b["


def commands() -> dict[str, click.Command]:
    _register()
    return dict(cli.commands)


# --- colour ------------------------------------------------------------------------------------------------------


def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout and stderr are terminals (called in the test: capsys puts its streams in place for the call);
    no colour variable is set."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)


@pytest.mark.parametrize(
    ("argv", "environment", "coloured"),
    [
        (["validate"], {}, True),
        (["validate", "--no-color"], {}, False),  # after the command name, as Terraform takes it
        (["--no-color", "validate"], {}, False),
        (["validate"], {"NO_COLOR": "1"}, False),
        (["validate"], {"NO_COLOR": ""}, True),  # no-color.org: an empty NO_COLOR does not count
        (["validate"], {"TERM": "dumb"}, False),
    ],
)
def test_colour_only_where_wanted(
    repo: Path,
    run: Any,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    environment: dict[str, str],
    coloured: bool,
) -> None:
    (repo / "tools.d" / "a.yaml").write_text(BAD, encoding="utf-8")
    terminal(monkeypatch)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = run(*argv)
    assert result.code == 1
    assert "invalid tool name 'bad name'" in result.out
    assert (ANSI in result.out) == coloured


@pytest.mark.parametrize("name", sorted(set(commands()) - {"completion"}))
def test_every_command_takes_no_color(name: str, run: Any) -> None:
    result = run(name, "--no-color", "--help")
    assert result.code == 0, result.err
    assert "--no-color" in result.out


# --- help --------------------------------------------------------------------------------------------------------


def test_every_option_has_help_text() -> None:
    missing = [
        f"{name} {param.opts[0]}"
        for name, command in commands().items()
        for param in command.params
        if isinstance(param, click.Option) and not param.help
    ]
    assert missing == []


def test_help_shows_examples_the_environment_and_the_exit_codes(run: Any) -> None:
    result = run("--help")
    assert result.code == 0
    for part in ("Examples:", "Environment variables read:", "Exit codes:"):
        assert part in result.out
    for variable in ("GENESYS_CLOUD_CLIENT_ID", "GENESYS_CLOUD_REGION", "GENESYS_CLOUD_API_URL", "NO_COLOR"):
        assert variable in result.out
    assert "reconciler validate tools.d/orders.yaml" in result.out


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_help_lists_the_exit_codes(name: str, run: Any) -> None:
    result = run(name, "--help")
    assert "Exit codes:" in result.out and "2    success with changes" in result.out


# --- version and completion -------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--version"], ["-V"], ["version"]])
def test_the_version_three_ways(run: Any, argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 0
    assert result.out == f"reconciler {__version__}\n"


def test_the_version_is_written_once() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # (tomllib is 3.11+)
    assert '\ndynamic = ["version"]\n' in pyproject and "\nversion = " not in pyproject.split("[tool.")[0]
    assert '[tool.setuptools.dynamic]\nversion = {attr = "reconciler.__version__"}' in pyproject


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete --no-files --command reconciler")],
)
def test_completion_prints_a_script_for_the_shell(run: Any, shell: str, marker: str) -> None:
    result = run("completion", shell)
    assert result.code == 0
    assert marker in result.out and "_RECONCILER_COMPLETE" in result.out


def test_the_completion_script_completes_commands_and_options(tmp_path: Path) -> None:
    """What the bash script asks the program, answered by the real CLI."""
    environment = {
        **os.environ,
        "_RECONCILER_COMPLETE": "bash_complete",
        "COMP_WORDS": "reconciler pl",
        "COMP_CWORD": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "reconciler"], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert "plain,plan" in done.stdout.splitlines()
    environment.update(COMP_WORDS="reconciler plan --det", COMP_CWORD="2")
    done = subprocess.run(
        [sys.executable, "-m", "reconciler"], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert "plain,--detailed-exitcode" in done.stdout.splitlines()


@pytest.mark.parametrize(
    ("words", "cword"),
    [
        ("reconciler plan --tool ch", "3"),
        ("reconciler apply --tool ch", "3"),
        ("reconciler plan defs --tool ch", "4"),
        ("reconciler plan --out p.json --tool ch", "5"),
    ],
)
def test_tool_completes_the_names_of_tools_d(repo: Path, words: str, cword: str) -> None:
    """`--tool` completed nothing (kubectl and argocd complete resource names): it completes the names tools.d
    defines (the DIR given, else tools.d), offline, and nothing at all where tools.d cannot be read."""
    folder = "defs" if " defs " in words else "tools.d"
    (repo / folder).mkdir(exist_ok=True)
    (repo / folder / "a.yaml").write_text(
        GOOD.replace("name: ok", "name: check_inventory")
        + "---\n"
        + GOOD.replace("name: ok", "name: check_price")
        + "---\n"
        + GOOD.replace("name: ok", "name: other"),
        encoding="utf-8",
    )
    environment = {**os.environ, "_RECONCILER_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler"], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.splitlines() == ["plain,check_inventory", "plain,check_price"], done.stderr
    (repo / folder / "a.yaml").write_text("name: [broken\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "reconciler"], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "", "")


# --- paths ------------------------------------------------------------------------------------------------------


def test_validate_takes_one_file(repo: Path, run: Any) -> None:
    (repo / "tools.d" / "good.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "tools.d" / "bad.yaml").write_text(BAD, encoding="utf-8")
    good = run("validate", "tools.d/good.yaml")
    assert good.code == 0, good.output
    assert "valid: 1 tool, 0 errors" in good.err
    bad = run("validate", "tools.d/bad.yaml")
    assert bad.code == 1
    assert bad.out.startswith("tools.d/bad.yaml:1:1: error: invalid tool name")


def test_a_missing_file_or_plan_file_is_named_for_what_it_is(repo: Path, run: Any) -> None:
    assert "tools.d/nope.yaml:1:1: error: no such file" in run("validate", "tools.d/nope.yaml").output
    result = run("apply", "plan.json")
    assert result.code == 1
    assert "error: no such plan file: plan.json" in result.err
    assert "no such directory" not in result.err


def test_github_annotations_never_point_at_a_missing_file(repo: Path, run: Any) -> None:
    result = run("validate", "nowhere", "--format", "github")
    assert result.code == 1
    assert result.out.startswith("::error title=reconciler::nowhere: no such directory")
    assert "file=" not in result.out
    (repo / "tools.d" / "bad.yaml").write_text(BAD, encoding="utf-8")
    annotated = run("validate", "--format", "github")
    assert annotated.out.startswith("::error file=tools.d/bad.yaml,line=1,col=1,title=reconciler::")


# --- ${VAR:-default} ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("${V:-d}", {}, "d"),
        ("${V:-d}", {"V": ""}, "d"),  # set but empty: the default, as the shell does
        ("${V:-d}", {"V": "x"}, "x"),
        ("${V-d}", {}, "d"),
        ("${V-d}", {"V": ""}, ""),  # set but empty: kept
        ("${V-d}", {"V": "x"}, "x"),
        ("${V:-}", {"V": ""}, ""),
        ("${V:-a:-b}", {}, "a:-b"),
        ("${V}", {"V": ""}, ""),
    ],
)
def test_defaults_follow_the_shell(text: str, environ: dict[str, str], expected: str) -> None:
    diagnostics: list[Diagnostic] = []
    assert interpolate({"k": text}, "f.yaml", environ, diagnostics, {}) == {"k": expected}
    assert diagnostics == []


def test_an_empty_repository_variable_takes_the_files_default(repo: Path, run: Any, monkeypatch: Any) -> None:
    """GitHub's `${{ vars.TOOLS_BASE_URL }}` is the empty string when the variable does not exist."""
    monkeypatch.setenv("TOOLS_BASE_URL", "")
    (repo / "tools.d" / "a.yaml").write_text(
        GOOD.replace("https://tools.example.com", "${TOOLS_BASE_URL:-https://tools.example.com}"), encoding="utf-8"
    )
    result = run("render")
    assert result.code == 0, result.output
    assert '"executionEndpoint": "https://tools.example.com/x"' in result.out


def test_the_changelog_has_an_entry_for_this_version_and_the_docs_pin_nothing_that_does_not_exist() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = [line.split()[1] for line in changelog.splitlines() if line.startswith("## ") and line[3].isdigit()]
    assert versions and versions[0] == __version__
    # no tag has been pushed: the docs must not tell anyone to use one as if it existed
    for name in ("README.md", "docs/gitops.md", "action.yml"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "@v0.1.0" not in text.replace("`@v0.1.0` does not resolve", "")
        assert "rev: v0" not in text
