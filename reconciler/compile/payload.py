"""Tool → the payloads that leave the process: the registry's ToolInput, the OpenAI function form, a digest.

The OpenAI form has no place for an output schema; the ToolInput always carries one (`outputSchema`).

Everything here is deterministic: the same Tool gives the same bytes, whatever order its input was read in,
because the digest that marks a managed tool rests on it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from reconciler.model import JSON_SCHEMA_DIALECT, TOOL_INPUT_FIELDS, Tool

OWNER_LABEL = "managed-by"
SOURCE_LABEL = "reconciler-source"
DIGEST_LABEL = "reconciler-digest"
PROTECTED_LABEL = "reconciler-protected"
IGNORED_LABEL = "reconciler-ignore-changes"
"""The ToolInput fields (comma-separated) that the digest leaves out: those named in `ignore_changes`."""
OWNERSHIP_LABELS = (OWNER_LABEL, SOURCE_LABEL, DIGEST_LABEL, PROTECTED_LABEL, IGNORED_LABEL)


def tool_input(tool: Tool) -> dict[str, Any]:
    """The ToolInput (DESIGN §4) the desired state sets; fields it leaves unset are left out."""
    payload: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "schema": {"$schema": JSON_SCHEMA_DIALECT, **tool.schema},
        "executionEndpoint": tool.endpoint,
    }
    payload["outputSchema"] = output_schema(tool)
    if tool.request is not None:
        payload["request"] = tool.request
    if tool.context:
        payload["context"] = dict(tool.context)
    if tool.rate_limit is not None:
        rate: dict[str, int] = {}
        if tool.rate_limit.requests_per_minute is not None:
            rate["requestsPerMinute"] = tool.rate_limit.requests_per_minute
        if tool.rate_limit.burst_size is not None:
            rate["burstSize"] = tool.rate_limit.burst_size
        payload["rateLimit"] = rate
    if tool.labels:
        payload["labels"] = dict(tool.labels)
    normalized: dict[str, Any] = normalize(payload)
    return normalized


PERMISSIVE_OUTPUT: dict[str, Any] = {"type": "object"}
"""The output schema of a tool whose answer is not described (hand-written, or no JSON success response): any
object. Sent all the same, so every tool states its output the same way (issue 15)."""


def output_schema(tool: Tool) -> dict[str, Any]:
    """The JSON Schema (2020-12) of the tool's successful answer, in the dialect `schema` declares."""
    described = tool.output_schema if tool.output_schema is not None else PERMISSIVE_OUTPUT
    return {"$schema": JSON_SCHEMA_DIALECT, **{k: v for k, v in described.items() if k != "$schema"}}


def owned_tool_input(tool: Tool, managed_by: str, source_file: str) -> dict[str, Any]:
    """The payload actually sent: the ToolInput plus the ownership labels and the digest of the ToolInput."""
    return with_ownership(tool_input(tool), managed_by, source_file, protected=tool.protected)


def with_ownership(
    payload: dict[str, Any],
    managed_by: str,
    source_file: str,
    *,
    protected: bool,
    content: Mapping[str, Any] | None = None,
    ignored: Sequence[str] = (),
) -> dict[str, Any]:
    """`payload` stamped as ours: owner, source file, protection (a deleted definition can no longer say it) and
    the digest of everything else (or of `content`, what the desired state sets of it), which later tells an
    edit made outside git. The `ignored` fields (`ignore_changes`) are left out of the digest, and named in a
    label, so an edit to one of them is not drift."""
    labels = {k: v for k, v in payload.get("labels", {}).items() if k not in OWNERSHIP_LABELS}
    labels[OWNER_LABEL] = managed_by
    labels[SOURCE_LABEL] = source_file
    if protected:
        labels[PROTECTED_LABEL] = "true"
    if ignored:
        labels[IGNORED_LABEL] = ",".join(ignored)
    covered = dict(payload if content is None else {**content, "labels": payload.get("labels", {})})
    for key in ignored:
        covered.pop(key, None)
    labels[DIGEST_LABEL] = digest(covered)
    return {**payload, "labels": dict(sorted(labels.items()))}


def openai_function(tool: Tool) -> dict[str, Any]:
    """The LLM gateway's function-tool form; context parameters are filled by the runtime, not by the model."""
    parameters = {key: value for key, value in tool.schema.items() if key != "$schema"}
    function = {"name": tool.name, "description": tool.description, "parameters": parameters}
    normalized: dict[str, Any] = normalize({"type": "function", "function": function})
    return normalized


_SCALARS = (str, int, float, type(None))

_NULL_VALUE = re.compile(rb"(?:^|[:,\[])\s*null")
"""A null where a JSON value stands, compact or indented (inside a string it only costs a second look)."""


def normalize(value: Any) -> Any:
    """Mappings with sorted keys (plain dicts), lists kept in order: one canonical shape for any JSON value.
    A fresh copy, nothing shared with `value`. (JSON data: an enum or a UUID, which no parser gives, would
    become its value.)"""
    try:
        # orjson there and back: C, a tenth of the time of the walk in `_normalized` (a plan builds every payload)
        data = orjson.dumps(value, default=_plain_container, option=_ONLY_JSON)
    except TypeError:  # orjson.JSONEncodeError: what is not plain JSON data keeps its own type, as it did
        return _normalized(value)
    if b"null" in data and _NULL_VALUE.search(data):
        return _normalized(value)  # orjson writes NaN and infinities as null too: those stay as they were
    return orjson.loads(data)


_ONLY_JSON = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)


def _plain_container(value: Any) -> Any:
    """The located containers of loaded documents are dicts and lists; a subclass of `str` (a `Secret`) or of
    `int` is not turned into a plain one."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    raise TypeError(type(value).__name__)


def _normalized(value: Any) -> Any:
    if isinstance(value, _SCALARS):  # most values: answered before the (slower) abstract Mapping check
        return value
    if isinstance(value, dict) or isinstance(value, Mapping):  # noqa: SIM101 - dict first: the fast check
        return {key: _normalized(value[key]) for key in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_normalized(item) for item in value]
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


_EXPONENT = re.compile(rb"e-[0-9]")
"""A negative exponent (a literal start: searched far faster than a pattern starting with a digit)."""
_MANTISSA = frozenset(b"0123456789.")
_BEFORE_A_VALUE = frozenset(b":,[ \n")


def orjson_floats_differ(data: bytes) -> bool:
    """Whether orjson's text (compact, or indented by 2) may write a float otherwise than the standard library:
    under 1e-4 (orjson `1.5e-7` and `0.00001`, the standard library `1.5e-07` and `1e-05`). Every other float,
    integer, string and layout is the same text, byte for byte (tested). A string that merely holds such text
    only costs the slower path; `1e-` inside a word (a uuid's `-123e-4`) is no number and costs nothing."""
    if b"0.0000" in data:
        return True
    return any(_is_number(data, match.start()) for match in _EXPONENT.finditer(data))


def _is_number(data: bytes, exponent: int) -> bool:
    """Whether the `e` at `exponent` ends a number's mantissa that stands where a JSON value starts."""
    start = exponent
    while start > 0 and data[start - 1] in _MANTISSA:
        start -= 1
    if start == exponent:
        return False
    if start > 0 and data[start - 1] == ord("-"):
        start -= 1
    return start == 0 or data[start - 1] in _BEFORE_A_VALUE


def orjson_as_standard(value: Any, option: int = 0, *, ascii_only: bool = False) -> bytes | None:
    """orjson's text of `value` (C: 5 to 10 times the standard library's speed; its indenting encoder is pure
    Python) when it is, byte for byte, what `json.dumps` writes in the same layout (`option`: sorted keys,
    indent 2; `ascii_only`: with ensure_ascii); else None, and the caller writes the standard library's. Not the
    same: what orjson refuses (an integer past 64 bits, a lone surrogate, a key that is not a string), a float
    it may write otherwise (`orjson_floats_differ`), a null standing for a NaN or an infinity, and with
    `ascii_only` any character past U+007E (ensure_ascii escapes DEL too)."""
    try:
        data = orjson.dumps(value, option=option)
    except TypeError:  # orjson.JSONEncodeError
        return None
    if orjson_floats_differ(data) or (ascii_only and (not data.isascii() or b"\x7f" in data)):
        return None
    if b"null" in data and _NULL_VALUE.search(data) and orjson.loads(data) != value:  # (`in`: a tenth of a search)
        return None
    return data


def canonical_bytes(value: Any) -> bytes:
    """`canonical_json(value)` as UTF-8, byte for byte; by orjson where it writes the same (a plan digests every
    desired and every live tool)."""
    data = orjson_as_standard(value, orjson.OPT_SORT_KEYS)
    return canonical_json(value).encode() if data is None else data


def indented_json(value: Any, *, ensure_ascii: bool = False, allow_nan: bool = True) -> str:
    """`json.dumps(value, indent=2, sort_keys=True, ...)`, byte for byte; by orjson where it writes the same (a
    plan or a render of thousands of tools)."""
    data = orjson_as_standard(value, orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, ascii_only=ensure_ascii)
    if data is None:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=ensure_ascii, allow_nan=allow_nan)
    return data.decode()


def digest(payload: Mapping[str, Any]) -> str:
    """sha256 of the canonical ToolInput, without the ownership labels (they would make it self-referential)."""
    labels = {k: v for k, v in (payload.get("labels") or {}).items() if k not in OWNERSHIP_LABELS}
    # Empty values are left out: a server that echoes `context: {}` for an unset field has not drifted.
    content = {key: value for key, value in payload.items() if key in _DIGESTED and value not in _EMPTY}
    if labels:
        content["labels"] = labels
    for key in SCHEMA_FIELDS:
        value = content.get(key)
        if isinstance(value, dict) or isinstance(value, Mapping):  # noqa: SIM101 - dict first: the fast check
            content[key] = sort_required(value)
    return "sha256:" + hashlib.sha256(canonical_bytes(content)).hexdigest()


_DIGESTED = frozenset(TOOL_INPUT_FIELDS) - {"labels"}
_EMPTY: tuple[None, dict[str, Any], list[Any]] = (None, {}, [])
"""Values that mean "unset", made once: written out in the comprehension, a fresh map and list were built for
every key of every payload (only compared with, never changed)."""

SCHEMA_FIELDS = ("schema", "outputSchema")
"""The ToolInput fields that hold a JSON Schema: compared as JSON Schema reads them (`required` in any order)."""

SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
"""Maps of names to schemas: there a key named `required` is a property, not the keyword."""


def sort_required(schema: Any, *, in_map: bool = False) -> Any:
    """`schema` with every `required` list sorted: its order carries no meaning in JSON Schema. Copied only
    where a list was out of order (a schema already in order is returned as it is: a plan sorts every live
    and every desired schema); callers encode or compare the result, never change it.

    `in_map` marks a mapping of names to schemas (`properties`, `$defs`), where a key named `required` is a
    property, not the keyword."""
    if type(schema) is dict:  # JSON data: a plain dict or list, walked without the checks below
        return _sorted_map(schema, in_map)
    if type(schema) is list:
        return _sorted_list(schema)
    if isinstance(schema, _SCALARS):
        return schema
    if isinstance(schema, list):
        items = [sort_required(item) for item in schema]
        return schema if all(new is old for new, old in zip(items, schema, strict=True)) else items
    if isinstance(schema, Mapping):  # a dict subclass in order is returned as it is, any other Mapping as a dict
        mapped = _sorted_map(schema, in_map)
        return dict(mapped) if mapped is schema and not isinstance(schema, dict) else mapped
    return schema


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _sorted_map(schema: Mapping[str, Any], in_map: bool) -> Mapping[str, Any]:
    changed: dict[str, Any] | None = None
    for key, value in schema.items():
        kind = type(value)
        if kind in _SCALAR_TYPES:
            continue
        inner: Any
        if key == "required" and not in_map and isinstance(value, list) and all(isinstance(v, str) for v in value):
            inner = sorted(value)
            if inner == value:
                continue
        elif kind is dict:
            inner = _sorted_map(value, key in SCHEMA_MAPS and not in_map)
        else:
            inner = sort_required(value, in_map=key in SCHEMA_MAPS and not in_map)
        if inner is not value:
            if changed is None:
                changed = {}
            changed[key] = inner
    if changed is None:
        return schema
    return {key: changed.get(key, value) for key, value in schema.items()}


def _sorted_list(items: list[Any]) -> list[Any]:
    result: list[Any] | None = None
    for index, item in enumerate(items):
        if type(item) in _SCALAR_TYPES:
            continue
        inner = sort_required(item)
        if inner is not item:
            if result is None:
                result = list(items)
            result[index] = inner
    return items if result is None else result


__all__ = [
    "DIGEST_LABEL",
    "IGNORED_LABEL",
    "OWNERSHIP_LABELS",
    "OWNER_LABEL",
    "PERMISSIVE_OUTPUT",
    "PROTECTED_LABEL",
    "SCHEMA_FIELDS",
    "SCHEMA_MAPS",
    "SOURCE_LABEL",
    "TOOL_INPUT_FIELDS",
    "canonical_bytes",
    "canonical_json",
    "digest",
    "indented_json",
    "normalize",
    "openai_function",
    "orjson_as_standard",
    "orjson_floats_differ",
    "output_schema",
    "owned_tool_input",
    "sort_required",
    "tool_input",
    "with_ownership",
]
