"""A new user's first mistakes with the real CLI: each says where and what to do, exits 1, and shows no traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GOOD = "name: ok_tool\ndescription: Does a thing.\nendpoint: https://tools.example.com/ok\n"


@pytest.mark.parametrize("command", ["validate", "plan", "render", "inputs"])
@pytest.mark.parametrize(("inside", "up"), [("tools.d", ".."), ("tools.d/orders", "../.."), ("docs", "..")])
def test_run_from_inside_the_repository_it_says_where_to_run(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, command: str, inside: str, up: str
) -> None:
    """`cd tools.d && reconciler plan`: Terraform says there is no configuration here; this says where it is."""
    (repo / "tools.d" / "a.yaml").write_text(GOOD, encoding="utf-8")
    (repo / inside).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(repo / inside)
    result = run(command)
    assert result.code == 1
    assert (
        f"tools.d: error: no such directory here; {up}/tools.d is one: run reconciler from {up} (`cd {up}`)"
        in result.output
    )
    assert "Traceback" not in result.output
    assert not (repo / inside / ".reconciler").exists()  # no registry was started in the wrong place


def test_outside_any_repository_it_says_which_folder_to_pass(
    tmp_path: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("validate")
    assert result.code == 1
    assert "tools.d: error: no such directory; pass the folder that holds your tool definitions" in result.out


@pytest.mark.parametrize("reference", ["${1X}", "${BASE_URL:?}", "${BASE_URL:=https://x.example.com}", "${base url}"])
def test_a_malformed_reference_says_which_forms_work(repo: Path, run: Callable[..., Any], reference: str) -> None:
    """A shell habit (`:?`, `:=`) or a bad name: the message shows the forms that work, as Terraform shows the
    syntax it expected."""
    (repo / "tools.d" / "a.yaml").write_text(GOOD.replace("Does a thing.", f"'{reference}'"), encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert f"tools.d/a.yaml:2:1: error: malformed variable reference '{reference}'; write ${{NAME}}, " in result.out
    assert "${NAME:-default} or ${NAME-default} (NAME: letters, digits and _, not starting with a digit)" in result.out


def test_validate_of_reconciler_yaml_checks_the_configuration(repo: Path, run: Callable[..., Any]) -> None:
    """It was read as a tool definition: "missing required key 'name'" and "unknown key 'prune'" for a good file."""
    (repo / "reconciler.yaml").write_text("prune: false\nmass_delete_share: 0.5\n", encoding="utf-8")
    good = run("validate", "reconciler.yaml")
    assert good.code == 0, good.output
    assert good.out == ""
    (repo / "reconciler.yaml").write_text("prune: false\nmas_delete_share: 0.5\n", encoding="utf-8")
    bad = run("validate", "reconciler.yaml")
    assert bad.code == 1
    assert bad.out.strip() == (
        "reconciler.yaml:2:1: error: unknown key 'mas_delete_share'; did you mean 'mass_delete_share'?"
    )


@pytest.mark.parametrize("name", ["README.md", "tools.d/notes.txt"])
def test_validate_of_a_file_that_is_not_yaml_or_json_says_so(repo: Path, run: Callable[..., Any], name: str) -> None:
    (repo / name).write_text("hello: world\n", encoding="utf-8")
    result = run("validate", name)
    assert result.code == 1
    assert result.out.strip() == (
        f"{name}:1:1: error: not a tool definition file: only .yaml, .yml, .json files are read; pass one of them, "
        "or the folder that holds them"
    )


def test_a_mistyped_command_names_the_close_one(repo: Path, run: Callable[..., Any]) -> None:
    result = run("pln")
    assert result.code == 1
    assert "Error: No such command 'pln'. (Did you mean 'plan'?)" in result.err
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_mistyped_tool_names_the_close_one(repo: Path, run: Callable[..., Any], command: str) -> None:
    (repo / "tools.d" / "a.yaml").write_text(GOOD.replace("ok_tool", "check_inventory"), encoding="utf-8")
    result = run(command, "--tool", "check_inventry", *(["--auto-approve"] if command == "apply" else []))
    assert result.code == 1
    assert (
        "error: --tool check_inventry: no such tool in tools.d or in the registry; did you mean check_inventory?"
        in result.err
    )
    assert "created" not in result.err  # nothing was sent


def test_a_plan_saved_inside_tools_d_is_refused_before_anything_is_read(repo: Path, run: Callable[..., Any]) -> None:
    """`plan --out tools.d/plan.json` saved it, and every later plan and validate read it as a tool file: fifteen
    "unknown key" errors for a file the user did not write."""
    (repo / "tools.d" / "a.yaml").write_text(GOOD, encoding="utf-8")
    result = run("plan", "--out", "tools.d/plan.json")
    assert result.code == 1
    assert (
        "Error: --out tools.d/plan.json is inside the tools directory tools.d: the next plan would read it as a "
        "tool file; save it elsewhere, e.g. --out plan.json" in result.err
    )
    assert not (repo / "tools.d" / "plan.json").exists()
    assert not (repo / ".reconciler").exists()  # the registry was not read
    assert run("plan", "--out", "plan.json").code == 0
    assert run("validate").code == 0


def test_debug_after_the_command_name_is_the_same_as_before_it(repo: Path, run: Callable[..., Any]) -> None:
    """`reconciler plan --debug` answered "No such option '--debug'", though `--no-color` works on either side."""
    (repo / "tools.d" / "a.yaml").write_text(GOOD, encoding="utf-8")
    before = run("--debug", "plan")
    after = run("plan", "--debug")
    assert before.code == after.code == 0, after.output
    logged = [line for line in after.err.splitlines() if line.startswith("debug: ")]
    assert logged
    assert len(logged) == len([line for line in before.err.splitlines() if line.startswith("debug: ")])
    assert after.out == before.out


@pytest.mark.parametrize(
    ("argv", "where"),
    [
        (["plan", "--out", ""], "'--out'"),
        (["export", "--out", ""], "'--out'"),
        (["apply", "--auto-approve", "--audit-log", ""], "'--audit-log'"),
        (["plan", ""], "'[DIR]'"),
        (["validate", ""], "'[DIR | FILE]'"),
    ],
)
def test_an_empty_path_is_refused_before_anything_runs(
    repo: Path, run: Callable[..., Any], argv: list[str], where: str
) -> None:
    """`--out "$PLAN"` with PLAN unset: click took "" as the current folder. plan failed on a temporary file it
    left in the repository, export wrote beside the repository's files, `plan ""` read the whole repository as
    tools.d."""
    (repo / "tools.d" / "a.yaml").write_text(GOOD, encoding="utf-8")
    before = sorted(path.name for path in repo.iterdir())
    result = run(*argv)
    assert result.code == 1
    assert f"Error: Invalid value for {where}: is empty; give a path" in result.err
    assert sorted(path.name for path in repo.iterdir()) == before  # no temporary file, no registry, no export


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["plan", "-out=plan.json"], "--out"),
        (["plan", "-detailed-exitcode"], "--detailed-exitcode"),
        (["apply", "-auto-approve"], "--auto-approve"),
        (["-debug", "validate"], "--debug"),
    ],
)
def test_terraforms_single_dash_options_name_the_long_option(
    repo: Path, run: Callable[..., Any], argv: list[str], meant: str
) -> None:
    """click read `-out=plan.json` as -o -u -t and answered "No such option '-o'"."""
    result = run(*argv)
    assert result.code == 1
    single = meant[1:]
    assert f"Error: No such option '{single}'. (Did you mean '{meant}'? Long options take two dashes.)" in result.err


def test_test_without_tools_d_says_to_pass_them_with_tools(
    tmp_path: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reconciler test` takes conversations.d as DIR: "pass the folder that holds your tool definitions" led to
    `reconciler test tools.d`, which reads the tools as conversation files."""
    (tmp_path / "conversations.d").mkdir()
    (tmp_path / "conversations.d" / "a.yaml").write_text("name: a\nturns: [{user: hi}]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("test")
    assert result.code == 1
    assert "`reconciler test` takes it as --tools DIR" in result.output
