"""The README and docs/ stay true to the code: their links resolve, and the command list names what exists."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import click
import pytest
import yaml

from reconciler.cli import cli, main
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
        own = {option for option in accepted if option.startswith("--")} - {"--help", "--no-color", "--debug"}
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


# Every `reconciler …` command a user may copy: the examples of each --help, and the commands in README and
# docs/ (fenced blocks and inline code). Each must name a command that exists, options it takes, and for a
# choice (`--format`) a value it accepts; a renamed option or format fails here instead of in a user's shell.
INLINE_CODE = re.compile(r"`([^`\n]+)`")
HELP = {"-h", "--help"}  # click's help option, which is no parameter


def _help_text(name: str) -> str:
    if not name:  # `reconciler --help`
        return cli.get_help(click.Context(cli, info_name="reconciler"))
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    return command.get_help(click.Context(command, info_name=name, parent=click.Context(cli, info_name="reconciler")))


def _shown_commands(text: str) -> list[str]:
    """The `reconciler …` commands of a page or help text: whole lines of code, and inline code spans."""
    fenced = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    lines = [line for block in fenced for line in block.splitlines()]
    lines += INLINE_CODE.findall(re.sub(r"```.*?```", "", text, flags=re.S))
    lines += [line for line in text.splitlines() if line.strip().startswith("reconciler ")]  # --help examples
    found = []
    for line in lines:
        for part in re.split(r"&&|\|\||;|\|", line):
            command = part.split(" #", 1)[0].strip()
            command = re.sub(r"^(?:\S*/)?(?:\.venv/bin/)?(?=reconciler )", "", command)  # .venv/bin/reconciler
            if command.startswith("reconciler "):
                found.append(command)
    return found


def _problems(shown: str) -> list[str]:
    words = re.split(r"\s+", shown.strip())[1:]
    words = [w for w in words if not w.startswith(("[", ">", "2>", "<"))] if "[" not in shown else words
    while words and words[0].startswith("-"):  # options before the command: --debug, --no-color
        option = words.pop(0)
        if option not in {o for p in cli.params for o in p.opts + p.secondary_opts} | HELP:
            return [f"{shown}: reconciler takes no {option}"]
    if not words:
        return []
    command = cli.get_command(click.Context(cli), words[0])
    if command is None:
        return [f"{shown}: no command {words[0]!r}"]
    options = {o: p for p in command.params for o in p.opts + p.secondary_opts}
    problems = []
    words = [w for w in words if w not in HELP]
    for index, word in enumerate(words[1:], start=1):
        if not word.startswith("-") or word in {"-", "--"} or re.fullmatch(r"-\d+", word):
            continue
        name, _, value = word.partition("=")
        if name not in options:
            problems.append(f"{shown}: `reconciler {words[0]}` takes no {name}")
            continue
        parameter = options[name]
        if isinstance(parameter.type, click.Choice) and not getattr(parameter, "is_flag", False):
            value = value or (words[index + 1] if index + 1 < len(words) else "")
            value = value.strip("'\"")
            if value and re.fullmatch(r"[a-z-]+", value) and value not in parameter.type.choices:
                problems.append(f"{shown}: {name} {value!r} is not one of {list(parameter.type.choices)}")
    return problems


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - {"version"}))
def test_every_help_shows_examples(name: str) -> None:
    text = _help_text(name)
    assert "Examples:" in text, f"`reconciler {name} --help` shows no example"
    assert [s for s in _shown_commands(text) if s.split()[1] == name], f"`reconciler {name} --help`: no example of it"


@pytest.mark.parametrize(
    "source",
    [
        *(p.relative_to(ROOT).as_posix() for p in PAGES),
        "reconciler --help",
        *(f"reconciler {n} --help" for n in sorted(COMMANDS)),
    ],
)
def test_every_command_shown_takes_the_options_it_is_shown_with(source: str) -> None:
    if source.endswith(" --help"):
        text = _help_text(source.removeprefix("reconciler").removesuffix("--help").strip())
    else:
        text = (ROOT / source).read_text(encoding="utf-8")
    shown = _shown_commands(text)
    problems = [problem for line in shown for problem in _problems(line)]
    assert problems == []


# The file examples a user copies: the README's tool definition, OpenAPI source and reconciler.yaml, written as
# files of a new repository (with a description that has the operations they name), validate without an error;
# gitops.md's composite action step passes only inputs the action takes and reads only outputs it sets, and its
# pre-commit snippet names a hook that exists.
ORDERS_SPEC = """\
openapi: 3.0.3
info: {title: Orders, version: "1"}
paths:
  /orders/{id}:
    get:
      operationId: getOrderById
      tags: [orders]
      summary: Look up an order
      parameters: [{name: id, in: path, required: true, schema: {type: string}, description: The order id}]
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
    delete:
      operationId: deleteOrder
      tags: [orders]
      summary: Delete an order
      responses: {"204": {description: deleted}}
"""


def _fenced(page: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (ROOT / page).read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_file_examples_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tool, source, config = _fenced("README.md", "yaml")
    (tmp_path / ".git").mkdir()
    (tmp_path / "tools.d").mkdir()
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "orders.yaml").write_text(ORDERS_SPEC, encoding="utf-8")
    (tmp_path / "tools.d" / "inventory.yaml").write_text(tool, encoding="utf-8")
    (tmp_path / "tools.d" / "orders.yaml").write_text(source, encoding="utf-8")
    (tmp_path / "reconciler.yaml").write_text(config, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOOLS_BASE_URL", "https://tools.example.com")
    monkeypatch.setenv("ORDERS_BASE_URL", "https://orders.example.com")
    code = main(["validate", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert (code, errors) == (0, [])
    assert sorted(report["tools"]) == ["check_inventory", "get_order"]  # overrides name it in full


def test_the_composite_action_example_uses_only_what_the_action_has() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    (example,) = [block for block in _fenced("docs/gitops.md", "yaml") if "OWNER/reconciler@" in block]
    steps = yaml.safe_load(example)
    (used,) = [s for s in steps if str(s.get("uses", "")).startswith("OWNER/reconciler@")]
    assert set(used["with"]) <= set(action["inputs"])
    assert used["with"]["command"] in action["inputs"]["command"]["description"]
    read = set(re.findall(r"steps\.plan\.outputs\.([\w-]+)", example))
    assert read and read <= set(action["outputs"])


def test_the_pre_commit_example_names_a_hook_that_exists() -> None:
    hooks = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    (example,) = [block for block in _fenced("docs/gitops.md", "yaml") if "repos:" in block]
    named = {hook["id"] for repo in yaml.safe_load(example)["repos"] for hook in repo["hooks"]}
    assert named and named <= hooks


def test_the_conversation_file_example_passes_against_the_repositorys_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/conversations.md's example, as a file of conversations.d beside this repository's tools.d, passes
    `reconciler test` (the embedded gateway plays its script)."""
    (example,) = _fenced("docs/conversations.md", "yaml")
    (tmp_path / ".git").mkdir()
    shutil.copytree(ROOT / "tools.d", tmp_path / "tools.d")
    (tmp_path / "conversations.d").mkdir()
    (tmp_path / "conversations.d" / "example.yaml").write_text(example, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = main(["test"])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "ok    conversations.d/example.yaml (1 turn, 1 tool call)" in captured.out


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - {"test", "completion"}))
def test_each_usage_line_names_the_arguments_as_the_readme_does(name: str) -> None:
    """`apply --help` said `[SOURCE]` and plan's `[DIRECTORY]` where the README and the help texts say `[DIR | PLAN]`
    and `[DIR]`. (`test` and `completion` show their default and their choices instead.)"""
    synopsis = _readme_commands()[name].split(None, 2)[2:] or [""]
    arguments = re.match(r"((?:\[[A-Z][A-Z| ]*\]|[A-Z]+)(?: |$))*", synopsis[0])
    assert arguments is not None
    usage = _help_text(name).splitlines()[0]
    assert usage == f"Usage: reconciler {name} [OPTIONS] {arguments.group(0).strip()}".rstrip()


def _keys(value: object, path: str, found: dict[str, set[str]]) -> None:
    """Every key of `value` by where it sits (`changes[].fields[]`), checking each object's keys are sorted."""
    if isinstance(value, dict):
        assert list(value) == sorted(value), f"{path or 'the document'}: keys not sorted"
        found.setdefault(path, set()).update(value)
        for key, inner in value.items():
            if key not in ("before", "after", "summary"):  # tool bodies (the target's form); counts listed whole
                _keys(inner, f"{path}.{key}".lstrip("."), found)
    elif isinstance(value, list):
        for item in value:
            _keys(item, f"{path}[]", found)


def test_the_output_page_names_every_key_of_every_json_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON forms a CI script reads were documented nowhere but in the code. docs/output.md names each key
    of each document (a plan with a create, an update and a field diff; a validate warning; a failed
    conversation; an export summary), and every document ends with a newline with its keys sorted."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(ROOT / "tools.d", tmp_path / "tools.d")
    shutil.copytree(ROOT / "conversations.d", tmp_path / "conversations.d")
    monkeypatch.chdir(tmp_path)
    page = (ROOT / "docs" / "output.md").read_text(encoding="utf-8")

    def document(*argv: str, code: int = 0) -> object:
        assert main(list(argv)) == code
        out = capsys.readouterr().out
        assert out.endswith(("}\n", "]\n")), f"{argv}: no trailing newline"
        return json.loads(out)

    assert main(["apply", "--auto-approve"]) == 0
    inventory = tmp_path / "tools.d" / "inventory.yaml"
    inventory.write_text(inventory.read_text(encoding="utf-8").replace("real-time", "live"), encoding="utf-8")
    (tmp_path / "tools.d" / "new.yaml").write_text(
        "name: new_tool\ndescription: New.\nendpoint: https://tools.example.com/new\n"
        "parameters: {q: {type: string}}\n",  # no description: a warning
        encoding="utf-8",
    )
    conversation = tmp_path / "conversations.d" / "order_status.yaml"
    conversation.write_text(conversation.read_text(encoding="utf-8").replace("shipped\n", "lost\n"), encoding="utf-8")
    capsys.readouterr()
    found: dict[str, set[str]] = {}
    plan = document("plan", "--format", "json", "--out", str(tmp_path / "saved.json"))
    assert {c["action"] for c in plan["changes"]} == {"create", "update"}  # type: ignore[index]
    assert document("show", str(tmp_path / "saved.json"), "--format", "json") == plan
    for name, value in (
        ("plan", plan),
        ("validate", document("validate", "--format", "json")),
        ("test", document("test", "--format", "json", code=1)),
        ("export", document("export", "--format", "json")),
    ):
        _keys(value, name, found)
    assert found["validate.diagnostics[]"] and found["test.conversations[].problems[]"]
    assert found["plan.changes[].fields[]"]
    summary_keys = set(plan["summary"])  # type: ignore[index]
    undocumented = sorted(
        f"{where}: {key}"
        for where, keys in found.items()
        for key in keys | (summary_keys if where == "plan" else set())
        if f"`{key}`" not in page
    )
    assert undocumented == []
