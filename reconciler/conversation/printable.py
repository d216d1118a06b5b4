"""What the model wrote, made safe to print: its answers and the names of the tools it calls are untrusted (a
tool's output can steer them), and a control sequence in them could rewrite the user's terminal (clear it, set
its clipboard with OSC 52, forge lines) or a CI log, or reorder what a reader sees (bidi overrides: Trojan
Source). They are shown as \\u escapes, as the plan shows a tool's name and description.
"""

from __future__ import annotations

import json
import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Control characters but tab and newline, and the bidi controls."""
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("[\n]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable_json(data: object) -> str:
    """`data` as indented JSON text that is safe to `cat`: json.dumps escapes C0 controls itself; the C1 and bidi
    controls become \\u escapes too, which decode to the same value."""
    return _UNSAFE_IN_JSON.sub(_escape, json.dumps(data, indent=2, ensure_ascii=False))


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` with its control characters as \\u escapes; with `one_line`, its line breaks too."""
    text = _UNSAFE.sub(_escape, text)
    return _LINE_BREAK.sub("\\\\n", text) if one_line else text


__all__ = ["printable", "printable_json"]
