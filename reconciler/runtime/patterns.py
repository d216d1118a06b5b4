"""Schema `pattern`s matched so that no pattern and no argument can hang the service.

A tool's schema comes from a published OpenAPI description, and its arguments from a model: Python's `re`
backtracks, so `^(a+)+$` against forty `a`s and a `!` runs for hours while holding the GIL. jsonschema_rs (the
fast check) matches with the Rust regex crate, linear in the text, falling back to fancy-regex, which stops after
a fixed number of backtracking steps, for backreferences and lookaround. jsonschema (run only to explain a refused
call) would use `re`; here its pattern keywords match with RE2, linear like the regex crate. A pattern RE2
refuses (backreferences, lookaround) is left to jsonschema_rs's bounded verdict and not run again in Python: the
call is still refused, its message just names fewer rules. Every keyword of jsonschema that matches a pattern is
replaced: `pattern`, `patternProperties`, `additionalProperties`, and `unevaluatedProperties` (whose finder of
evaluated keys matches `patternProperties` itself). So is `uniqueItems`, whose pairwise comparison of objects
would hold the service for minutes over one long array.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import re2
from jsonschema import ValidationError


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 prints parse errors on stderr otherwise
    try:
        return re2.compile(pattern, options)
    except re2.error:
        return None


def matches(pattern: str, text: str) -> bool | None:
    """Whether `pattern` is found in `text` (ECMA-262 `search` semantics, as JSON Schema says), in linear time;
    None for a pattern RE2 cannot run."""
    compiled = _compiled(pattern)
    return None if compiled is None else compiled.search(text) is not None


def _pattern(validator: Any, pattern: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and isinstance(pattern, str) and matches(pattern, instance) is False:
        yield ValidationError("does not match the pattern")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    known: Mapping[str, Any] = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    # a pattern RE2 cannot run counts as matching: the key is not called unknown on a guess
    extras = sorted(
        key for key in instance if key not in known and not any(matches(p, key) is not False for p in patterns)
    )
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        yield ValidationError("additional properties are not allowed")


def _evaluated_keys(validator: Any, instance: Mapping[str, Any], schema: Any) -> set[str]:
    """The keys `schema` evaluates, as jsonschema's own finder counts them (its `_utils`), but with patterns
    matched by RE2: the finder calls `re.search` directly, so overriding `patternProperties` does not reach it."""
    if not isinstance(schema, Mapping):
        return set()
    keys: set[str] = set()
    for keyword in ("$ref", "$dynamicRef"):
        if (reference := schema.get(keyword)) is not None:
            resolved = validator._resolver.lookup(reference)
            inner = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys |= _evaluated_keys(inner, instance, resolved.contents)
    if isinstance(properties := schema.get("properties"), Mapping):
        keys |= properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if (subschema := schema.get(keyword)) is not None:
            keys |= {key for key, value in instance.items() if _valid(validator.descend(value, subschema))}
    for pattern in schema.get("patternProperties", {}):
        keys |= {key for key in instance if matches(pattern, key) is not False}
    for key, subschema in schema.get("dependentSchemas", {}).items():
        if key in instance:
            keys |= _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _valid(validator.descend(instance, subschema)):
                keys |= _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            keys |= _evaluated_keys(validator, instance, schema.get("then"))
        else:
            keys |= _evaluated_keys(validator, instance, schema.get("else"))
    return keys


def _valid(errors: Iterator[Any]) -> bool:
    return next(errors, None) is None


def _unevaluated_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    refused = [
        key for key in instance if key not in evaluated and not _valid(validator.descend(instance[key], allowed))
    ]
    if refused:
        yield ValidationError("unevaluated properties are not allowed")


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """jsonschema compares unhashable items pairwise (an array of 8,000 objects: over a minute); here each item
    is written once as canonical JSON, and equal texts are equal items, as JSON Schema defines equality."""
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[str] = set()
    for item in instance:
        text = json.dumps(_comparable(item), sort_keys=True, separators=(",", ":"))
        if text in seen:
            yield ValidationError("has non-unique elements")
            return
        seen.add(text)


def _comparable(value: Any) -> Any:
    """`value` with its whole floats as integers (1.0 equals 1 in JSON Schema; a bool stays a bool). Recursion is
    bounded: arguments deeper than arguments.MAX_DEPTH are refused before they are explained."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


ExplainingValidator: Any = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator,
    {
        "pattern": _pattern,
        "uniqueItems": _unique_items,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
    },
)

__all__ = ["ExplainingValidator", "matches"]
