"""Frozen records that flow through the pipeline: places in the input, and compiled tools."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = Any
"""A JSON value: dict, list, str, int, float, bool or None."""

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
TOOL_INPUT_FIELDS = (
    "name",
    "description",
    "schema",
    "outputSchema",
    "executionEndpoint",
    "request",
    "context",
    "rateLimit",
    "labels",
)
"""The fields of a Tool that a client writes (DESIGN §4, the ToolInput); the rest belong to the server."""


@dataclass(frozen=True, slots=True, order=True)
class SourceLocation:
    """A place in the input: a path as the user would type it, and a 1-based line and column; line 0 for a
    path that has no lines (a folder), shown as the path alone."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file

    @classmethod
    def path(cls, file: str) -> SourceLocation:
        """A folder, or a path that is not there: nothing inside it to point at."""
        return cls(file, 0, 0)


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests_per_minute: int | None = None
    burst_size: int | None = None


ToolOrigin = Literal["definition", "openapi"]

DEFAULT_TIMEOUT = 5.0
"""Seconds one call of a tool may take, retries included, when the tool sets no `timeout`."""


class Secret(str):
    """A credential's value: a `str` for the code that sends it, `(sensitive)` wherever it is shown."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'(sensitive)'"


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """One security scheme of an OpenAPI description, as the runtime applies it.

    `kind` is `apiKey` (sent as `parameter` in `location`: header, query or cookie), `basic` (the credential is
    `user:password`) or `bearer` (HTTP bearer, and OAuth 2 / OpenID Connect, whose credential is a token)."""

    name: str
    kind: Literal["apiKey", "basic", "bearer"]
    location: Literal["header", "query", "cookie"] = "header"
    parameter: str = "Authorization"


@dataclass(frozen=True)
class Security:
    """An operation's security requirement: any one of `alternatives`, each needing all of its schemes (an empty
    alternative: no credentials needed). `credentials` are the source's values by scheme name; they are never
    part of a payload, a plan or a digest. `location`: where the requirement is written."""

    alternatives: tuple[tuple[SecurityScheme, ...], ...]
    credentials: Mapping[str, Secret]
    written: SourceLocation | Callable[[], SourceLocation] = field(compare=False, repr=False)
    """Where the requirement is written, or how to find it: placing a key of a large JSON description scans its
    text, and only an error about the requirement needs it (see `location`)."""
    unsupported: tuple[str, ...] = ()
    """Schemes the runtime cannot fill (e.g. mutualTLS, HTTP digest), by name."""

    @functools.cached_property
    def location(self) -> SourceLocation:
        """Where the requirement is written, found on first use."""
        written = self.written
        return written if isinstance(written, SourceLocation) else written()


@dataclass(frozen=True)
class Tool:
    """One desired tool, compiled from a tool definition or an OpenAPI operation.

    `schema` is the model-facing JSON Schema (context parameters are not in it). `field_locations` maps the
    names of the fields written in the input (`name`, `description`, `parameters.sku`, …) to where they were
    written, so that later stages can point at them.
    """

    name: str
    description: str
    endpoint: str
    schema: Mapping[str, JSON]
    location: SourceLocation
    context: Mapping[str, str] = field(default_factory=dict)
    rate_limit: RateLimit | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    request: Mapping[str, JSON] | None = None
    protected: bool = False
    ignore_changes: tuple[str, ...] = ()
    origin: ToolOrigin = "definition"
    schema_is_user_written: bool = False
    field_locations: Mapping[str, SourceLocation] = field(default_factory=dict)
    timeout: float | None = None
    """Seconds one call may take, retries included (1-60); None: DEFAULT_TIMEOUT. Not a field of the registry."""
    security: Security | None = None
    """The OpenAPI operation's security requirement, for the runtime; None when it has none."""
    output_schema: Mapping[str, JSON] | None = None
    """The JSON Schema (2020-12) of a successful answer, when the OpenAPI description gives one."""
    secure: bool = False
    """Its inputs are sensitive (a Data Action's `secure`: kept out of logs, not offered to AI guides)."""

    def location_of(self, field_name: str) -> SourceLocation:
        """Where `field_name` (or its closest written parent) was written, else the tool itself."""
        probe = field_name
        while probe:
            if probe in self.field_locations:
                return self.field_locations[probe]
            probe = probe.rpartition(".")[0]
        return self.location


@dataclass(frozen=True, slots=True)
class SkippedOperation:
    """An OpenAPI operation that did not become a tool, and why."""

    operation: str
    location: SourceLocation
    reason: str


__all__ = [
    "DEFAULT_TIMEOUT",
    "JSON",
    "JSON_SCHEMA_DIALECT",
    "NAME_PATTERN",
    "TOOL_INPUT_FIELDS",
    "RateLimit",
    "Secret",
    "Security",
    "SecurityScheme",
    "SkippedOperation",
    "SourceLocation",
    "Tool",
    "ToolOrigin",
]
