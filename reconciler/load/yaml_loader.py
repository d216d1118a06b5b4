"""Bytes → located JSON-like documents, with limits that keep hostile input cheap to refuse.

libyaml (PyYAML's C parser) composes the node graph; a small constructor of our own turns nodes into
`LocatedDict`/`LocatedList`, because PyYAML's constructors drop positions and silently accept duplicate keys.
Aliases are expanded, not shared (so a later mutation cannot leak between two places), within a small budget:
an alias bomb is refused after a few thousand nodes, never expanded. JSON files take a JSON parser (orjson for
OpenAPI descriptions, the stdlib for the rest; see `parse_json`), many times faster; their positions are
recovered only when they are asked for.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import yaml

from reconciler.errors import Diagnostic, InputError
from reconciler.load.located import LocatedDict, LocatedList, location
from reconciler.model import SourceLocation

try:
    from yaml import CSafeLoader as _Loader
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - libyaml is present in every wheel we support
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

    _Parser = _Loader  # type: ignore[misc]

_PLAIN = "reconciler:plain"
"""A plain scalar whose type is decided by our constructor, not during parsing (see `_DeferredLoader`)."""


def _core_schema() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """YAML 1.2's core schema (the spec's 10.3.2), the one OpenAPI asks for: plain `true`/`false`, `null`/`~`,
    decimal, `0o` and `0x` integers and floats are typed; `yes`, `no`, `on`, `off`, `010` as octal, `1_000` and
    `12:30` as base 60 (YAML 1.1, PyYAML's default) are text, so an enum `[new, active, off]` keeps its `off`.
    `<<` merges stay, as every YAML tool reads them. By first character, as PyYAML's own table is."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    rules = [
        ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
        ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", "~nN"),
        ("tag:yaml.org,2002:int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
        (
            "tag:yaml.org,2002:float",
            r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            "-+.0123456789",
        ),
        ("tag:yaml.org,2002:merge", r"<<", "<"),
    ]
    for tag, pattern, first in rules:
        compiled = re.compile(f"(?:{pattern})\\Z")
        for character in first:
            table.setdefault(character, []).append((tag, compiled))
    table[""] = [("tag:yaml.org,2002:null", re.compile(r"\Z"))]
    return table


_IMPLICIT = _core_schema()


class _DeferredLoader(_Loader):
    """libyaml's parser, with PyYAML's per-node Python resolver calls taken out of the parse.

    PyYAML resolves the type of every scalar (and walks path resolvers for every node) in Python while libyaml
    composes: about a fifth of a bare parse. Plain scalars are tagged `_PLAIN` here and typed by the
    constructor with the same regular expressions, in one place, only for the values it builds."""

    def __init__(self, stream: str) -> None:
        # libyaml's parser and composer are all a parse uses: PyYAML's constructor and resolver state, which
        # our constructor and `resolve` stand in for, is never read (and cost three Python calls per file)
        _Parser.__init__(self, stream)

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


def _plain_tag(value: str) -> str:
    for tag, pattern in _IMPLICIT.get(value[:1], ()):
        if pattern.match(value):
            return str(tag)
    return _STR


MAX_DEPTH = 128
ALIAS_EXPANSION_BUDGET = 10_000

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

_BOOL_VALUES = {"true": True, "false": False}


def decode(data: bytes, file: str) -> str:
    """UTF-8 (with or without a BOM) or an error that names the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError.at(
            SourceLocation(file, line, column),
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8",
            "encoding",
        ) from None


_MAYBE_DEEP_FLOW = re.compile(r"[\[{](?:[^\[\]{}]{0,200}[\[{])" + f"{{{MAX_DEPTH}}}")
_DEEP_FIRST_LINE = re.compile(r"[ \t-]" + f"{{{MAX_DEPTH}}}")
_DEEP_LINE = re.compile(r"\n[ \t-]" + f"{{{MAX_DEPTH}}}")


def maybe_deep_block(text: str) -> bool:
    """Whether a line starts with MAX_DEPTH indents or dashes (`^[ \\t-]{128,}` in MULTILINE mode): searched from
    the line breaks, a literal the engine skips to, where `^` was tried at every character (a plan checks every
    file, and most have no such line)."""
    return _DEEP_FIRST_LINE.match(text) is not None or _DEEP_LINE.search(text) is not None


def check_depth(text: str, file: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before libyaml composes it: libyaml takes seconds (quadratic) on
    thousands of levels. Two linear scans tell the files that might be deep; only those pay for a walk of
    parser events, which stops at the first level too deep."""
    few_brackets = text.count("[") + text.count("{") <= MAX_DEPTH
    if (few_brackets or not _MAYBE_DEEP_FLOW.search(text)) and not maybe_deep_block(text):
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError.at(
                        location(file, event.start_mark),
                        f"nesting deeper than {MAX_DEPTH} levels; flatten the document",
                        "limit",
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):  # libyaml >= 0.2.5's own limit, met while scanning ahead
            raise InputError.at(
                location(file, exc.problem_mark),
                f"nesting deeper than {MAX_DEPTH} levels; flatten the document",
                "limit",
            ) from None
        return  # the real parse reports syntax errors with their place
    except yaml.YAMLError:
        return


def parse_yaml(text: str, file: str) -> Iterator[tuple[Any, SourceLocation]]:
    """Each document of a YAML stream, with the place it starts. Empty documents are skipped."""
    check_depth(text, file)
    loader = _DeferredLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None or (node.tag == _PLAIN and node.value == ""):
                continue  # an empty document (`---` with nothing after it) holds nothing, as an empty file
            yield _Constructor(file).construct(node), location(file, node.start_mark)
    except yaml.MarkedYAMLError as exc:
        raise InputError([_syntax_diagnostic(exc, text, file)]) from None
    except yaml.YAMLError as exc:
        raise InputError.at(SourceLocation(file), f"YAML error: {exc}", "syntax") from None
    finally:
        loader.dispose()


def parse_json(data: bytes, file: str, classify: Callable[[Any], str] | None = None) -> Any:
    """orjson parses the bytes as read (about 2.5x the stdlib's speed on large descriptions, with no decoded
    copy) but keeps the last of duplicate keys silently; so every document that is not an OpenAPI description
    (a publisher's data, taken as written) is parsed again by the stdlib with a hook that refuses them.
    Anything orjson refuses (bad UTF-8, lone surrogates, huge integers) goes to the stdlib too, which accepts
    it or says where it fails."""
    if classify is not None and (b'"openapi"' in data or b'"swagger"' in data):  # else it cannot be one
        try:
            content = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        else:
            if classify(content) == "openapi":
                return content
    text = decode(data, file)
    lone = _LONE_SURROGATE.search(text)
    if lone:
        raise InputError.at(
            _place(file, text, lone.start()),
            f"\\u{lone.group('half')} escapes half of a UTF-16 pair, which no text can hold; "
            "write the character itself, or both halves",
            "value",
        )
    try:
        content = json.loads(
            text,
            object_pairs_hook=_JsonObject(file, text),
            parse_int=lambda written: _json_number(file, text, written, int, checked_int),
            parse_float=lambda written: _json_number(file, text, written, float, checked_float),
            parse_constant=lambda written: _json_number(file, text, written, float, checked_float),
        )
    except json.JSONDecodeError as exc:
        raise InputError.at(
            SourceLocation(file, exc.lineno, exc.colno), f"JSON syntax error: {exc.msg}", "syntax"
        ) from None
    except RecursionError:
        raise InputError.at(
            SourceLocation(file), f"nesting deeper than {MAX_DEPTH} levels; flatten the document", "limit"
        ) from None
    if nested_deeper_than(content, MAX_DEPTH):  # as YAML is refused: later stages walk documents recursively
        raise InputError.at(
            _place(file, text, _deep_index(text)),
            f"nesting deeper than {MAX_DEPTH} levels; flatten the document",
            "limit",
        )
    return content


def nested_deeper_than(content: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels (`content` itself the first), walked without recursion:
    for documents here, and for the arguments and context values the tool service takes."""
    stack: list[tuple[Any, int]] = [(content, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _deep_index(text: str) -> int:
    """Where the first container past MAX_DEPTH opens (strings skipped), for the error's place."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        mark = token.group()
        if mark in {"[", "{"}:
            depth += 1
            if depth > MAX_DEPTH:
                return token.start()
        elif mark in {"]", "}"}:
            depth -= 1
    return 0


_LONE_SURROGATE = re.compile(
    r"(?<!\\)(?:\\\\)*\\u(?P<half>[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u)[dD][c-fC-F][0-9a-fA-F]{2})"
)
"""A `\\uD800`-style escape of half a surrogate pair without its other half (an even run of backslashes before
it is text, not an escape). Python keeps such a string, but it cannot be encoded: refused where it is written."""


def _json_number(
    file: str, text: str, written: str, kind: Callable[[str], Any], check: Callable[[Any, str], Any]
) -> Any:
    """json.loads hooks: a number is converted only when it is short enough, and must fit the API's types."""
    try:
        if kind is int and len(written) > MAX_INTEGER_TEXT:
            raise ValueError(_too_large(written))
        return check(kind(written), written)
    except ValueError as exc:
        raise InputError.at(_place(file, text, _find_number(text, written)), str(exc), "value") from None


def _find_number(text: str, written: str) -> int:
    match = re.search(r"(?<![\w.\"])" + re.escape(written) + r"(?![\w.])", text)
    return match.start() if match else 0


def _place(file: str, text: str, index: int) -> SourceLocation:
    line = text.count("\n", 0, index) + 1
    return SourceLocation(file, line, index - (text.rfind("\n", 0, index) + 1) + 1)


class _JsonObject:
    """object_pairs_hook that refuses duplicate keys (json.loads keeps the last one silently)."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise InputError.at(
                        self._find_key(key),
                        f"duplicate key {key!r}; each key may appear once",
                        "duplicate-key",
                    )
                seen.add(key)
        return result

    def _find_key(self, key: str) -> SourceLocation:
        needle = json.dumps(key) + ":"
        first = self.text.find(needle)
        second = self.text.find(needle, first + 1) if first >= 0 else -1
        index = second if second >= 0 else max(first, 0)
        line = self.text.count("\n", 0, index) + 1
        return SourceLocation(self.file, line, index - (self.text.rfind("\n", 0, index) + 1) + 1)


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, text: str, file: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    where = location(file, mark)
    problem = exc.problem or "invalid YAML"
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        return Diagnostic("error", where, "tab character in indentation; YAML indents with spaces", "tab")
    context = f" {exc.context}" if exc.context else ""
    return Diagnostic("error", where, f"YAML syntax error: {problem}{context}", "syntax")


def _char_at(text: str, line: int, column: int) -> str:
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    index = start + column
    return text[index] if index < len(text) else ""


class _Constructor:
    """Nodes → located containers and JSON scalars, refusing what a tool definition never needs."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.seen: set[int] = set()
        self.alias_depth = 0
        self.expanded = 0

    def construct(self, node: yaml.Node, depth: int = 0) -> Any:
        if type(node) is _ScalarNode:
            if self.alias_depth:
                self._count_expansion(node)
            return self._scalar(node)
        if depth > MAX_DEPTH:
            raise InputError.at(
                location(self.file, node.start_mark),
                f"nesting deeper than {MAX_DEPTH} levels; flatten the document",
                "limit",
            )
        # Only containers can make an alias expand; scalars are never tracked.
        is_alias = id(node) in self.seen
        if is_alias:
            self.alias_depth += 1
        else:
            self.seen.add(id(node))
        if self.alias_depth:
            self._count_expansion(node)
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, depth)
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, depth)
            raise AssertionError(f"unknown YAML node {node!r}")  # pragma: no cover
        finally:
            if is_alias:
                self.alias_depth -= 1

    def _count_expansion(self, node: yaml.Node) -> None:
        self.expanded += 1
        if self.expanded > ALIAS_EXPANSION_BUDGET:
            raise InputError.at(
                location(self.file, node.start_mark),
                f"YAML aliases expand past {ALIAS_EXPANSION_BUDGET} nodes; write the values out instead",
                "alias-bomb",
            )

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == _PLAIN:
            known = _PLAIN_VALUES.get(value, _UNKNOWN)
            if known is not _UNKNOWN:
                return known
            tag = _plain_tag(value) if value[:1] in _IMPLICIT else _STR
            if tag in (_STR, _TIMESTAMP) or tag in _TYPED:
                return _remember(value, self._typed(node, tag, value))
        return self._typed(node, tag, value)

    def _typed(self, node: yaml.ScalarNode, tag: str, value: str) -> Any:
        if tag in (_STR, _TIMESTAMP):
            return value
        if tag in _TYPED:
            try:
                return _TYPED[tag](value)
            except ValueError as exc:
                raise InputError.at(location(self.file, node.start_mark), str(exc), "value") from None
        raise InputError.at(
            location(self.file, node.start_mark),
            f"unsupported YAML tag {tag!r}; use plain strings, numbers, booleans, lists and mappings",
            "tag",
        )

    def _sequence(self, node: yaml.SequenceNode, depth: int) -> LocatedList:
        if node.tag != _SEQ:
            self._bad_tag(node)
        # LocatedList(mark), without a Python frame for its __init__ (a file has many containers)
        result = _new_list(LocatedList)
        result.mark = node.start_mark
        result.item_marks = marks = []
        append = result.append
        construct = self.construct
        # most items are scalars: typed here, without `construct`'s checks (which an alias needs); the alias
        # depth is the same for every item (`construct` puts it back as it found it)
        plain_scalars = not self.alias_depth
        plain = _PLAIN_VALUES.get
        for item in node.value:
            marks.append(item.start_mark)
            if plain_scalars and type(item) is _ScalarNode:
                if item.tag == _PLAIN:
                    known = plain(item.value, _UNKNOWN)
                    if known is not _UNKNOWN:  # a text read before (see `_scalar`)
                        append(known)
                        continue
                append(self._scalar(item))
            else:
                append(construct(item, depth + 1))
        return result

    def _mapping(self, node: yaml.MappingNode, depth: int) -> LocatedDict:
        if node.tag != _MAP:
            self._bad_tag(node)
        # LocatedDict(mark), without a Python frame for its __init__ (a file has many containers)
        result = _new_dict(LocatedDict)
        result.mark = node.start_mark
        result.key_marks = marks = {}
        construct = self.construct
        merged: set[str] | None = None  # keys a merge (<<) supplied: explicit keys may override them, in any order
        plain = _PLAIN_VALUES.get
        plain_scalars = not self.alias_depth  # as in `_sequence`
        for key_node, value_node in node.value:
            key = key_node.value
            if key_node.tag != _PLAIN or type(key) is not str or type(plain(key)) is not str:
                # not a text read before as a string (most keys are): the resolvers decide; a collection that
                # carries the plain tag (written out as `!<reconciler:plain>`) is refused where it is constructed
                tag = key_node.tag
                if tag == _PLAIN and type(key) is str:
                    tag = _plain_tag(key) if key[:1] in _IMPLICIT else _STR
                    if tag == _STR:
                        _remember(key, key)
                if tag == _MERGE:
                    if merged is None:
                        merged = set()
                    merged |= self._merge(result, value_node, depth)
                    continue
                if tag != _STR or type(key_node) is not _ScalarNode:
                    key = self._key(key_node, depth)
            if key in marks and (merged is None or key not in merged):
                raise InputError.at(
                    location(self.file, key_node.start_mark),
                    f"duplicate key {key!r}; each key may appear once in a mapping",
                    "duplicate-key",
                )
            if merged:
                merged.discard(key)
            marks[key] = key_node.start_mark
            # most values are scalars: typed here, as in `_sequence`
            if plain_scalars and type(value_node) is _ScalarNode:
                if value_node.tag == _PLAIN:
                    known = plain(value_node.value, _UNKNOWN)
                    if known is not _UNKNOWN:
                        result[key] = known
                        continue
                result[key] = self._scalar(value_node)
            else:
                result[key] = construct(value_node, depth + 1)
        return result

    def _key(self, key_node: yaml.Node, depth: int) -> str:
        if not isinstance(key_node, yaml.ScalarNode):  # `? [a, b] : c`: its value would print as parser nodes
            kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
            raise InputError.at(
                location(self.file, key_node.start_mark),
                f"a mapping key must be text, not {kind}; write a plain or quoted key",
                "key",
            )
        key = self.construct(key_node, depth + 1)
        if isinstance(key, bool) or key is None or isinstance(key, (dict, list)):
            raise InputError.at(
                location(self.file, key_node.start_mark),
                f"mapping key {getattr(key_node, 'value', '')!r} must be a string; quote it",
                "key",
            )
        return str(key)

    def _merge(self, result: LocatedDict, value_node: yaml.Node, depth: int) -> set[str]:
        """Add the keys of the merged mapping(s) that `result` lacks; return them."""
        added: set[str] = set()
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            merged = self.construct(source, depth + 1)
            if not isinstance(merged, LocatedDict):
                raise InputError.at(location(self.file, source.start_mark), "a merge key (<<) takes a mapping", "merge")
            for key, value in merged.items():
                if key not in result:
                    result[key] = value
                    result.key_marks[key] = merged.key_marks[key]
                    added.add(key)
        return added

    def _bad_tag(self, node: yaml.Node) -> None:
        raise InputError.at(
            location(self.file, node.start_mark),
            f"unsupported YAML tag {node.tag!r}; use plain lists and mappings",
            "tag",
        )


MAX_INTEGER = 2**63 - 1
MAX_INTEGER_TEXT = 72
"""Characters of an integer worth converting. Longer text is refused before any conversion: a string of
thousands of digits costs quadratic time to convert, and Python refuses past 4,300 of them."""


def checked_int(number: int, written: str) -> int | float:
    """An integer past 64 bits becomes a float, as orjson (our JSON parser for descriptions) and JavaScript
    read it: published descriptions write `maximum: 18446744073709551615`, and no encoder downstream takes
    an integer that wide."""
    if not -MAX_INTEGER - 1 <= number <= MAX_INTEGER:
        return float(number)
    return number


def _too_large(written: str) -> str:
    shown = f"{written[:12]}…{written[-6:]} ({len(written)} characters)"
    return f"integer {shown} is too long (at most {MAX_INTEGER_TEXT} characters); quote it if it is text"


def checked_float(number: float, written: str) -> float:
    if not math.isfinite(number):
        shown = written if len(written) <= 24 else f"{written[:20]}…"
        raise ValueError(f"{shown} is not a finite number (JSON has no NaN or infinity); quote it if it is text")
    return number


def _to_int(value: str) -> int | float:
    if len(value) > MAX_INTEGER_TEXT:
        raise ValueError(_too_large(value))
    try:
        number = _parse_int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an integer (tag !!int); write a whole number or drop the tag") from None
    return checked_int(number, value)


def _to_bool(value: str) -> bool:
    try:
        return _BOOL_VALUES[value.lower()]
    except KeyError:
        raise ValueError(f"{value!r} is not a boolean (tag !!bool); write true or false") from None


def _to_null(value: str) -> None:
    if value not in ("", "~", "null", "Null", "NULL"):
        raise ValueError(f"{value!r} is not null (tag !!null); write null or drop the tag")


def _to_float(value: str) -> float:
    try:
        number = _parse_float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number (tag !!float); write a number or drop the tag") from None
    return checked_float(number, value)


def _parse_int(text: str) -> int:
    """YAML 1.2: decimal (a leading zero is still decimal), `0o` octal, `0x` hexadecimal."""
    if text.startswith("0x"):
        return int(text[2:], 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if not text.lstrip("+-").isdigit():  # (int() would also take spaces and underscores)
        raise ValueError(text)
    return int(text)


def _parse_float(value: str) -> float:
    text = value.lower()
    if text in (".inf", "+.inf"):
        return float("inf")
    if text == "-.inf":
        return float("-inf")
    if text == ".nan":
        return float("nan")
    if "_" in text or not text.strip() == text:  # (float() would take them)
        raise ValueError(value)
    return float(text)


_TYPED: dict[str, Callable[[str], Any]] = {_INT: _to_int, _FLOAT: _to_float, _BOOL: _to_bool, _NULL: _to_null}
"""The scalar tags a value may carry, each with its conversion (a ValueError says what is wrong)."""

_ScalarNode = yaml.ScalarNode
_new_dict = dict.__new__
_new_list = list.__new__
_UNKNOWN = object()
_PLAIN_VALUES: dict[str, Any] = {}
"""Plain scalar text → its value (str, int, float, bool or None), for the short texts that files repeat (keys,
types, booleans, small numbers): a dict lookup instead of the implicit resolvers' expressions. Immutable values
only, so sharing them is safe; bounded, so hostile input cannot grow it."""
_PLAIN_VALUES_MAX = 20_000
_PLAIN_TEXT_MAX = 64


def _remember(text: str, value: Any) -> Any:
    if len(text) <= _PLAIN_TEXT_MAX and len(_PLAIN_VALUES) < _PLAIN_VALUES_MAX:
        _PLAIN_VALUES[text] = value
    return value
