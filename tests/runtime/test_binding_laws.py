"""Laws of the request binding, over any arguments a model can send (hypothesis): no argument can move a call to
another scheme, host, port or path, nor add a header, a cookie or a query parameter of its own."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import SourceLocation, Tool
from reconciler.runtime import ToolError, build_request

BASE = "https://api.example.com:8443/v1"
PARAMETERS = {
    "id": {"in": "path", "name": "id"},
    "label": {"in": "path", "name": "label", "style": "label"},
    "matrix": {"in": "path", "name": "matrix", "style": "matrix", "explode": True},
    "q": {"in": "query", "name": "q"},
    "deep": {"in": "query", "name": "deep", "style": "deepObject"},
    "pipes": {"in": "query", "name": "pipes", "style": "pipeDelimited", "explode": False},
    "trace": {"in": "header", "name": "X-Trace"},
    "prefs": {"in": "cookie", "name": "prefs"},
}
TOOL = Tool(
    "laws",
    "d",
    BASE,
    {"type": "object"},
    SourceLocation("t.yaml", 1, 1),
    request={"method": "GET", "url": BASE + "/items/{id}/{label}/x{matrix}#fragment", "parameters": PARAMETERS},
)

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # a lone surrogate is refused apart
scalar = st.one_of(text, st.integers(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False))
value = st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(text, scalar, max_size=3))


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries(dict.fromkeys(PARAMETERS, value)))
def test_no_argument_moves_the_call_or_adds_to_it(arguments: dict[str, Any]) -> None:
    try:
        request = build_request(TOOL, arguments)
    except ToolError as error:  # refused before anything is sent: a header cannot carry it, or a dot segment
        assert error.code == "INVALID_ARGUMENTS"
        return
    sent = urlsplit(request.url)
    assert (sent.scheme, sent.netloc, sent.fragment) == ("https", "api.example.com:8443", "")
    segments = sent.path.split("/")
    assert segments[:3] == ["", "v1", "items"] and len(segments) == 6 and segments[5].startswith("x")
    assert all(unquote(segment) not in ("", ".", "..") for segment in segments[1:])
    names = {unquote(piece.partition("=")[0]) for piece in sent.query.split("&")} if sent.query else set()
    if not isinstance(arguments["q"], dict):  # an exploded form object names its own pairs, by design
        assert all(name in ("q", "deep", "pipes") or name.startswith("deep[") for name in names), names
    assert [name for name, _ in request.headers] in ([], ["X-Trace"], ["Cookie"], ["X-Trace", "Cookie"])
    assert all("\r" not in header and "\n" not in header for _, header in request.headers)
