"""What a target's form provides, and what the forms share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from reconciler.errors import ServerError
from reconciler.model import Tool
from reconciler.state.record import Record


@dataclass(frozen=True)
class DesiredTool:
    """A compiled tool and the file it came from, relative to the repository root."""

    tool: Tool
    source: str


_TYPE_LIST = b'"type":['
"""How a `type` list starts in orjson's compact JSON (no other text can hold it: a quote inside a string is \\")."""


def in_live_order(desired: Any, live: Any) -> Any:
    """`desired` with each `type` list written in the order the live value at the same place has, where the two
    name the same types: JSON Schema reads `[string, "null"]` and `["null", string]` alike, so a tools.d that
    writes them the other way is no change (and its digest is that of what the registry holds). Copied only
    where a list moves; anything else is `desired` as it is."""
    if desired == live:  # nearly every payload of a plan: nothing to walk (`==` cannot make a change unseen)
        return desired
    try:
        if _TYPE_LIST not in orjson.dumps(desired):  # no type list to reorder: a C scan of µs, cheaper than the walk
            return desired
    except orjson.JSONEncodeError:  # what orjson does not write (an integer past 64 bits): the walk decides
        pass
    if isinstance(desired, dict) and isinstance(live, Mapping):
        changed: dict[str, Any] | None = None
        for key, value in desired.items():
            there = live.get(key)
            if key == "type" and isinstance(there, list) and _same_types(value, there):
                new = list(there)
            elif isinstance(value, (dict, list)) and there is not None:
                new = in_live_order(value, there)
            else:
                continue
            if new is not value:
                changed = dict(desired) if changed is None else changed
                changed[key] = new
        return desired if changed is None else changed
    if isinstance(desired, list) and isinstance(live, list) and len(desired) == len(live):
        items = [in_live_order(mine, theirs) for mine, theirs in zip(desired, live, strict=True)]
        return desired if all(new is old for new, old in zip(items, desired, strict=True)) else items
    return desired


def _same_types(mine: Any, theirs: Any) -> bool:
    """Two `type` lists of the same names in another order."""
    return (
        isinstance(mine, list)
        and isinstance(theirs, list)
        and mine != theirs
        and all(isinstance(name, str) for name in (*mine, *theirs))
        and sorted(mine) == sorted(theirs)
    )


class Form(Protocol):
    """The pure half of a target: payloads, ownership marker, and parsing live entities into Records."""

    kind: str
    """`tools` or `data-actions`, as `reconciler.yaml` names it."""
    noun: str
    """What one entity is called in messages: `tool`, `action`."""
    ignorable: Mapping[str, str]
    """`ignore_changes` names → the payload key that holds the field."""

    def desired(self, item: DesiredTool, live: Record | None, managed_by: str) -> Record:
        """The record apply would write: the tool's payload (merged with what `live` holds where the desired
        state leaves a field unset, or names it in `ignore_changes`), stamped with the ownership marker."""
        ...

    def parse(self, raw: Any, *, host: str) -> Record:
        """A live entity as the server sent it → a Record; ServerError when it cannot be one."""
        ...

    def only_source_moved(self, paths: Sequence[str], before: Record, after: Record) -> bool:
        """True when the only difference is the file a definition lives in (nothing the platform sees)."""
        ...

    def only_marker(self, paths: Sequence[str]) -> bool:
        """True when the paths that differ are all the ownership marker's (source, digest, ignored fields)."""
        ...

    def owner_of(self, payload: Mapping[str, Any]) -> str | None:
        """The owner a payload's ownership marker names (None: unmarked, or a damaged marker)."""
        ...


def broken_entity(host: str, noun: str, what: str) -> ServerError:
    """The error for a live entity that cannot be a Record: rejected at the client's edge, with what to do."""
    return ServerError(
        f"{host} sent a {noun} {what}; the reconciler cannot manage it safely, so it stopped before changing "
        "anything: fix or remove that entity in the org, or report the server's answer (run with --debug)"
    )


def optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["DesiredTool", "Form", "broken_entity", "in_live_order", "optional_str"]
