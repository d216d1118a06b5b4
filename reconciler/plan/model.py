"""A plan is a value: the changes that would make the registry match tools.d, decided before anything runs.

Renderers show it, the plan file saves it, apply executes it. Nothing here does I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

FORMAT_VERSION = 1

Action = Literal["create", "update", "adopt", "delete", "keep"]
"""create: new tool; update: managed tool changed in place; adopt: an unmanaged live tool of a desired name is
taken over (and updated); delete: a managed tool no longer in tools.d; keep: a managed tool that would be
deleted but is held (protected, or pruning is off)."""

ACTION_ORDER: dict[str, int] = {"create": 0, "adopt": 1, "update": 2, "delete": 3, "keep": 4}
"""The execution order: creates and updates before deletes, so a rename never leaves a gap."""


class Missing:
    """Marks a side of a field change where the field is absent (an added or removed attribute)."""

    _instance: Missing | None = None

    def __new__(cls) -> Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = Missing()


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$-]+")
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*")


def address(path: Sequence[str]) -> str:
    """An attribute's path as the plan writes it: dotted (`schema.properties.sku.type`), with a key that is not a
    plain name quoted, as Terraform addresses a map key (`labels["app.example.com/tier"]`), so that a key with a
    dot in it reads, and splits, as one key."""
    dotted = ".".join(path)
    # the commonest by far: every key a plain name (one match for the whole path; a plan has one per changed leaf)
    if dotted.count(".") == len(path) - 1 and _PLAIN_PATH.fullmatch(dotted):
        return dotted
    return "".join(step(key, first=index == 0) for index, key in enumerate(path))


def step(key: str, *, first: bool = False) -> str:
    """One key of an `address`: `.key`, or `["key"]` (`key` alone as the first one)."""
    if _PLAIN_KEY.fullmatch(key):
        return key if first else f".{key}"
    return f"[{json.dumps(key, ensure_ascii=False)}]"


@dataclass(frozen=True)
class FieldChange:
    """One attribute that differs. `path` is its `address` (`schema.properties.sku.type`); a side is MISSING
    when the attribute is absent there."""

    path: str
    before: Any
    after: Any

    @property
    def kind(self) -> Literal["add", "remove", "change"]:
        if self.before is MISSING:
            return "add"
        if self.after is MISSING:
            return "remove"
        return "change"

    def to_json(self) -> dict[str, Any]:
        # an absent side is null; `kind` tells it apart from a field whose value is null
        return {"path": self.path, "kind": self.kind, "before": plain(self.before), "after": plain(self.after)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldChange:
        kind = data["kind"]
        return cls(
            data["path"], MISSING if kind == "add" else data["before"], MISSING if kind == "remove" else data["after"]
        )


@dataclass(frozen=True)
class Change:
    """What happens to one tool.

    `before` is the live tool in ToolInput form (server fields left out), `after` the payload that will be sent
    (with ownership labels). `live_version` is the version read when planning: apply refuses when it moved.
    """

    action: Action
    name: str
    id: str | None = None
    drift: bool = False
    reason: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    fields: tuple[FieldChange, ...] = ()
    unchanged_fields: int = 0
    live_version: int | None = None
    digest: str | None = None
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        """What the plan's JSON form says of this change (the plan file adds what apply needs)."""
        return {
            "action": self.action,
            "name": self.name,
            "id": self.id,
            "drift": self.drift,
            "reason": self.reason,
            "before": plain(self.before),
            "after": plain(self.after),
            "fields": [field.to_json() for field in self.fields],
        }


def plain(value: Any) -> Any:
    """`value` as fresh JSON data, nothing shared with the plan; MISSING is null."""
    if value is MISSING:
        return None
    if isinstance(value, Mapping):
        return {str(key): plain(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    target: str
    unchanged: int = 0
    unmanaged: int = 0
    managed: int = 0
    format_version: int = FORMAT_VERSION
    warnings: tuple[str, ...] = field(default=())
    noun: str = "tool"
    """What one entity of the target is called: `tool`, or `action` (Data Actions)."""

    @property
    def actionable(self) -> tuple[Change, ...]:
        """The changes that write to the registry, in execution order."""
        return tuple(c for c in self.changes if c.action != "keep")

    @property
    def kept(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action == "keep")

    @property
    def drifted(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.drift)

    @property
    def is_empty(self) -> bool:
        return not self.actionable

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "create": self.count("create"),
            "update": self.count("update"),
            "delete": self.count("delete"),
            "adopt": self.count("adopt"),
            "kept": self.count("keep"),  # managed, gone from tools.d, held (protected, or pruning off)
            "unchanged": self.unchanged,
            "unmanaged": self.unmanaged,
        }
