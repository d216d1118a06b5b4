"""render: exactly the payloads that would be sent, byte-identical whatever order the files are read in."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import reconciler.load as load
from reconciler.compile import DIGEST_LABEL, digest

TOOLS = {
    "a.yaml": "name: zeta\ndescription: Last by name.\nendpoint: https://e.example.com/z\n"
    "parameters:\n  q: {type: string, description: Query, required: true}\n  n: {type: integer, description: N}\n",
    "b/c.yaml": "name: alpha\ndescription: First by name.\nendpoint: https://e.example.com/a\n"
    "labels: {team: x, area: y}\n---\nname: mid\ndescription: Middle.\nendpoint: https://e.example.com/m\n"
    "context: {user: conversation.user_id}\n",
    "d.json": '{"name": "json_tool", "description": "From JSON.", "endpoint": "https://e.example.com/j",'
    ' "schema": {"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "string"}},'
    ' "required": ["b", "a"]}}',
}


@pytest.fixture
def tools_dir(repo: Path) -> Path:
    for name, text in TOOLS.items():
        path = repo / "tools.d" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return repo / "tools.d"


def test_registry_form_is_the_tool_input_with_ownership(tools_dir: Path, run: Callable[..., Any]) -> None:
    result = run("render", "tools.d")
    assert result.code == 0, result.err
    payloads = json.loads(result.out)
    assert [p["name"] for p in payloads] == ["alpha", "json_tool", "mid", "zeta"]
    zeta = payloads[-1]
    assert zeta["schema"] == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"q": {"type": "string", "description": "Query"}, "n": {"type": "integer", "description": "N"}},
        "required": ["q"],
    }
    assert zeta["executionEndpoint"] == "https://e.example.com/z"
    assert zeta["labels"]["managed-by"] == "reconciler"
    assert zeta["labels"]["reconciler-source"] == "tools.d/a.yaml"
    assert zeta["labels"][DIGEST_LABEL] == digest(zeta)
    assert payloads[2]["context"] == {"user": "conversation.user_id"}


def test_openai_form_leaves_context_out(tools_dir: Path, run: Callable[..., Any]) -> None:
    result = run("render", "--format", "openai")
    functions = json.loads(result.out)
    mid = next(f for f in functions if f["function"]["name"] == "mid")
    assert mid == {
        "type": "function",
        "function": {"name": "mid", "description": "Middle.", "parameters": {"type": "object", "properties": {}}},
    }
    assert "$schema" not in json.dumps(functions)


@pytest.mark.parametrize("seed", range(5))
def test_render_is_byte_identical_across_file_orders(
    tools_dir: Path, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    baseline = run("render").out
    assert run("render").out == baseline
    original = load.discover

    def shuffled(directory: Path, **options: Any) -> list[Path]:
        files = original(directory, **options)
        random.Random(seed).shuffle(files)
        return files

    monkeypatch.setattr(load, "discover", shuffled)
    for output_format in ("registry", "openai"):
        monkeypatch.setattr(load, "discover", original)
        expected = run("render", "--format", output_format).out
        monkeypatch.setattr(load, "discover", shuffled)
        assert run("render", "--format", output_format).out == expected


def test_render_refuses_invalid_input(repo: Path, run: Callable[..., Any]) -> None:
    (repo / "tools.d" / "bad.yaml").write_text("name: x\n", encoding="utf-8")
    result = run("render")
    assert result.code == 1
    assert result.out == ""
    assert "tools.d/bad.yaml:1:1: error: missing required key 'description'" in result.err
