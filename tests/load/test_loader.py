"""The loader: positions, limits and interpolation."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import Diagnostic, InputError
from reconciler.load import LocatedDict, interpolate, load_directory, read_documents
from reconciler.load.files import discover, read_regular_file
from reconciler.load.yaml_loader import maybe_deep_block
from reconciler.model import SourceLocation


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_knows_its_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "name: x\nparameters:\n  sku:\n    type: string\n---\nname: y\n")
    first, second = read_documents(path, "t.yaml")
    assert isinstance(first.content, LocatedDict)
    assert first.locate("parameters", "sku", "type") == SourceLocation("t.yaml", 4, 5)
    assert first.locate("parameters", "missing") == SourceLocation("t.yaml", 2, 1)
    assert second.location == SourceLocation("t.yaml", 6, 1)
    assert second.index == 1


def test_json_positions_are_recovered_when_asked(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", '{\n  "a": {\n    "b": [1, {"c": 2}]\n  }\n}')
    [document] = read_documents(path, "t.json")
    assert document.content == {"a": {"b": [1, {"c": 2}]}}
    assert document.locate("a", "b", 1, "c") == SourceLocation("t.json", 3, 15)


@pytest.mark.parametrize("openapi", [True, False])
def test_json_bytes_go_to_the_parser_as_read_with_or_without_a_bom(tmp_path: Path, openapi: bool) -> None:
    text = '{"openapi": "3.1.0", "x": "caf\u00e9 \u2713"}' if openapi else '{"name": "caf\u00e9 \u2713"}'
    path = tmp_path / "t.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    [document] = read_documents(path, "t.json")
    assert "caf\u00e9 \u2713" in document.content.values()


@pytest.mark.parametrize("openapi", [True, False])
def test_json_that_is_not_utf8_is_refused_at_its_line(tmp_path: Path, openapi: bool) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b'{\n  "openapi": "3.1.0",\n  "x": "caf\xe9"\n}' if openapi else b'{\n\n  "x": "caf\xe9"\n}')
    with pytest.raises(InputError) as raised:
        read_documents(path, "t.json")
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.location == SourceLocation("t.json", 3, 12)
    assert "not UTF-8 (byte 0xe9)" in diagnostic.message


def test_yaml_scalars_become_json_values(tmp_path: Path) -> None:
    """YAML 1.2's core schema, which OpenAPI asks for: YAML 1.1's `yes`/`off`, octal `010`, `1_000` and base-60
    `12:30` are text (a status enum `[active, off]` keeps its `off`, a country code `NO` stays Norway)."""
    text = (
        "i: 0x1f\nf: 1.5e+3\nb: true\nn: ~\nd: 2024-01-02\ns: '010'\no: 010\noc: 0o10\ninf: '.inf'\n"
        "y: yes\noff: off\nno: NO\nsep: 1_000\nclock: 12:30\nbin: 0b11\n"
    )
    [document] = read_documents(write(tmp_path / "t.yaml", text), "t.yaml")
    assert document.content == {
        "i": 31,
        "f": 1500.0,
        "b": True,
        "n": None,
        "d": "2024-01-02",
        "s": "010",
        "o": 10,
        "oc": 8,
        "inf": ".inf",  # JSON has no infinity: unquoted, it is refused (tests/cli/test_hostile_values.py)
        "y": "yes",
        "off": "off",
        "no": "NO",
        "sep": "1_000",
        "clock": "12:30",
        "bin": "0b11",
    }


def test_aliases_and_merge_keys_are_expanded_within_budget(tmp_path: Path) -> None:
    text = "base: &base {type: string, description: d}\nsku:\n  <<: *base\n  description: own\nsite: *base\n"
    [document] = read_documents(write(tmp_path / "t.yaml", text), "t.yaml")
    assert document.content["sku"] == {"type": "string", "description": "own"}
    assert document.content["site"] == {"type": "string", "description": "d"}
    assert document.content["site"] is not document.content["base"]


def test_explicit_keys_override_merged_ones_but_not_each_other(tmp_path: Path) -> None:
    [document] = read_documents(write(tmp_path / "t.yaml", "<<: {a: 1, b: 2}\na: 3\n"), "t.yaml")
    assert document.content == {"a": 3, "b": 2}
    assert document.locate("b") == SourceLocation("t.yaml", 1, 12)
    with pytest.raises(InputError, match="duplicate key 'a'"):
        read_documents(write(tmp_path / "u.yaml", "a: 1\n<<: {a: 2}\na: 3\n"), "u.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!python/object:os.system ls\n", "unsupported YAML tag"),
        ("? [a, b]\n: 1\n", "must be text, not a list"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        # the loader's own tag for plain scalars, written on a collection used as a key: it was an internal error
        ("!<reconciler:plain> [a]: b\n", "must be text, not a list"),
        ("!<reconciler:plain> {a: 1}: b\n", "must be text, not a mapping"),
    ],
)
def test_refused_yaml(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        read_documents(write(tmp_path / "t.yaml", text), "t.yaml")
    assert info.value.diagnostics[0].location.file == "t.yaml"


def test_a_plain_text_reads_the_same_in_every_place_and_file(tmp_path: Path) -> None:
    """Plain scalars seen before are typed from memory: a text keeps its type as a value, as a key, and in the
    next file, and a key that reads as a boolean or null is still refused after the text was a value."""
    text = "true: 1\nx: [true, 010, 0x1F, 1_000, ~, '', 2024-01-02, .5, \"true\"]\n"
    for name in ("a.yaml", "b.yaml"):
        with pytest.raises(InputError, match="must be a string"):
            read_documents(write(tmp_path / name, text), name)
    values = "x: [true, 010, 0x1F, 1_000, ~, '', 2024-01-02, .5, \"true\", yes]\n010: ok\n"
    for name in ("c.yaml", "d.yaml"):
        [document] = read_documents(write(tmp_path / name, values), name)
        expected = [True, 10, 31, "1_000", None, "", "2024-01-02", 0.5, "true", "yes"]
        assert document.content == {"x": expected, "10": "ok"}
    with pytest.raises(InputError, match="must be a string"):
        read_documents(write(tmp_path / "e.yaml", "~: 1\n"), "e.yaml")


def test_discovery_is_recursive_sorted_and_ignores_other_files(tmp_path: Path) -> None:
    for name in ["b.yaml", "a/z.yml", "a/b.json", "c.txt", ".hidden.yaml", ".git/x.yaml", "README.md"]:
        write(tmp_path / name, "{}")
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == ["a/b.json", "a/z.yml", "b.yaml"]


def test_load_directory_collects_errors_from_every_file(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "a: [\n")
    write(tmp_path / "b.yaml", "- just a list\n")
    write(tmp_path / "c.yaml", "name: fine\n")
    state = load_directory(tmp_path, {})
    assert [d.location.file.endswith(("a.yaml", "b.yaml")) for d in state.diagnostics] == [True, True]
    assert [d.content["name"] for d in state.documents] == ["fine"]


@pytest.mark.parametrize(
    ("value", "environ", "expected"),
    [
        ("${HOST}/x", {"HOST": "https://h"}, "https://h/x"),
        ("${HOST:-https://default}/x", {}, "https://default/x"),
        ("${HOST:-https://default}/x", {"HOST": "https://set"}, "https://set/x"),
        ("$${HOST} stays", {"HOST": "h"}, "${HOST} stays"),
        ("no variables $5", {}, "no variables $5"),
    ],
)
def test_interpolation(value: str, environ: dict[str, str], expected: str) -> None:
    diagnostics: list[Diagnostic] = []
    used: dict[str, str] = {}
    result = interpolate({"v": value, "l": [value]}, "f.yaml", environ, diagnostics, used)
    assert result == {"v": expected, "l": [expected]}
    assert diagnostics == []
    assert used == {k: v for k, v in environ.items() if "${" + k in value and not value.startswith("$$")}


@pytest.mark.parametrize(
    ("value", "message"), [("${UNSET_X}", "UNSET_X is not set"), ("${bad name}", "malformed"), ("${OPEN", "unclosed")]
)
def test_interpolation_errors(value: str, message: str) -> None:
    diagnostics: list[Diagnostic] = []
    interpolate({"v": value}, "f.yaml", {}, diagnostics, {})
    assert len(diagnostics) == 1
    assert message in diagnostics[0].message


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 20000 + "]" * 20000 + "\n",
        "a: " + "{k: " * 300 + "1" + "}" * 300 + "\n",
        "".join(" " * i + "k:\n" for i in range(200)) + " " * 200 + "v\n",
    ],
    ids=["flow-lists", "flow-maps-with-keys", "block"],
)
def test_deep_nesting_is_refused_before_it_is_composed(tmp_path: Path, text: str) -> None:
    # Our depth check or, since PyYAML 6.0.4, the parser's own may refuse it: the behaviour is what counts (an
    # input error at a line of the file that names the nesting), found without composing the tree.
    path = write(tmp_path / "t.yaml", text)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            read_documents(path, "t.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [diagnostic] = info.value.diagnostics
    assert "nesting" in diagnostic.message
    assert diagnostic.location.file == "t.yaml"
    assert 1 <= diagnostic.location.line <= text.count("\n")
    assert peak < 20 * 2**20


@pytest.mark.parametrize("written", ["${PRICE}", '"\\x24{PRICE}"', '"\\u0024{PRICE}"', '"$${PRICE}"'])
def test_a_reference_is_read_however_the_dollar_is_written(tmp_path: Path, written: str) -> None:
    """Files without a `$` skip interpolation; an escape that writes one still counts."""
    write(tmp_path / "a.yaml", f"name: a\ndescription: {written}\n")
    write(tmp_path / "b.json", '{"name": "b", "description": "\\u0024{PRICE}"}')
    write(tmp_path / "c.yaml", "name: c\ndescription: no reference\n")
    state = load_directory(tmp_path, {"PRICE": "5"})
    described = {document.content["name"]: document.content["description"] for document in state.documents}
    assert described == {"a": "${PRICE}" if written.startswith('"$$') else "5", "b": "5", "c": "no reference"}
    assert state.variables == {"PRICE": "5"}


@pytest.mark.parametrize(
    ("cwd", "given", "prefix"),
    [
        ("", "tools.d", "tools.d/"),
        ("", "./tools.d/", "tools.d/"),
        ("tools.d", ".", ""),
        ("tools.d/sub", "..", "../"),
        ("other", "../tools.d", "../tools.d/"),
        ("", "ABSOLUTE", "tools.d/"),
    ],
)
def test_files_are_named_as_the_user_would_type_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cwd: str, given: str, prefix: str
) -> None:
    for name in ("tools.d/a.yaml", "tools.d/sub/b.yaml", "shared/c.yaml"):
        write(tmp_path / name, f"name: {Path(name).stem}\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "tools.d" / "linked").symlink_to(tmp_path / "shared")
    monkeypatch.chdir(tmp_path / cwd)
    directory = Path(tmp_path / "tools.d" if given == "ABSOLUTE" else given)
    state = load_directory(directory, {}, root=tmp_path)
    assert [document.file for document in state.documents] == [
        f"{prefix}a.yaml",
        f"{prefix}linked/c.yaml",
        f"{prefix}sub/b.yaml",
    ]


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 5])
def test_a_file_is_read_whole_whatever_its_size(tmp_path: Path, size: int) -> None:
    # read in one piece of the size the file says (kept as read, not joined), then to its end in chunks
    data = (bytes(range(256)) * (size // 256 + 1))[:size]
    path = tmp_path / "data.json"
    path.write_bytes(data)
    assert read_regular_file(path, "data.json") == data


@pytest.mark.parametrize("text", [b"", b" \n\t\r\x0b\x0c", b"\xef\xbb\xbf\n"])
def test_a_json_file_of_whitespace_has_no_documents(tmp_path: Path, text: bytes) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(text)
    assert read_documents(path) == []


_DEEP_BLOCK_AS_WRITTEN = re.compile(r"^[ \t-]{128,}", re.MULTILINE)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(["\n", "\r\n", "a", "- ", "\t", ":"]), st.text(" \t-", min_size=120, max_size=140)),
        max_size=12,
    ).map("".join)
)
def test_the_cheap_scan_for_deep_block_nesting_finds_what_the_multiline_pattern_finds(text: str) -> None:
    # check_depth's scan from line breaks stands for `^[ \t-]{128,}` in MULTILINE mode, which tried every character
    assert maybe_deep_block(text) == (_DEEP_BLOCK_AS_WRITTEN.search(text) is not None)
