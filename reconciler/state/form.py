"""What a target's form provides, and what the forms share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.errors import ServerError
from reconciler.model import Tool
from reconciler.state.record import Record


@dataclass(frozen=True)
class DesiredTool:
    """A compiled tool and the file it came from, relative to the repository root."""

    tool: Tool
    source: str


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


__all__ = ["DesiredTool", "Form", "broken_entity", "optional_str"]
