"""Counts in English for what the commands print: "1 tool", "2 tools" (never "1 tools")."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """The noun for `count` of it: `tool` for one, `tools` otherwise (every noun printed takes an s)."""
    return noun if count == 1 else noun + "s"


def counted(count: int, noun: str) -> str:
    """`count` and its noun: "1 tool", "0 tools", "3 tools"."""
    return f"{count} {plural(count, noun)}"


def listed(names: list[str], limit: int = 10) -> str:
    """The first `limit` names, then how many more: "a, b, c and 7 more" (a message stays one readable line)."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
