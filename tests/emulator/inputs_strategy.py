"""A Hypothesis strategy for an action's input, from its contract (draft-04, every `$ref` already inlined).

It covers what compiled contracts use: types, `enum`, `properties`/`required`, numeric and length bounds,
`items`, `anyOf`/`oneOf` (one branch), `allOf` (the first part; the caller checks the rest), `pattern`. Strings
come mostly from the characters that break naive templates (`/ ? & # " \\ ' ${ } %`, spaces, non-ASCII), so a
value that is not escaped for where it lands shows. A drawn value may still break a rule it does not model:
the caller filters with a validator.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

MAX_DEPTH = 4
HOSTILE = [*"/?&#\"\\'${}%;=,|[]+ .", "${", "ü", "€", "中", "😀", "a", "Z", "0", "\t"]
_TEXT = st.lists(st.sampled_from(HOSTILE), max_size=6).map("".join) | st.text(
    st.characters(blacklist_categories=("Cs",)), max_size=6
)
FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.datetimes().map(lambda moment: moment.isoformat() + "Z"),
    "date": st.dates().map(lambda day: day.isoformat()),
    "uuid": st.uuids().map(str),
    "email": st.just("someone@example.com"),
    "uri": st.just("https://example.com/a%20b?c=d"),
    "ipv4": st.ip_addresses(v=4).map(str),
    "ipv6": st.ip_addresses(v=6).map(str),
}


def inputs(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    return _strategy(schema, 0)


def _strategy(node: Any, depth: int) -> st.SearchStrategy[Any]:
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return st.just("x")
    if isinstance(node.get("enum"), list) and node["enum"]:
        return st.sampled_from(node["enum"])
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list) and node[key]:
            return st.one_of(*[_strategy(branch, depth + 1) for branch in node[key][:4]])
    if isinstance(node.get("allOf"), list) and node["allOf"]:
        return _strategy(node["allOf"][0], depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or ["null"]
        return st.one_of(*[_strategy({**node, "type": k}, depth) for k in kinds[:3]])
    if kind == "string" or (kind is None and ("pattern" in node or "format" in node)):
        return _string(node)
    if kind == "integer":
        return st.integers(_bound(node, "minimum", 1), _bound(node, "maximum", -1))
    if kind == "number":
        low, high = node.get("minimum"), node.get("maximum")
        floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
        whole_low = math.ceil(low) if isinstance(low, (int, float)) else None
        whole_high = math.floor(high) if isinstance(high, (int, float)) else None
        if whole_low is not None and whole_high is not None and whole_low > whole_high:
            return floats
        return floats | st.integers(whole_low, whole_high)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        low = int(node.get("minItems", 0))
        high = min(int(node.get("maxItems", low + 3)), low + 3)
        return st.lists(_strategy(node.get("items"), depth + 1), min_size=low, max_size=high)
    if kind == "object" or "properties" in node:
        return _object(node, depth)
    return st.one_of(st.integers(), _TEXT, st.booleans())


def _bound(node: dict[str, Any], key: str, nudge: int) -> int | None:
    value = node.get(key)
    if not isinstance(value, (int, float)):
        return None
    exclusive = node.get("exclusive" + key[0].upper() + key[1:]) is True
    return int(value) + (nudge if exclusive or int(value) != value else 0)


def _string(node: dict[str, Any]) -> st.SearchStrategy[str]:
    if isinstance(node.get("pattern"), str) and node["pattern"] != "^[^\\r\\n]*$":
        try:
            return st.from_regex(node["pattern"])
        except Exception:  # a pattern Python's re cannot read: leave it to the validator
            pass
    if node.get("format") in FORMATS:
        return FORMATS[node["format"]]
    low = int(node.get("minLength", 0))
    high = node.get("maxLength")
    text = _TEXT.filter(lambda value: len(value) >= low and (high is None or len(value) <= high))
    return text | st.text(min_size=low, max_size=min(int(high), low + 8) if high is not None else low + 8)


def _object(node: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    properties = node.get("properties") if isinstance(node.get("properties"), dict) else {}
    required = [name for name in node.get("required") or () if name in properties]
    optional = [name for name in properties if name not in required]
    return st.fixed_dictionaries(
        {name: _strategy(properties[name], depth + 1) for name in required},
        optional={name: _strategy(properties[name], depth + 1) for name in optional},
    )
