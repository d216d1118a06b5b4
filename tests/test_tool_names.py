"""The default rule for tool names answers as RE2 does (validate checks it with the standard library)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from reconciler.config import Limits, compile_pattern
from reconciler.validate.tool_rules import _DEFAULT_NAME

RE2_RULE = compile_pattern(Limits.name_pattern)


# no lone surrogates: the loader refuses them (they are not Unicode text), and RE2 cannot take them
@given(st.text(st.sampled_from("aZ09_-.\n é") | st.characters(exclude_categories=["Cs"]), max_size=70))
@example("a" * 64)
@example("a" * 65)
@example("name\n")
@example("")
def test_the_default_name_rule_is_re2s(name: str) -> None:
    assert (_DEFAULT_NAME.fullmatch(name) is not None) == (RE2_RULE.fullmatch(name) is not None)
