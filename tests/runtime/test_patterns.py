"""A schema pattern from a published description cannot make a model's arguments hang the service."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.runtime import Runtime
from reconciler.runtime.patterns import ExplainingValidator
from tests.runtime.conftest import Upstream
from tests.runtime.test_runtime import call, hand_written

EVIL = "a" * 40 + "!"  # `^(a+)+$` with Python's backtracking `re`: about 2**40 steps


def patterned(url: str, pattern: str, **extra: Any) -> Any:
    schema = {"type": "object", "properties": {"sku": {"type": "string", "pattern": pattern}}, **extra}
    return hand_written("check", url, schema=schema)


@pytest.mark.timeout(5, method="signal")  # `re` checks signals while it backtracks: a hang fails, not stalls
@pytest.mark.parametrize("pattern", ["^(a+)+$", "^(a|a)*$", "^(a|aa)+$"])
def test_a_pathological_pattern_refuses_a_hostile_argument_promptly(upstream: Upstream, pattern: str) -> None:
    outcome = call(Runtime([patterned(upstream.url, pattern)]), "check", {"sku": EVIL})
    assert (outcome.status, outcome.error_code) == ("error", "INVALID_ARGUMENTS")
    assert "argument 'sku'" in (outcome.message or "") and "pattern" in (outcome.message or "")
    assert EVIL not in (outcome.message or "")
    assert upstream.received == []


@pytest.mark.timeout(5, method="signal")
def test_a_pathological_pattern_still_lets_a_matching_argument_through(upstream: Upstream) -> None:
    outcome = call(Runtime([patterned(upstream.url, "^(a+)+$")]), "check", {"sku": "a" * 40})
    assert outcome.status == "success", outcome
    assert len(upstream.received) == 1


@pytest.mark.timeout(5, method="signal")
def test_a_pattern_re2_cannot_run_is_still_enforced_in_bounded_time(upstream: Upstream) -> None:
    # a backreference: RE2 refuses it, jsonschema_rs's bounded fancy-regex decides; the call is refused
    outcome = call(Runtime([patterned(upstream.url, r"^(a+)+\1$")]), "check", {"sku": EVIL})
    assert (outcome.status, outcome.error_code) == ("error", "INVALID_ARGUMENTS")
    assert upstream.received == []


@pytest.mark.timeout(5, method="signal")
def test_pattern_properties_and_additional_properties_match_keys_with_re2(upstream: Upstream) -> None:
    schema = {
        "type": "object",
        "patternProperties": {"^(a+)+$": {"type": "integer"}},
        "additionalProperties": False,
    }
    tool = hand_written("check", upstream.url, schema=schema)
    outcome = call(Runtime([tool]), "check", {EVIL: 1})
    assert (outcome.status, outcome.error_code) == ("error", "INVALID_ARGUMENTS")
    assert call(Runtime([tool]), "check", {"a" * 40: 1}).status == "success"


@pytest.mark.timeout(5, method="signal")
def test_unevaluated_properties_match_keys_with_re2(upstream: Upstream) -> None:
    # jsonschema's own unevaluatedProperties finds the evaluated keys with Python's `re`
    schema = {
        "type": "object",
        "properties": {"sku": {"type": "string"}},
        "required": ["sku"],
        "patternProperties": {"^(a+)+$": {"type": "integer"}},
        "unevaluatedProperties": False,
    }
    tool = hand_written("check", upstream.url, schema=schema)
    outcome = call(Runtime([tool]), "check", {EVIL: 1})  # refused for the missing sku and the unevaluated key
    assert (outcome.status, outcome.error_code) == ("error", "INVALID_ARGUMENTS")
    assert "sku" in (outcome.message or "") and EVIL not in (outcome.message or "")
    assert call(Runtime([tool]), "check", {"sku": "x", "a" * 40: 1}).status == "success"
    assert upstream.received and len(upstream.received) == 1


_UNEVALUATED_SCHEMAS: list[dict[str, Any]] = [
    {"properties": {"a": {}}, "patternProperties": {"^x": {"type": "integer"}}, "unevaluatedProperties": False},
    {
        "allOf": [{"properties": {"a": {}}}],
        "anyOf": [{"patternProperties": {"b$": {}}}],
        "unevaluatedProperties": False,
    },
    {
        "if": {"properties": {"a": {"const": 1}}, "required": ["a"]},
        "then": {"properties": {"xb": {}}},
        "else": {"patternProperties": {"^a": {}}},
        "dependentSchemas": {"b": {"properties": {"ab": {}}}},
        "unevaluatedProperties": {"type": "integer"},
    },
    {"$defs": {"d": {"patternProperties": {"x": {}}}}, "$ref": "#/$defs/d", "unevaluatedProperties": False},
]


@pytest.mark.parametrize("schema", _UNEVALUATED_SCHEMAS)
@given(
    instance=st.dictionaries(
        st.sampled_from(["a", "b", "ab", "xb", "x", "ba", "xa"]), st.one_of(st.integers(), st.text(max_size=2))
    )
)
def test_unevaluated_properties_refuse_exactly_what_jsonschema_refuses(schema: dict[str, Any], instance: Any) -> None:
    # the same verdict as jsonschema's own keyword wherever `re` and RE2 agree (every pattern here)
    ours = any(e.validator == "unevaluatedProperties" for e in ExplainingValidator(schema).iter_errors(instance))
    theirs = jsonschema.Draft202012Validator(schema).iter_errors(instance)
    assert ours == any(e.validator == "unevaluatedProperties" for e in theirs)
