"""The record both sides of the diff are made of: a desired tool in a target's payload form, or a live entity
of that target, parsed at the client's edge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Record:
    """One tool as a target holds it.

    `content` is the target's input form (the Tools API's ToolInput, or Data Actions' PostActionInput), with the
    server's own fields left out and the ownership marker in: the exact shape that is sent, and that the diff
    compares. The bookkeeping read from the marker (`owner`, `source`, `digest`, `protected`) is parsed once,
    here, so nothing downstream digs in payloads for it. A desired record has no `id` or `version`.
    """

    name: str
    content: Mapping[str, Any]
    id: str | None = None
    version: int | None = None
    owner: str | None = None
    source: str | None = None
    digest: str | None = None
    """The digest the ownership marker carries (what the reconciler last wrote), not one computed now."""
    protected: bool = False
    drifted: bool = False
    """A managed entity whose content no longer matches the digest the reconciler wrote: edited outside git."""
    ignored: tuple[str, ...] = ()
    """The fields (Tools API keys, Data Actions paths) the digest leaves out: those `ignore_changes` named when it
    was written, as the marker records them."""
    draft: bool = False
    """Data Actions: an unpublished draft of this action exists (an interrupted apply, or an edit in the UI)."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The entity as the server sent it (export reads the server's fields from it)."""

    def managed_by(self, owner: str) -> bool:
        return self.owner == owner


__all__ = ["Record"]
