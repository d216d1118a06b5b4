"""The law of `conceal`: a credential a call sent never survives in its output, and an output without it is
left exactly as it was (serve passes upstream answers on as received)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.redaction import encodings
from reconciler.runtime.security import conceal

# none of the letters of "(sensitive)": a secret made of "(sensitive)"'s own letters would be its own marker
SECRETS = st.text(alphabet='ABCDEFGHIJ0123456789/"\\%&+=-_.:~ é\u2028', min_size=8, max_size=24)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, inner in value.items() for text in (key, *_strings(inner))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


@settings(deadline=None)  # each secret compiles its own pattern: a loaded machine must not fail the law
@given(st.data())
def test_a_sent_secret_never_survives_in_an_output_and_an_output_without_it_is_untouched(data: st.DataObject) -> None:
    secret = data.draw(SECRETS)
    planted = st.builds(lambda a, b: a + secret + b, st.text(max_size=4), st.text(max_size=4))
    strings = st.one_of(st.text(max_size=8), planted)
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | strings,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
        max_leaves=10,
    )
    output = data.draw(values)
    concealed = conceal(output, (secret,))
    assert not any(secret in text for text in _strings(concealed))
    text = json.dumps(output, ensure_ascii=False)
    if not any(form in text for form in encodings(secret)):
        assert concealed is output


@settings(deadline=None)
@given(SECRETS, st.text(max_size=20), st.text(max_size=20))
def test_a_text_output_has_the_secret_replaced_in_each_form_it_was_echoed_in(secret: str, head: str, tail: str) -> None:
    for form in (secret, json.dumps(secret)[1:-1], json.dumps(secret)[1:-1].replace("/", "\\/")):
        concealed = conceal(head + form + tail, (secret,))
        assert form not in concealed
        assert "(sensitive)" in concealed


@settings(deadline=None)
@given(
    st.text(alphabet="ABCDEFGHIJ0123456789/%&+=-_.:~", min_size=8, max_size=24),
    st.text(max_size=20),
    st.text(max_size=20),
    st.sampled_from(["utf-16-le", "utf-16-be"]),
)
def test_a_secret_in_utf_16_read_as_utf_8_does_not_survive(secret: str, head: str, tail: str, codec: str) -> None:
    """An upstream's UTF-16 text that names its encoding neither by label nor by byte order mark is read as UTF-8:
    each letter of the echoed key then stands beside a NUL, which a model reads through. Without the NULs, the key
    is not there, in any form it was echoed in."""
    for form in (secret, json.dumps(secret)[1:-1], quote(secret, safe="")):
        read = (head + form + tail).encode(codec, "surrogatepass").decode("utf-8", "replace")
        concealed = conceal(read, (secret,))
        assert form not in concealed.replace("\x00", ""), (read, concealed)
