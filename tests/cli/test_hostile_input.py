"""Bad input: exit 1 within seconds, the file and line in the message, no traceback, nothing sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

GOOD = "name: ok_tool\ndescription: Does a thing.\nendpoint: https://tools.example.com/ok\n"


def _tool(**overrides: str) -> str:
    fields = {"name": "ok_tool", "description": "Does a thing.", "endpoint": "https://tools.example.com/ok"}
    fields.update(overrides)
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 9)}]")
    return "name: bomb\ndescription: d\nendpoint: https://e.example.com\nlabels:\n  " + "\n  ".join(lines) + "\n"


def _deep_nesting() -> str:
    return "name: deep\ndescription: d\nendpoint: https://e.example.com\nschema: " + "[" * 20000 + "]" * 20000 + "\n"


# (id, files {relative path: text or bytes}, expected location "file:line", expected words in the message)
CASES: list[tuple[str, dict[str, str | bytes], str, list[str]]] = [
    ("malformed-yaml", {"a.yaml": GOOD + "parameters: {sku: [unclosed\n"}, "tools.d/a.yaml:5", ["YAML syntax error"]),
    ("duplicate-key", {"a.yaml": GOOD + "name: again\n"}, "tools.d/a.yaml:4", ["duplicate key 'name'"]),
    (
        "unknown-key",
        {"a.yaml": GOOD + "descripton: typo\n"},
        "tools.d/a.yaml:4",
        ["unknown key 'descripton'", "did you mean 'description'?"],
    ),
    ("invalid-name", {"a.yaml": _tool(name="'check inventory!'")}, "tools.d/a.yaml:1", ["invalid tool name"]),
    (
        "long-description",
        {"a.yaml": _tool(description="x" * 300)},
        "tools.d/a.yaml:2",
        ["300 characters", "limit is 255"],
    ),
    (
        "eleven-parameters",
        {"a.yaml": GOOD + "parameters:\n" + "".join(f"  p{i}: {{type: string, description: d}}\n" for i in range(11))},
        "tools.d/a.yaml:4",
        ["11 parameters", "limit is 10"],
    ),
    (
        "unsupported-type",
        {"a.yaml": GOOD + "parameters:\n  when: {type: datetime, description: d}\n"},
        "tools.d/a.yaml:5",
        ["unsupported type 'datetime'", "format: date-time"],
    ),
    (
        "same-name-two-files",
        {"a.yaml": GOOD, "b.yaml": GOOD},
        "tools.d/b.yaml:1",
        ["duplicate tool name 'ok_tool'", "tools.d/a.yaml:1"],
    ),
    ("alias-bomb", {"a.yaml": _alias_bomb()}, "tools.d/a.yaml:", ["aliases expand past"]),
    # refused by our depth check or, in newer PyYAML, by the parser itself: either names the nesting
    ("deep-nesting", {"a.yaml": _deep_nesting()}, "tools.d/a.yaml:4", ["nesting"]),
    (
        "unset-variable",
        {"a.yaml": _tool(endpoint="${NOT_SET_ANYWHERE}/x")},
        "tools.d/a.yaml:3",
        ["NOT_SET_ANYWHERE is not set"],
    ),
    ("non-utf8", {"a.yaml": GOOD.encode() + b"labels: {team: caf\xe9}\n"}, "tools.d/a.yaml:4", ["not UTF-8"]),
    (
        "invalid-json-schema",
        {"a.yaml": GOOD + "schema:\n  type: object\n  properties:\n    q: {type: 5}\n"},
        "tools.d/a.yaml:7",
        ["not valid JSON Schema"],
    ),
    (  # jsonschema-rs's meta-check alone lets a broken regular expression through
        "invalid-regex-pattern",
        {"a.yaml": GOOD + 'schema:\n  type: object\n  properties:\n    q: {type: string, pattern: "(["}\n'},
        "tools.d/a.yaml:7",
        ["not valid JSON Schema", "'(['"],
    ),
    (
        "invalid-regex-pattern-property",
        {"a.yaml": GOOD + 'schema:\n  type: object\n  patternProperties:\n    "(?<x>a)": {type: string}\n'},
        "tools.d/a.yaml:6",
        ["not valid JSON Schema"],
    ),
    (
        "list-for-mapping",
        {"a.yaml": GOOD + "labels: [team, commerce]\n"},
        "tools.d/a.yaml:4",
        ["'labels' must be a mapping"],
    ),
    ("top-level-list", {"a.yaml": "- name: x\n"}, "tools.d/a.yaml:1", ["must be a mapping"]),
    ("ftp-endpoint", {"a.yaml": _tool(endpoint="ftp://files.example.com/x")}, "tools.d/a.yaml:3", ["https://"]),
    ("http-endpoint", {"a.yaml": _tool(endpoint="http://tools.example.com/x")}, "tools.d/a.yaml:3", ["uses http"]),
    ("tab-indentation", {"a.yaml": GOOD + "labels:\n\tteam: commerce\n"}, "tools.d/a.yaml:5", ["tab character"]),
    (
        "openapi-source-leaves-repository",
        {"a.yaml": "source:\n  openapi: ../../../../etc/passwd.yaml\n"},
        "tools.d/a.yaml:2",
        ["leaves the repository"],
    ),
    (
        "both-parameters-and-schema",
        {"a.yaml": GOOD + "parameters: {}\nschema: {type: object}\n"},
        "tools.d/a.yaml:5",
        ["not both"],
    ),
    (
        "context-collides",
        {
            "a.yaml": GOOD
            + "parameters:\n  user_id: {type: string, description: d}\ncontext:\n  user_id: conversation.user_id\n"
        },
        "tools.d/a.yaml:7",
        ["collides with a parameter"],
    ),
    (
        "missing-required",
        {"a.yaml": "name: x\ndescription: d\n"},
        "tools.d/a.yaml:1",
        ["missing required key 'endpoint'"],
    ),
    ("bad-json", {"a.json": '{"name": "x",\n "description": }'}, "tools.d/a.json:2", ["JSON syntax error"]),
    ("duplicate-json-key", {"a.json": '{"name": "x",\n "name": "y"}'}, "tools.d/a.json:2", ["duplicate key 'name'"]),
]


@pytest.mark.parametrize(("files", "where", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_its_place(
    repo: Path, run: Callable[..., object], files: dict[str, str | bytes], where: str, words: list[str]
) -> None:
    for name, text in files.items():
        path = repo / "tools.d" / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    result = run("validate", "tools.d")
    elapsed = time.monotonic() - started
    assert result.code == 1, result.output
    assert elapsed < 10
    assert where in result.output
    for word in words:
        assert word in result.output
    assert "Traceback" not in result.output


def test_every_error_is_reported_not_just_the_first(repo: Path, run: Callable[..., object]) -> None:
    (repo / "tools.d" / "a.yaml").write_text(_tool(name="'bad name'", endpoint="ftp://x"), encoding="utf-8")
    (repo / "tools.d" / "b.yaml").write_text(GOOD + "colour: red\n", encoding="utf-8")
    result = run("validate")
    lines = [line for line in result.out.splitlines() if ": error: " in line]
    assert [line.split(": error:")[0] for line in lines] == [
        "tools.d/a.yaml:1:1",
        "tools.d/a.yaml:3:1",
        "tools.d/b.yaml:4:1",
    ]


def test_an_unset_variable_is_one_error_not_a_cascade(repo: Path, run: Callable[..., object]) -> None:
    """The endpoint's own check would judge the unfilled `${NOT_SET_ANYWHERE}/x` text; only the cause is shown."""
    (repo / "tools.d" / "a.yaml").write_text(_tool(endpoint="${NOT_SET_ANYWHERE}/x"), encoding="utf-8")
    (repo / "tools.d" / "b.yaml").write_text(_tool(name="other", endpoint="ftp://x"), encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert [line for line in result.out.splitlines() if ": error: " in line] == [
        "tools.d/a.yaml:3:1: error: environment variable NOT_SET_ANYWHERE is not set; set it, or give a default "
        "as '${NOT_SET_ANYWHERE:-value}'",
        "tools.d/b.yaml:3:1: error: endpoint 'ftp://x' of 'other' must be an https:// URL",
    ]


def test_github_format_annotates_the_exact_line(repo: Path, run: Callable[..., object]) -> None:
    (repo / "tools.d" / "a.yaml").write_text(GOOD + "descripton: typo\n", encoding="utf-8")
    result = run("validate", "--format", "github")
    assert result.code == 1
    assert result.out.startswith("::error file=tools.d/a.yaml,line=4,col=1,title=reconciler::unknown key 'descripton'")


def test_github_format_caps_annotations(repo: Path, run: Callable[..., object]) -> None:
    for i in range(12):
        (repo / "tools.d" / f"t{i:02}.yaml").write_text(_tool(name=f"t{i}", endpoint="ftp://x"), encoding="utf-8")
    result = run("validate", "--format", "github")
    lines = result.out.splitlines()
    assert len([line for line in lines if line.startswith("::error")]) == 10
    assert lines[-1] == (
        "::notice title=reconciler::2 more findings not annotated (GitHub shows 10 of each kind); the log lists them"
    )
