"""A schema pattern from a published description cannot make a model's arguments hang the service."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.runtime import Runtime
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
