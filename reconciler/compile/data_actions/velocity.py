"""Pieces of Velocity templates: literal text, references to inputs, presence tests, and values written as JSON.

The rules every template here keeps, so that no input can change the shape of what is sent:
- Literal text never holds `$`, `#` or `\\` as themselves (Velocity would read a reference, a directive or an
  escape): they are written `${esc.d}`, `${esc.h}` and `${esc.b}` (EscapeTool's dollar, hash and backslash).
- An input is reached as `$input.name`, or as `$input.get('name')` when its name is not a plain identifier or
  is one a map answers itself (`class`, `empty`, `keys`, …): a property lookup on a map may call a method.
- "Given" means `"$!{ref}" != ""`: unlike `#if($ref)`, it holds for `false` and `0` in every Velocity version.
  So an optional input given as the empty string counts as not given in a URL, a header or a form, where
  OpenAPI allows no empty value anyway (a query parameter with `allowEmptyValue: true` is tested by
  `present`); in a JSON body a string's `"$!{ref.length()}" != ""` keeps `""`. A null counts as not given
  everywhere (Velocity cannot tell null from absent).
- A value is written for where it lands: JSON strings through `$esc.jsonString`, numbers and booleans as they
  render (the platform checked their type against the contract before the template runs), arrays and objects
  by walking their schema (`#foreach`, and one entry per declared property); a value whose shape the schema
  does not pin down cannot be written safely, and is `Unexpressible`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.compile.data_actions.dialect import Unexpressible

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_METHOD_NAMES = frozenset(
    {
        "class",
        "empty",
        "get",
        "keys",
        "values",
        "items",
        "copy",
        "pop",
        "popitem",
        "update",
        "clear",
        "setdefault",
        "fromkeys",
        "size",
        "keySet",
        "entrySet",
        "isEmpty",
        "containsKey",
        "rawRequest",
    }
)
_LITERAL = {"\\": "${esc.b}", "$": "${esc.d}", "#": "${esc.h}"}
PRIMITIVES = ("string", "number", "integer", "boolean")


def literal(text: str) -> str:
    """`text` as Velocity literal text."""
    if not any(c in text for c in _LITERAL):
        return text
    return "".join(_LITERAL.get(c, c) for c in text)


def member(path: str, name: str, where: tuple[str, ...]) -> str:
    """The reference path of `name` inside the value at `path` (paths are written without the `$`)."""
    if _PLAIN.fullmatch(name) and name not in _METHOD_NAMES:
        return f"{path}.{name}"
    if "'" in name or "\n" in name or "\r" in name:
        raise Unexpressible(where, f"the name {name!r} cannot be looked up in a Velocity template")
    return f"{path}.get('{name}')"


def formal(path: str) -> str:
    return "${" + path + "}"


def escaped(method: str, path: str) -> str:
    """`$esc.<method>` of the value at `path`, in formal notation: text after it (`.json`) must not read as a
    property of its result."""
    return "${esc." + method + "($" + path + ")}"


def given(path: str) -> str:
    """A condition that holds when the value at `path` was given (see the module docstring)."""
    return '"$!{' + path + '}" != ""'


def present(path: str, schema: Any) -> str:
    """`given`, except that an empty string counts as given where the schema says the value is a string (in a
    JSON body `""` is a value): its `length()` prints `0`, and nothing when the value is null."""
    if kind(schema)[0] == "string":
        return '"$!{' + path + '.length()}" != ""'
    return given(path)


def kind(schema: Any) -> tuple[str | None, bool]:
    """What a value of `schema` is (one of PRIMITIVES, `array`, `object`, or None when the schema does not
    pin one down), and whether it may be null."""
    if not isinstance(schema, Mapping):
        return None, False
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else list(declared) if isinstance(declared, list) else []
    nullable = "null" in types
    types = [t for t in types if t != "null"]
    if len(types) == 1:
        return str(types[0]), nullable
    if types:
        return None, nullable
    if isinstance(schema.get("enum"), list):
        kinds = {_json_kind(value) for value in schema["enum"]}
        nullable = nullable or "null" in kinds
        kinds.discard("null")
        return (kinds.pop() if len(kinds) == 1 else None), nullable
    branches = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if isinstance(branches, list):
        found = [kind(branch) for branch in branches]
        named = {k for k, _ in found if k is not None}
        nullable = nullable or any(_is_null(branch) for branch in branches)
        if len(named) == 1 and named <= set(PRIMITIVES):
            return named.pop(), nullable
        return None, nullable
    if "properties" in schema:
        return "object", nullable
    return None, nullable


def scalar(schema: Any) -> bool:
    """Whether every value of `schema` is a string, number, boolean or null (text in a URL, header or form)."""
    if not isinstance(schema, Mapping):
        return False
    declared = schema.get("type")
    if isinstance(declared, (str, list)):
        types = [declared] if isinstance(declared, str) else declared
        return bool(types) and all(t in (*PRIMITIVES, "null") for t in types)
    if isinstance(schema.get("enum"), list):
        return all(_json_kind(value) in (*PRIMITIVES, "null") for value in schema["enum"])
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list) and branches:
        return all(scalar(branch) for branch in branches)
    parts = schema.get("allOf")
    return isinstance(parts, list) and any(scalar(part) for part in parts)


def _is_null(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") == "null"


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@dataclass(frozen=True)
class Piece:
    """A part of a joined list (query string, JSON object, form body, cookie): `always` when it is written
    exactly once whatever the input; `write(prefix, after)` gives its template, each output preceded by
    `prefix` and followed by `after` (a separator update)."""

    always: bool
    write: Callable[[str, str], str]


def join(pieces: Sequence[Piece], *, first: str, separator: str, variable: str) -> str:
    """The pieces one after the other, separated by `separator` and led by `first`.

    Pieces written exactly once go first, with literal separators; when there are none, the separator is a
    Velocity variable that starts as `first` and becomes `separator` after the first output."""
    fixed = [piece for piece in pieces if piece.always]
    loose = [piece for piece in pieces if not piece.always]
    if fixed:
        text = "".join(piece.write(literal(first if i == 0 else separator), "") for i, piece in enumerate(fixed))
        return text + "".join(piece.write(literal(separator), "") for piece in loose)
    if not loose:
        return ""
    reset = f'#set(${variable} = "{_string(first)}")'
    update = f'#set(${variable} = "{_string(separator)}")'
    return reset + "".join(piece.write(formal(variable), update) for piece in loose)


def _string(text: str) -> str:
    """`text` inside a double-quoted Velocity string literal (only our own separators pass here)."""
    if any(c in text for c in '"$#\\'):
        raise ValueError(f"separator {text!r} needs no escaping here")
    return text


def json_value(path: str, schema: Any, where: tuple[str, ...], depth: int = 0) -> str:
    """The template writing the value at `path` as JSON, by its schema."""
    value_kind, nullable = kind(schema)
    if value_kind == "string":
        text = f'"{escaped("jsonString", path)}"'
    elif value_kind in ("number", "integer", "boolean"):
        text = formal(path)
    elif value_kind == "array":
        items = schema.get("items")
        if not isinstance(items, Mapping):
            raise Unexpressible(where, "an array whose items have no single schema cannot be written as JSON")
        loop = f"v{depth}"
        inner = json_value(loop, items, (*where, "items"), depth + 1)
        text = f"[#foreach(${loop} in ${path}){inner}#if($foreach.hasNext),#end#end]"
    elif value_kind == "object":
        text = json_object(path, schema, where, depth)
    else:
        raise Unexpressible(where, "a value whose type the schema leaves open cannot be written into a request")
    if nullable:
        return f"#if({present(path, schema)}){text}#{{else}}null#end"
    return text


def json_object(path: str, schema: Mapping[str, Any], where: tuple[str, ...], depth: int) -> str:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties or any(k in schema for k in ("allOf", "anyOf", "oneOf")):
        raise Unexpressible(where, "an object without declared properties cannot be written field by field")
    required = set(schema.get("required") or ())
    pieces = []
    for name, sub in properties.items():
        here = (*where, "properties", name)
        child = member(path, name, here)
        key = literal(json.dumps(name, ensure_ascii=False)) + ":"
        value = json_value(child, sub, here, depth + 1)
        pieces.append(_entry(present(child, sub), key, value, always=name in required))
    return "{" + join(pieces, first="", separator=",", variable=f"c{depth}") + "}"


def _entry(condition: str, key: str, value: str, *, always: bool) -> Piece:
    if always:
        return Piece(True, lambda prefix, after: f"{prefix}{key}{value}{after}")
    return Piece(False, lambda prefix, after: f"#if({condition}){prefix}{key}{value}{after}#end")


def closed(schema: Any) -> Any:
    """`schema` with `additionalProperties: false` on every object written field by field: properties the
    template would not write are refused by the contract instead of being dropped at run time."""
    if not isinstance(schema, Mapping):
        return schema
    result = dict(schema)
    if isinstance(result.get("properties"), Mapping):
        result["properties"] = {name: closed(sub) for name, sub in result["properties"].items()}
        result["additionalProperties"] = False
    if isinstance(result.get("items"), Mapping):
        result["items"] = closed(result["items"])
    return result


__all__ = [
    "PRIMITIVES",
    "Piece",
    "closed",
    "escaped",
    "formal",
    "given",
    "join",
    "json_value",
    "kind",
    "literal",
    "member",
    "present",
    "scalar",
]
