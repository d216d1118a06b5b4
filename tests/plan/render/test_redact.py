"""No secret reaches any output: every occurrence in any rendered value becomes `(sensitive)`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from reconciler.plan.model import MISSING, Change, FieldChange, Plan
from reconciler.plan.render import REDACTED, render_json, render_markdown, render_text
from reconciler.plan.render._redact import _redacted, redact_plan, redact_value, secret_pattern

SECRET = "s3cr3t-T0ken"
QUOTED = 'pa"ss\\word<&>'
NUMBER = 8675309

RENDERERS: dict[str, Callable[..., str]] = {"text": render_text, "markdown": render_markdown, "json": render_json}


def secret_plan() -> Plan:
    """Secrets in every place a value can hide: values, keys, paths, names, ids, reasons, warnings, target."""
    header = f"Bearer {SECRET}"
    create = Change(
        action="create",
        name="create_tool",
        after={
            "name": "create_tool",
            "request": {"headers": {"Authorization": header, "X-Key": QUOTED}},
            "labels": {f"key-{SECRET}": "v"},
            "rateLimit": {"requestsPerMinute": NUMBER},
            "schema": {"enum": [SECRET, "ok"]},
        },
    )
    update = Change(
        action="update",
        name="update_tool",
        id=f"id-{SECRET}",
        drift=True,
        reason=f"because {SECRET}",
        before={"request": {"headers": {"Authorization": "Bearer old" + SECRET}}},
        after={"request": {"headers": {"Authorization": header}}},
        fields=(
            FieldChange("request.headers.Authorization", "Bearer old" + SECRET, header),
            FieldChange(f"labels.{SECRET}", MISSING, QUOTED),
            FieldChange("rateLimit.burstSize", NUMBER, MISSING),
        ),
    )
    delete = Change(action="delete", name="gone", id="1", reason=f"no longer in tools.d ({QUOTED})")
    keep = Change(action="keep", name="kept", id="2", reason=f"protected {SECRET}", source=f"tools.d/{SECRET}.yaml")
    return Plan(
        changes=(create, update, delete, keep),
        target=f"org {SECRET}",
        warnings=(f"variable token={SECRET} looks like a secret",),
    )


def forms(secret: str) -> list[str]:
    """The secret as it is, and as each format would escape it."""
    return [secret, json.dumps(secret)[1:-1], secret.replace("&", "&amp;").replace("<", "&lt;")]


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_secrets_never_appear(renderer: str) -> None:
    output = RENDERERS[renderer](secret_plan(), redact=[SECRET, QUOTED, str(NUMBER)])
    for secret in (SECRET, QUOTED, str(NUMBER)):
        for form in forms(secret):
            assert form not in output
    assert REDACTED in output
    assert "Bearer (sensitive)" in output
    assert "Bearer old(sensitive)" in output


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_without_redact_the_values_are_shown(renderer: str) -> None:
    assert SECRET in RENDERERS[renderer](secret_plan())


def test_json_stays_valid_and_numbers_become_the_marker() -> None:
    document = json.loads(render_json(secret_plan(), redact=[SECRET, str(NUMBER)]))
    assert document["changes"][0]["after"]["rateLimit"]["requestsPerMinute"] == REDACTED
    assert document["changes"][0]["after"]["labels"] == {"key-(sensitive)": "v"}
    assert document["changes"][1]["fields"][1]["path"] == "labels.(sensitive)"
    assert document["changes"][1]["fields"][1]["kind"] == "add"
    assert document["target"] == "org (sensitive)"


def test_a_secret_inside_another_is_replaced_whole_and_the_marker_is_never_rewritten() -> None:
    plan = Plan(changes=(Change(action="create", name="t", after={"d": "xx-abcdef-xx sensitive"}),), target="t")
    redacted = redact_plan(plan, ["abc", "abcdef", "sensitive", ""])
    assert redacted.changes[0].after == {"d": "xx-(sensitive)-xx (sensitive)"}


def test_no_secrets_returns_the_plan_unchanged() -> None:
    plan = secret_plan()
    assert redact_plan(plan, []) is plan
    assert redact_plan(plan, [""]) is plan


def test_markdown_size_is_measured_after_redaction() -> None:
    # "(sensitive)" is longer than the 1-character secret, so redacting after measuring would overflow
    changes = tuple(Change(action="create", name=f"t{i}", after={"d": "x" * 200}) for i in range(30))
    markdown = render_markdown(Plan(changes=changes, target="t"), redact=["x"], limit=5_000)
    assert len(markdown) <= 5_000
    assert "> Plan truncated:" in markdown


WORDS = st.sampled_from(["ab", "abc123", "x\ny", 'q"t', "ü€", "1e-05", "-7", "tab\tx", "\u2028"])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-99, 99) | st.floats(-1e-3, 1e-3) | WORDS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(WORDS, inner, max_size=3),
    max_leaves=10,
)


@given(VALUES, st.lists(WORDS | st.sampled_from(["b", "12", "e-0", "y", "x"]), min_size=1, max_size=2))
@example(["x\ny"], ["y"])  # in JSON text the `y` follows the `n` of `\n`: a short secret there is no word
@example({"tab\tx": 1}, ["x"])
@example([1e-05], ["e-05"])  # the standard library's text of the number, not orjson's
def test_a_value_is_redacted_as_a_walk_of_each_piece_would(value: Any, secrets: list[str]) -> None:
    """The one search over a value's JSON text that lets a secret-free value through never lets one pass."""
    pattern = secret_pattern(secrets)
    assert redact_value(value, pattern) == _redacted(value, pattern)
