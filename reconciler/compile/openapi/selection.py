"""What a `source:` asks for: which operations, and what each tool gets on top of the description.

`include` keeps an operation only when every criterion it gives matches (a tag in `tags`, an operationId
matching one of the `operations` globs, a method in `methods`); `exclude` drops an operation when any
criterion it gives matches (`deprecated: true` drops deprecated operations). Operations without an
operationId are matched by their generated name. Overrides are keyed by operationId, or by the generated
name when there is none. `defaults` apply to every tool, and an override's values win over them (labels and
context are merged key by key, rate limits field by field).

The mapping was checked against the file-format schema before it gets here; this module still reads it
defensively, ignoring values of the wrong shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from reconciler.model import RateLimit

POLICIES = ("skip", "error", "required_only")


@dataclass(frozen=True)
class Selection:
    tags: tuple[str, ...] | None = None
    operations: tuple[str, ...] | None = None
    methods: tuple[str, ...] | None = None
    deprecated: bool | None = None

    @classmethod
    def read(cls, value: Any) -> Selection | None:
        if not isinstance(value, Mapping):
            return None
        deprecated = value.get("deprecated")
        return cls(
            tags=_strings(value.get("tags")),
            operations=_strings(value.get("operations")),
            methods=None if (m := _strings(value.get("methods"))) is None else tuple(x.lower() for x in m),
            deprecated=deprecated if isinstance(deprecated, bool) else None,
        )

    def matches(self, operation: OperationFacts) -> list[str]:
        """The criteria (as `key`) that `operation` matches."""
        matched = []
        if self.tags is not None and set(self.tags) & set(operation.tags):
            matched.append("tags")
        if self.operations is not None and any(fnmatchcase(operation.key, glob) for glob in self.operations):
            matched.append("operations")
        if self.methods is not None and operation.method in self.methods:
            matched.append("methods")
        if self.deprecated is not None and operation.deprecated == self.deprecated:
            matched.append("deprecated")
        return matched

    def unmatched(self, operations: list[OperationFacts]) -> list[tuple[str, int, str]]:
        """(criterion, index, value) of each tag, glob and method that no operation of `operations` matches: a
        typo (`gte*` for `get*`) that would select nothing, or exclude nothing, in silence."""
        found: list[tuple[str, int, str]] = []
        for index, tag in enumerate(self.tags or ()):
            if not any(tag in operation.tags for operation in operations):
                found.append(("tags", index, tag))
        for index, glob in enumerate(self.operations or ()):
            if not any(fnmatchcase(operation.key, glob) for operation in operations):
                found.append(("operations", index, glob))
        for index, method in enumerate(self.methods or ()):
            if not any(operation.method == method for operation in operations):
                found.append(("methods", index, method))
        return found

    @property
    def criteria(self) -> list[str]:
        return [name for name in ("tags", "operations", "methods", "deprecated") if getattr(self, name) is not None]


@dataclass(slots=True)
class OperationFacts:
    key: str
    method: str
    tags: tuple[str, ...]
    deprecated: bool


@dataclass(frozen=True)
class Settings:
    """A source's settings, with the defaults of a bare description where it gives none."""

    endpoint_base: str | None = None
    include: Selection | None = None
    exclude: Selection | None = None
    name_prefix: str = ""
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    too_many_parameters: str = "skip"
    credentials: Mapping[str, str] = field(default_factory=dict)
    """Security scheme name → its credential (interpolated from `${VAR}`); for the runtime only."""

    @classmethod
    def read(cls, source: Mapping[str, Any] | None) -> Settings:
        if not isinstance(source, Mapping):
            return cls()
        base = source.get("endpoint_base")
        overrides = source.get("overrides")
        defaults = source.get("defaults")
        policy = source.get("too_many_parameters")
        prefix = source.get("name_prefix")
        return cls(
            endpoint_base=base if isinstance(base, str) and base.strip() else None,
            include=Selection.read(source.get("include")),
            exclude=Selection.read(source.get("exclude")),
            name_prefix=prefix if isinstance(prefix, str) else "",
            overrides={k: v for k, v in overrides.items() if isinstance(v, Mapping)}
            if isinstance(overrides, Mapping)
            else {},
            defaults=defaults if isinstance(defaults, Mapping) else {},
            too_many_parameters=policy if policy in POLICIES else "skip",
            credentials={str(k): v for k, v in _mapping(source.get("credentials")).items() if isinstance(v, str)},
        )

    def left_out(self, operation: OperationFacts) -> str | None:
        """Why the source leaves `operation` out, or None when it is selected."""
        if self.include is not None:
            missing = [c for c in self.include.criteria if c not in self.include.matches(operation)]
            if missing:
                return f"not selected by source.include.{missing[0]}"
        if self.exclude is not None:
            matched = self.exclude.matches(operation)
            if matched:
                return f"excluded by source.exclude.{matched[0]}"
        return None


@dataclass(frozen=True)
class ToolSettings:
    """What one tool gets from the source besides the description: defaults, then its override."""

    context: dict[str, str]
    rate_limit: RateLimit | None
    labels: dict[str, str]
    protected: bool
    ignore_changes: tuple[str, ...]
    name: str | None
    description: str | None
    override_context: tuple[str, ...] = ()
    """The context entries the operation's own override names (a typo there deserves a warning)."""
    timeout: float | None = None
    secure: bool = False


def tool_settings(settings: Settings, override: Mapping[str, Any] | None) -> ToolSettings:
    defaults = settings.defaults
    override = override or {}
    rate = {**_mapping(defaults.get("rate_limit")), **_mapping(override.get("rate_limit"))}
    protected = override.get("protected", defaults.get("protected", False))
    ignore = [*(_strings(defaults.get("ignore_changes")) or ()), *(_strings(override.get("ignore_changes")) or ())]
    name, description = override.get("name"), override.get("description")
    return ToolSettings(
        context={
            str(k): str(v)
            for k, v in {**_mapping(defaults.get("context")), **_mapping(override.get("context"))}.items()
        },
        rate_limit=RateLimit(_int(rate.get("requests_per_minute")), _int(rate.get("burst_size"))) if rate else None,
        labels={
            str(k): str(v) for k, v in {**_mapping(defaults.get("labels")), **_mapping(override.get("labels"))}.items()
        },
        protected=protected is True,
        ignore_changes=tuple(dict.fromkeys(ignore)),
        name=name if isinstance(name, str) and name else None,
        description=description if isinstance(description, str) and description.strip() else None,
        override_context=tuple(str(k) for k in _mapping(override.get("context"))),
        timeout=_seconds(override.get("timeout", defaults.get("timeout"))),
        secure=override.get("secure", defaults.get("secure", False)) is True,
    )


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(item) for item in value if isinstance(item, (str, int, float)))
    return None


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


__all__ = ["POLICIES", "OperationFacts", "Selection", "Settings", "ToolSettings", "tool_settings"]
