"""Tool names and descriptions for operations.

Names: the `operationId` with every character outside `[a-zA-Z0-9_-]` replaced by `_`; without one, the
method and the path (`GET /orders/{id}` → `get_orders_id`). The source's `name_prefix` goes in front. A name
longer than 64 characters keeps its first 55 and gets `_` and 8 hex digits of its sha256, so the same long
name always shortens the same way. Within one description, names are given in the order the operations are
written, over every operation (selected or not, so that selecting one more operation never renames another):
the first keeps its name, later ones get `_2`, `_3`, … A name set by an override is used as written and is
reserved before any generated name.

Descriptions: the operation's `description` when it fits in the limit, else its `summary`, else the
description shortened at a word boundary (with `…`), else `METHOD /path`.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME = 64
_NOT_NAME = re.compile(r"[^a-zA-Z0-9_-]")
_RUNS = re.compile(r"_+")


def base_name(operation_id: object, method: str, path: str) -> str:
    """The name an operation gets before prefix, shortening and deduplication."""
    if isinstance(operation_id, str) and operation_id.strip():
        return _NOT_NAME.sub("_", operation_id.strip())
    return _RUNS.sub("_", _NOT_NAME.sub("_", f"{method}_{path}")).strip("_") or method


def fit(name: str, limit: int = MAX_NAME) -> str:
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}_{digest}"


class NameBook:
    """Gives out unique names in order; names reserved first are never given to anyone else."""

    def __init__(self, reserved: set[str]) -> None:
        self._taken = set(reserved)
        self._asked: dict[str, list[str]] = {}

    def give(self, wanted: str) -> str:
        name = fit(wanted)
        number = 2
        while name in self._taken:
            suffix = f"_{number}"
            name = fit(wanted, MAX_NAME - len(suffix)) + suffix
            number += 1
        self._taken.add(name)
        self._asked.setdefault(fit(wanted), []).append(name)
        return name

    def contested(self) -> dict[str, tuple[str, ...]]:
        """Each name given out of a collision (several operations wanted one name, or an override held it), and
        every name of its group: which operation gets which depends on the order they are written in, so a plan
        checks that none moves away from the operation it calls in the registry."""
        groups: dict[str, tuple[str, ...]] = {}
        for wanted, names in self._asked.items():
            if len(names) > 1 or names[0] != wanted:
                group = tuple(dict.fromkeys([wanted, *names]))
                for name in group:
                    groups[name] = group
        return groups


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word boundary and marked with `…` when cut."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def clean(text: object) -> str:
    """Whitespace runs (newlines included) become one space; anything that is not a string, ``."""
    if not isinstance(text, str):
        return ""
    # already clean, the common case, tested without a list of every word: every whitespace character but
    # the space is unprintable, so a printable text is clean when no two spaces meet and none is at an end
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def describe(summary: object, description: object, method: str, path: str, limit: int) -> tuple[str, bool]:
    """The tool description and whether it had to be shortened."""
    long, short = clean(description), clean(summary)
    if long and len(long) <= limit:
        return long, False
    if short and len(short) <= limit:
        return short, False
    text = long or short
    if text:
        return shorten(text, limit), True
    return shorten(f"{method.upper()} {path}", limit), False


__all__ = ["MAX_NAME", "NameBook", "base_name", "clean", "describe", "fit", "shorten"]
