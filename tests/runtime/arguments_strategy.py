"""A Hypothesis strategy for a tool's arguments, from its (compiled, draft 2020-12) schema.

hypothesis-jsonschema would be the natural choice, but its last release (0.23.1, 2024) breaks on current
Hypothesis (`'many' object has no attribute 'more'`), so this covers what compiled tool schemas use: types,
`enum`/`const`, `properties`/`required`, numeric and length bounds, `items`, `anyOf`/`oneOf` (one branch),
`allOf` (the first part), and `$ref` into `$defs`. A value it draws may still break a rule it does not model
(`pattern`, `format`, …): the caller filters with a validator. Strings are drawn from all of Unicode (no
surrogates), so they hold the control characters, quotes, delimiters and non-ASCII a hostile model would send.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

MAX_DEPTH = 4
FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.datetimes().map(lambda moment: moment.isoformat() + "Z"),
    "date": st.dates().map(lambda day: day.isoformat()),
    "uuid": st.uuids().map(str),
    "email": st.just("someone@example.com"),
    "uri": st.just("https://example.com/a%20b?c=d"),
    "url": st.just("https://example.com/a%20b?c=d"),
    "ipv4": st.ip_addresses(v=4).map(str),
    "ipv6": st.ip_addresses(v=6).map(str),
}


def arguments(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return _object(schema, schema, 0)


def _strategy(node: Any, root: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return st.none() | st.text(max_size=8)
    if "$ref" in node and isinstance(node["$ref"], str) and node["$ref"].startswith("#/$defs/"):
        target = root.get("$defs", {}).get(node["$ref"].removeprefix("#/$defs/"))
        return _strategy(target, root, depth + 1)
    if "const" in node:
        return st.just(node["const"])
    if isinstance(node.get("enum"), list) and node["enum"]:
        return st.sampled_from(node["enum"])
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list) and node[key]:
            return st.one_of(*[_strategy(branch, root, depth + 1) for branch in node[key][:4]])
    if isinstance(node.get("allOf"), list) and node["allOf"]:
        return _strategy(node["allOf"][0], root, depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        return st.one_of(*[_strategy({**node, "type": k}, root, depth) for k in kind])
    if kind == "string":
        if node.get("format") in FORMATS:
            return FORMATS[node["format"]]
        if isinstance(node.get("pattern"), str):
            try:
                return st.from_regex(node["pattern"], fullmatch=True)
            except Exception:  # an ECMA pattern Python cannot compile: draw text, the validator filters
                return st.text(max_size=8)
        low, high = node.get("minLength", 0), node.get("maxLength", 24)
        return st.text(min_size=low, max_size=max(low, min(high, 24)))
    if kind == "integer":
        low, high = node.get("minimum"), node.get("maximum")
        return st.integers(
            min_value=int(low) if isinstance(low, (int, float)) else -(2**40),
            max_value=int(high) if isinstance(high, (int, float)) else 2**40,
        )
    if kind == "number":
        low, high = node.get("minimum"), node.get("maximum")
        return st.floats(
            min_value=low if isinstance(low, (int, float)) else -1e9,
            max_value=high if isinstance(high, (int, float)) else 1e9,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        low = node.get("minItems", 0)
        return st.lists(_strategy(node.get("items", {}), root, depth + 1), min_size=low, max_size=max(low, 3))
    if kind == "object" or "properties" in node:
        return _object(node, root, depth + 1)
    return st.text(max_size=8) | st.integers() | st.booleans()


def _object(node: dict[str, Any], root: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    properties = node.get("properties") if isinstance(node.get("properties"), dict) else {}
    required = [name for name in node.get("required", []) if name in properties]
    optional = {name: _strategy(schema, root, depth) for name, schema in properties.items() if name not in required}
    return st.fixed_dictionaries(
        {name: _strategy(properties[name], root, depth) for name in required}, optional=optional
    )
