"""The name a referenced schema gets in a tool's `$defs`: its pointer's last part, with every character outside
`[A-Za-z0-9_.-]` replaced by `_` (runs of them by one), so `#/$defs/<name>` needs no escaping; `schema` when
nothing is left. A shortcut takes names that are ASCII identifiers as they are: the law holds for any text."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from reconciler.compile.openapi.definitions import DefinitionNames

ROOT = Path("/repository")


def _expected(last: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", last) or "schema"


@given(st.text(max_size=40))
def test_a_definition_is_named_after_its_pointer_with_other_characters_replaced(last: str) -> None:
    names = DefinitionNames("/repository/api.json", {}, ROOT)
    name = names.name(("/repository/api.json", ("components", "schemas", last)))
    assert name == _expected(last)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", name)


def test_names_that_need_no_change_and_names_that_do() -> None:
    names = DefinitionNames("/repository/api.json", {}, ROOT)
    cases = {"Pet": "Pet", "_id9": "_id9", "9lives": "9lives", "a.b-c": "a.b-c", "naïve": "na_ve", "a b": "a_b"}
    for written, named in cases.items():
        assert names.name(("/repository/api.json", ("definitions", written))) == named
    assert names.name(("/repository/api.json", ("definitions", "  "))) == "_"
    assert names.name(("/repository/api.json", ("definitions", ""))) == "schema"
