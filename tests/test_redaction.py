"""The redaction law, over random secrets and texts: whatever a format does to a secret (JSON, HTML, URL or
GitHub-command escaping), the scrubbed text holds none of its forms; and a short value is hidden only where it
stands alone."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from reconciler.redaction import REDACTED, Redactor, credentials_in, encodings

SECRETS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="()"), min_size=6, max_size=30
).filter(lambda s: s not in REDACTED)
"""Without the marker's parentheses, no form of a secret can be made of the marker and the text around it (but
Hypothesis draws strings from our constants too, so a secret that is a piece of the marker itself is left out)."""
TEXT = st.text(max_size=40)


@given(secret=SECRETS, before=TEXT, after=TEXT)
def test_no_form_of_a_secret_survives_scrubbing(secret: str, before: str, after: str) -> None:
    redactor = Redactor([secret])
    for encode in (
        str,
        json.dumps,
        lambda t: json.dumps(t, ensure_ascii=False),
        html.escape,
        lambda t: quote(t, safe=""),
        lambda t: t.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"),
    ):
        form = encode(secret).strip('"')
        assert form not in redactor.scrub(encode(before + secret + after))


@given(value=st.text(alphabet="abcxyz0123", min_size=1, max_size=5), word=st.text(alphabet="abcxyz0123", min_size=1))
def test_a_short_value_is_hidden_where_it_stands_alone_not_inside_a_word(value: str, word: str) -> None:
    redactor = Redactor([value])
    assert redactor.scrub(f"key={value}&") == f"key={REDACTED}&"
    assert redactor.scrub(f"{word}{value}{word}") == f"{word}{value}{word}"


def test_credentials_are_found_where_urls_keep_them() -> None:
    live = {
        "executionEndpoint": "https://user:p%40ss@api.example.com/x?api_key=K1&page=2&sig=S2",
        "description": "Calls https://h.example.com/?access_token=T3 and nothing else",
        "labels": {"team": "key=notaurl"},
        "request": {"url": "https://h.example.com/x?token={token}&key=$input.key&sig=${input.sig}"},
    }
    assert credentials_in(live) == {"p@ss", "p%40ss", "K1", "S2", "T3"}


def test_a_variable_only_named_like_a_secret_counts_from_eight_characters() -> None:
    redactor = Redactor.from_environment(
        {"X_TOKEN_TTL": "1", "GITHUB_TOKEN": "ghp_longenough", "PARTNER": "ab", "HOME": "/root"}, listed=["PARTNER"]
    )
    assert redactor.values() == ("ab", "ghp_longenough")
    assert encodings('a"b<c') >= {'a\\"b<c', "a&quot;b&lt;c", "a%22b%3Cc"}


def test_credential_headers_are_found_and_templates_are_not() -> None:
    action = {
        "config": {
            "request": {
                "headers": {
                    "Authorization": "Bearer abc.def.ghi",
                    "X-Api-Key": "k-123456",
                    "X-Trace": "not-a-secret",
                    "Cookie": "${input.cookie}",
                }
            }
        },
        "context": {"session_token": "conversation.session_token"},
    }
    assert credentials_in(action) == {"Bearer abc.def.ghi", "abc.def.ghi", "k-123456"}


def test_credentials_are_found_wherever_they_sit_in_one_walk() -> None:
    live = [
        {"https://u:k3y-in-a-key@h.example.com/": "a URL written as a key"},
        {"steps": [{"headers": {"X-Api-Key": "nested-in-a-list", "X-Link": "https://h.example.com/?api_key=Q9"}}]},
        {"headers": {"headers": {"Authorization": "a headers map inside one is no headers map"}}},
        {"endpoint": "https://h.example.com/plain/path#frag", "other": "ftp://x:y@ftp.example.com"},
    ]
    assert credentials_in(live) == {"k3y-in-a-key", "nested-in-a-list", "Q9", "y"}


def test_credentials_are_found_in_any_tool_of_a_long_list() -> None:
    """Most live tools hold no `@`, `?` or headers map and are not walked; the few that do still are, and so is
    one that is not plain JSON (a key that is not a string)."""
    plain = {"name": "t", "executionEndpoint": "https://h.example.com/v1/t", "labels": {"team": "a"}}
    live: list[dict[Any, Any]] = [dict(plain) for _ in range(50)]
    live[7]["description"] = "Is it https://u:pw7@h.example.com/ ?"
    live[23] = {**plain, "request": {"headers": {"Authorization": "Basic dXNlcg=="}}}
    live[41] = {**plain, "labels": {("not", "a string"): "https://h.example.com/?token=T41"}}
    live[49] = {**plain, "executionEndpoint": "https://h.example.com/v1/t?api_key=K49"}
    assert credentials_in(live) == {"pw7", "Basic dXNlcg==", "dXNlcg==", "T41", "K49"}
    assert credentials_in(live[:7] + live[8:23]) == set()
