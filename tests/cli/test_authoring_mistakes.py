"""Authoring mistakes a user meets through `validate`: each is refused with its place and what to do, or (when
it is no mistake) accepted, exactly as the docs say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GOOD = "name: ok_tool\ndescription: Does a thing.\nendpoint: https://tools.example.com/ok\n"


@pytest.mark.parametrize(
    "text",
    [
        "---\n" + GOOD + "---\n",  # a trailing separator, as many editors and generators write
        GOOD + "---\n# nothing here yet\n",
        "---\n---\n" + GOOD,
        GOOD + "...\n---\n",
    ],
    ids=["trailing-separator", "comment-only-document", "leading-empty-document", "end-marker-then-separator"],
)
def test_an_empty_document_is_skipped_as_an_empty_file_is(repo: Path, run: Callable[..., Any], text: str) -> None:
    (repo / "tools.d" / "a.yaml").write_text(text, encoding="utf-8")
    result = run("validate", "--strict")
    assert result.code == 0, result.output
    assert result.err.strip() == "valid: 1 tool, 0 errors, 0 warnings"


def test_an_explicit_null_document_is_refused_in_plain_words(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "tools.d" / "a.yaml").write_text(GOOD + "---\nnull\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert "tools.d/a.yaml:5:1: error: a document must be a mapping" in result.out
    assert "not null" in result.out
    assert "NoneType" not in result.output


@pytest.mark.parametrize(
    "reference",
    ["${DESCRIPTION_UNSET:-${OTHER_SET}}", "${DESCRIPTION_UNSET-${OTHER_SET}}", "${OTHER_SET:-${DESCRIPTION_UNSET}}"],
)
def test_a_reference_inside_a_default_is_refused_not_written_as_text(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, reference: str
) -> None:
    """The shell would expand the inner reference; the reconciler does not, so the text `${OTHER_SET}` (or half of
    it) went to the registry as the description, silently. It is refused at its line instead."""
    monkeypatch.setenv("OTHER_SET", "from the environment")
    monkeypatch.delenv("DESCRIPTION_UNSET", raising=False)
    (repo / "tools.d" / "a.yaml").write_text(
        f"name: ok_tool\ndescription: '{reference}'\nendpoint: https://tools.example.com/ok\n", encoding="utf-8"
    )
    result = run("validate")
    assert result.code == 1, result.output
    assert "tools.d/a.yaml:2:1: error: " in result.out
    assert "a default cannot hold another ${" in result.out
    assert run("render").code == 1


def test_a_literal_dollar_brace_in_a_default_is_still_written(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DESCRIPTION_UNSET", raising=False)
    (repo / "tools.d" / "a.yaml").write_text(
        "name: ok_tool\ndescription: 'costs $$5 ${DESCRIPTION_UNSET:-or less}'\n"
        "endpoint: https://tools.example.com/ok\n",
        encoding="utf-8",
    )
    result = run("render")
    assert result.code == 0, result.output
    assert '"description": "costs $$5 or less"' in result.out


@pytest.mark.parametrize(("labels", "shown"), [("{? [a, b] : c}", "a list"), ("{? {a: b} : c}", "a mapping")])
def test_a_key_that_is_not_text_is_named_as_written(
    repo: Path, run: Callable[..., Any], labels: str, shown: str
) -> None:
    (repo / "tools.d" / "a.yaml").write_text(GOOD + f"labels: {labels}\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert "tools.d/a.yaml:4:" in result.out
    assert f"a mapping key must be text, not {shown}" in result.out
    assert "Node(" not in result.output


def _annotated(lines: list[str], kind: str) -> list[str]:
    return [line.split(" ", 1)[1].split(",")[0] for line in lines if line.startswith(f"::{kind} ")]


def test_github_format_annotates_errors_even_after_ten_warnings(repo: Path, run: Callable[..., Any]) -> None:
    """GitHub shows ten annotations of each kind per step: ten warnings in an early file took every slot, and the
    error that fails the run, in a later file, was neither annotated nor in the log."""
    parameters = "".join(f"  p{i}: {{type: string}}\n" for i in range(10))  # ten warnings: no description
    (repo / "tools.d" / "a.yaml").write_text(GOOD + "parameters:\n" + parameters, encoding="utf-8")
    (repo / "tools.d" / "b.yaml").write_text(
        "name: other\ndescription: d\nendpoint: ftp://files.example.com/x\n", encoding="utf-8"
    )
    result = run("validate", "--format", "github")
    assert result.code == 1
    lines = result.out.splitlines()
    assert _annotated(lines, "error") == ["file=tools.d/b.yaml"]
    assert len(_annotated(lines, "warning")) == 10


def test_github_format_lists_in_the_log_what_it_cannot_annotate(repo: Path, run: Callable[..., Any]) -> None:
    for i in range(12):
        (repo / "tools.d" / f"t{i:02}.yaml").write_text(
            f"name: t{i}\ndescription: d\nendpoint: ftp://files.example.com/x\n", encoding="utf-8"
        )
    result = run("validate", "--format", "github")
    lines = result.out.splitlines()
    assert len(_annotated(lines, "error")) == 10
    assert "tools.d/t10.yaml:3:1: error: endpoint 'ftp://files.example.com/x' of 't10' must be an https:// URL" in lines
    assert "tools.d/t11.yaml:3:1: error: endpoint 'ftp://files.example.com/x' of 't11' must be an https:// URL" in lines
    assert lines[-1].startswith("::notice title=reconciler::2 more findings not annotated")


@pytest.mark.parametrize("written", ['""', "'  '", "${OWNER_UNSET_IN_CI:-}"])
def test_an_empty_ownership_value_is_refused(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    """Two repositories whose `managed_by` came out empty (GitHub's `${{ vars.X }}` is empty for a variable that
    does not exist) would each take the other's tools for their own, and prune them."""
    monkeypatch.delenv("OWNER_UNSET_IN_CI", raising=False)
    (repo / "tools.d" / "a.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "reconciler.yaml").write_text(f"managed_by: {written}\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert "reconciler.yaml:1:1: error: 'managed_by' is empty" in result.out
    assert run("plan").code == 1
    assert not (repo / ".reconciler").exists()


@pytest.mark.parametrize("limit", ["max_parameters", "max_description_length"])
def test_a_negative_limit_is_refused_in_reconciler_yaml_not_at_each_tool(
    repo: Path, run: Callable[..., Any], limit: str
) -> None:
    (repo / "tools.d" / "a.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "reconciler.yaml").write_text(f"limits:\n  {limit}: -1\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert [line for line in result.out.splitlines() if ": error: " in line] == [
        f"reconciler.yaml:2:3: error: 'limits.{limit}' must be 0 or more, not -1"
    ]


SELF_CONTAINED = (
    GOOD + "schema:\n  type: object\n  $defs:\n    sku: {type: string, description: A stock keeping unit}\n"
    "  properties:\n    a: {$ref: '#/$defs/sku'}\n    b: {$ref: '#/properties/a'}\n"
    "    c: {$ref: '#named'}\n    d: {$anchor: named, type: integer, description: d}\n"
)


def test_a_schema_whose_references_stay_inside_it_passes(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "tools.d" / "a.yaml").write_text(SELF_CONTAINED, encoding="utf-8")
    result = run("validate")
    assert result.code == 0, result.output
    assert ": error: " not in result.out


@pytest.mark.parametrize(
    ("field", "ref", "line", "words"),
    [
        ("schema", "http://127.0.0.1:9/s.json", 9, "outside the tool's schema"),
        ("schema", "common.yaml#/Sku", 9, "outside the tool's schema"),
        ("schema", "#/$defs/missing", 9, "points at nothing in the tool's schema"),
        ("schema", "#nowhere", 9, "points at nothing in the tool's schema"),
        ("parameters", "https://schemas.example.com/sku.json", 5, "outside the tool's schema"),
        ("output_schema", "#/$defs/gone", 7, "points at nothing in the tool's output_schema"),
    ],
)
def test_a_schema_reference_that_leaves_the_schema_or_points_at_nothing_is_refused(
    repo: Path, run: Callable[..., Any], field: str, ref: str, line: int, words: str
) -> None:
    """The schema is sent as written and `serve` compiles it to check the model's arguments: a remote `$ref` made
    the tool service fetch that URL, and a dangling one made it fail, while validate passed both."""
    documents = {
        "schema": "schema:\n  type: object\n  $defs: {x: {type: string}}\n  properties:\n"
        f"    a: {{description: d, $ref: '{ref}'}}\n",
        "parameters": f"parameters:\n  a: {{type: array, description: d, items: {{$ref: '{ref}'}}}}\n",
        "output_schema": f"output_schema:\n  type: object\n  properties:\n    a: {{$ref: '{ref}'}}\n",
    }
    text = GOOD + documents[field]
    if field == "schema":
        text = text.replace("  properties:\n    a:", "  properties:\n    z: {type: string, description: d}\n    a:")
    (repo / "tools.d" / "a.yaml").write_text(text, encoding="utf-8")
    result = run("validate")
    assert result.code == 1, result.output
    [error] = [line for line in result.out.splitlines() if ": error: " in line]
    assert error.startswith(f"tools.d/a.yaml:{line}:"), error
    assert f"$ref {ref!r}" in error and words in error
    assert run("render").code == 1


@pytest.mark.parametrize("label", ["managed-by", "reconciler-digest", "reconciler-source", "reconciler-protected"])
def test_a_label_the_reconciler_owns_is_refused_not_silently_replaced(
    repo: Path, run: Callable[..., Any], label: str
) -> None:
    """`labels: {managed-by: team-a}` was dropped without a word: the registry got `managed-by: reconciler`."""
    (repo / "tools.d" / "a.yaml").write_text(GOOD + f"labels:\n  team: a\n  {label}: team-a\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    [error] = [line for line in result.out.splitlines() if ": error: " in line]
    assert error.startswith(f"tools.d/a.yaml:6:3: error: label '{label}' of 'ok_tool' is the reconciler's own")
    assert run("render").code == 1


@pytest.mark.parametrize("depth", [200, 900])
def test_a_json_tool_nested_past_the_yaml_limit_is_refused_as_yaml_is(
    repo: Path, run: Callable[..., Any], depth: int
) -> None:
    """YAML past 128 levels is refused at load; the same tool written as JSON passed validate, and then render,
    plan and apply ended in a RecursionError (exit 3) on every run."""
    nested = '{"items": ' * depth + "{}" + "}" * depth
    (repo / "tools.d" / "a.json").write_text(
        '{"name": "ok_tool", "description": "Does a thing.", "endpoint": "https://tools.example.com/ok",\n'
        f' "schema": {{"type": "object", "properties": {{"a": {nested}}}}}}}\n',
        encoding="utf-8",
    )
    result = run("validate")
    assert result.code == 1, result.output
    assert "tools.d/a.json:2:" in result.out and "nesting deeper than 128 levels; flatten the document" in result.out
    for command in ("render", "plan"):
        assert run(command).code == 1


@pytest.mark.parametrize(
    ("base", "words"),
    [
        ("https://tools.example.com\nX-Forwarded-For: 10.0.0.1", "a space or control character"),
        ("https://tools.example.com\t", "a space or control character"),
        ("https://tools.example.com/v1 beta", "a space or control character"),
        ("https://tools.example.com:99999", "port"),
        ("https://tools.example.com:0", "port"),
    ],
)
def test_an_endpoint_that_is_no_url_is_refused_even_when_urlsplit_accepts_it(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, base: str, words: str
) -> None:
    """urlsplit drops line breaks and tabs before it parses, and does not check the port: an endpoint holding a
    line break from a variable (a header's worth of text after it) passed validate and was sent as written."""
    monkeypatch.setenv("TOOLS_BASE_URL", base)
    (repo / "tools.d" / "a.yaml").write_text(
        "name: ok_tool\ndescription: Does a thing.\nendpoint: ${TOOLS_BASE_URL}/ok\n", encoding="utf-8"
    )
    result = run("validate")
    assert result.code == 1, result.output
    [error] = [line for line in result.out.splitlines() if ": error: " in line]
    assert error.startswith("tools.d/a.yaml:3:1: error: endpoint ") and words in error


def test_a_tools_folder_linked_from_outside_keeps_the_repositorys_reconciler_yaml(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With tools.d a link to a folder outside the repository, the repository was looked for from where the link
    leads: its reconciler.yaml was ignored without a word, so sensitive_variables no longer hid a secret, and
    managed_by and target fell back to their defaults."""
    elsewhere = tmp_path_factory.mktemp("shared-tools")
    (elsewhere / "a.yaml").write_text(
        "name: ok_tool\ndescription: 'uses ${PARTNER}'\nendpoint: https://tools.example.com/ok\n", encoding="utf-8"
    )
    (repo / "tools.d").rmdir()
    (repo / "tools.d").symlink_to(elsewhere, target_is_directory=True)
    (repo / "reconciler.yaml").write_text("sensitive_variables: [PARTNER]\nmanaged_by: team-a\n", encoding="utf-8")
    monkeypatch.setenv("PARTNER", "partner-value-1234")
    result = run("render")
    assert result.code == 0, result.output
    assert "partner-value-1234" not in result.output
    assert '"description": "uses (sensitive)"' in result.out
    assert '"managed-by": "team-a"' in result.out


BOUND = (
    GOOD + "parameters:\n  id: {type: string, description: d, required: true}\n  q: {type: string, description: d}\n"
    "context:\n  session: conversation.session_token\n"
)


def _with_request(method: str = "GET", url: str = "https://api.example.com/orders/{id}", extra: str = "") -> str:
    return BOUND + (
        f"request:\n  method: {method}\n  url: '{url}'\n  parameters:\n    id: {{in: path, name: id}}\n"
        f"    q: {{in: query, name: q}}\n    session: {{in: header, name: X-Session}}\n{extra}"
    )


def test_a_written_request_binding_as_export_writes_it_passes(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "tools.d" / "a.yaml").write_text(_with_request(), encoding="utf-8")
    result = run("validate", "--strict")
    assert result.code == 0, result.output


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (_with_request(method="FETCH"), 10, "method 'FETCH' of 'ok_tool' is not an HTTP method"),
        (_with_request(url="http://api.example.com/orders/{id}"), 11, "uses http; use https"),
        (_with_request(url="ftp://api.example.com/orders/{id}"), 11, "must be an https:// URL"),
        (_with_request(url="https://api.example.com/orders/{order}"), 11, "'{order}', which no path parameter"),
        (
            _with_request().replace("    q: {in: query, name: q}\n", ""),
            12,
            "parameter 'q' of 'ok_tool' has no place in its request",
        ),
        (
            _with_request().replace("    session: {in: header, name: X-Session}\n", ""),
            12,
            "parameter 'session' of 'ok_tool' has no place in its request",
        ),
    ],
    ids=["method", "http", "ftp", "unbound-template", "unbound-parameter", "unbound-context"],
)
def test_a_written_request_binding_that_cannot_be_called_is_refused(
    repo: Path, run: Callable[..., Any], text: str, line: int, words: str
) -> None:
    """`serve` calls a tool through its `request` exactly as written: an http URL sent the arguments (and the
    credentials) in clear text, and an argument with no place in the binding failed every call."""
    (repo / "tools.d" / "a.yaml").write_text(text, encoding="utf-8")
    result = run("validate")
    assert result.code == 1, result.output
    [error] = [found for found in result.out.splitlines() if ": error: " in found]
    assert error.startswith(f"tools.d/a.yaml:{line}:"), error
    assert words in error


@pytest.mark.parametrize("name", ["a b", "", "$user"])
def test_a_context_entry_is_named_as_a_parameter_is(repo: Path, run: Callable[..., Any], name: str) -> None:
    """A context entry is a parameter the conversation fills (a Data Action's input, an argument serve places):
    `parameters: {'a b': …}` was refused, `context: {'a b': …}` passed."""
    (repo / "tools.d" / "a.yaml").write_text(GOOD + f"context:\n  '{name}': conversation.user_id\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 1, result.output
    [error] = [line for line in result.out.splitlines() if ": error: " in line]
    assert error.startswith("tools.d/a.yaml:5:") and f"context entry name {name!r} of 'ok_tool' is not allowed" in error


def test_a_reference_in_a_key_is_refused_not_sent_as_text(
    repo: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only values are interpolated: `labels: {${TEAM}: x}` sent a label named `${TEAM}`, without a word."""
    monkeypatch.setenv("TEAM", "commerce")
    (repo / "tools.d" / "a.yaml").write_text(GOOD + "labels:\n  ${TEAM}: owner\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 1, result.output
    [error] = [line for line in result.out.splitlines() if ": error: " in line]
    assert error.startswith("tools.d/a.yaml:5:3: error: key '${TEAM}'") and "only values are" in error


@pytest.mark.parametrize(("written", "read"), [("1.0", "1.0"), ("007", "7"), ("false", "false (a boolean)")])
def test_a_value_yaml_reads_as_no_text_says_to_quote_it(
    repo: Path, run: Callable[..., Any], written: str, read: str
) -> None:
    """`labels: {version: 1.0}` or `{gdpr: false}`: YAML's types surprise; the error says what was read and what
    to do."""
    (repo / "tools.d" / "a.yaml").write_text(GOOD + f"labels:\n  version: {written}\n", encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert (
        f"tools.d/a.yaml:5:3: error: 'labels.version' must be a string, not {read}; YAML read {written} as "
        f"no text: quote it ('{written}')"
    ) in result.out


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("- " + GOOD.replace("\n", "\n  ", 2), "a list"),  # several tools in one file, as a Kubernetes List is
        ("[]\n", "a list"),
        ("just some words\n", "text"),
        ("42\n", "a number"),
    ],
    ids=["list-of-tools", "empty-list", "text", "number"],
)
def test_a_document_that_is_not_a_mapping_is_named_in_the_files_words(
    repo: Path, run: Callable[..., Any], text: str, kind: str
) -> None:
    """A file holding a list of tools was refused as "not LocatedList": the loader's own class, which a user
    cannot act on. It names what the file holds, and for a list how to write several tools in one file."""
    (repo / "tools.d" / "a.yaml").write_text(text, encoding="utf-8")
    result = run("validate")
    assert result.code == 1
    assert "tools.d/a.yaml:1:1: error: a document must be a mapping" in result.out
    assert f"not {kind}" in result.out
    assert "Located" not in result.output
    if kind == "a list":
        assert "one tool per document, separated by `---`" in result.out


def test_a_conversation_file_that_is_not_a_mapping_says_what_it_takes(repo: Path, run: Callable[..., Any]) -> None:
    """A conversation file written as a list was refused as "'the file' must be a mapping", quoting words as if
    they were a key of it. It says what a conversation file is and which keys it takes."""
    (repo / "tools.d" / "a.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "conversations.d").mkdir()
    (repo / "conversations.d" / "c.yaml").write_text("- name: x\n  turns: []\n", encoding="utf-8")
    result = run("test")
    assert result.code == 1
    assert "conversations.d/c.yaml:1:1: error: a conversation file must be a mapping of name, " in result.output
    assert "turns" in result.output
    assert "'the file'" not in result.output
