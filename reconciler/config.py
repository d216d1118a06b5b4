"""`reconciler.yaml` at the repository root: limits of the capability matrix, ownership and safety settings."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2

from reconciler.errors import Diagnostic, InputError
from reconciler.load import Document, interpolate, key_location, read_documents
from reconciler.model import SourceLocation
from reconciler.redaction import named_like_secret

CONFIG_FILE = "reconciler.yaml"
TARGETS = ("tools", "data-actions")
MAX_CATEGORY = 256
"""`target:` in reconciler.yaml: the seed Tools API (DESIGN §4) or Genesys Cloud Data Actions (§8)."""
DEFAULT_PARAMETER_TYPES = ("string", "number", "integer", "boolean", "array", "object")


@dataclass(frozen=True)
class Limits:
    """The server's capability matrix (DESIGN §4); a project may tighten or loosen it."""

    max_parameters: int = 10
    max_description_length: int = 255
    parameter_types: tuple[str, ...] = DEFAULT_PARAMETER_TYPES
    name_pattern: str = r"^[a-zA-Z0-9_-]{1,64}$"


@dataclass(frozen=True)
class Config:
    root: Path
    limits: Limits = field(default_factory=Limits)
    managed_by: str = "reconciler"
    prune: bool = True
    mass_delete_share: float = 0.25
    sensitive_variables: tuple[str, ...] = ()
    file: str | None = None
    target: str = "tools"
    integration: str | None = None
    """Data Actions: the name or id of the Web Services Data Actions integration whose actions are managed."""
    category: str | None = None
    """Data Actions: the actions' category; None: the integration's name."""
    integration_at: SourceLocation | None = None
    """Where `integration:` is written: its lookup in the org fails at that line."""
    target_at: SourceLocation | None = None
    """Where `target:` is written: a setting the target needs and the file lacks is reported at that line."""
    managed_by_at: SourceLocation | None = None
    """Where `managed_by:` is written; None: the default, which every repository that does not set one shares."""
    previously_managed_by: tuple[str, ...] = ()
    """Owners this repository's tools carried before (a renamed `managed_by`): a tool of tools.d that one of them
    manages is planned as an adoption that moves it to `managed_by`, instead of being refused as another's."""

    def is_sensitive(self, variable: str) -> bool:
        """Explicitly listed, or named like a secret."""
        return variable in self.sensitive_variables or named_like_secret(variable)


def compile_pattern(pattern: str) -> Any:
    """A user's regular expression (`limits.name_pattern`), compiled by RE2, or a ValueError that says why not.

    RE2 matches in time linear in the text, whatever the pattern (`^(a+)+$` included), so a pattern in
    reconciler.yaml cannot make validate hang, on any machine: no timeout to tune, no verdict that depends on
    load. It refuses the few constructs that need backtracking (backreferences, lookaround), which a rule for
    names has no use for; the message says so."""
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own parse error on stderr; ours names the file and line
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"'limits.name_pattern' is not a regular expression we can use ({reason}); write one without "
            "backreferences or lookaround, e.g. ^[a-zA-Z0-9_-]{1,64}$"
        ) from None


_KEYS: dict[str, type | tuple[type, ...]] = {
    "limits": dict,
    "managed_by": str,
    "previously_managed_by": list,
    "prune": bool,
    "mass_delete_share": (int, float),
    "sensitive_variables": list,
    "target": str,
    "integration": str,
    "category": str,
}
_LIMIT_KEYS: dict[str, type | tuple[type, ...]] = {
    "max_parameters": int,
    "max_description_length": int,
    "parameter_types": list,
    "name_pattern": str,
}


_TYPE_NAMES: dict[type | tuple[type, ...], str] = {
    dict: "a mapping",
    str: "a string",
    bool: "true or false",
    (int, float): "a number",
    list: "a list",
    int: "a whole number",
}


def find_root(directory: Path) -> Path:
    """The repository root: the nearest ancestor with `.git`, else the current directory when it holds
    `directory`, else `directory` itself. Ancestors are looked for where links lead, then where the path is
    written: a `tools.d` that links to a folder in no repository is still its own repository's, with that
    repository's reconciler.yaml."""
    written = Path(os.path.abspath(directory))
    directory = directory.resolve()
    for candidate in (directory, *directory.parents, written, *written.parents):
        if (candidate / ".git").exists():
            return candidate.resolve()
    cwd = Path.cwd().resolve()
    if directory == cwd or cwd in directory.parents:
        return cwd
    return directory


def load_config(root: Path, environ: Mapping[str, str] | None = None) -> Config:
    config, diagnostics = read_config(root, environ)
    if diagnostics:
        raise InputError(diagnostics)
    return config


def read_config(root: Path, environ: Mapping[str, str] | None = None) -> tuple[Config, list[Diagnostic]]:
    """The configuration and what is wrong in it, so that tools.d is checked in the same run. InputError when
    the tool checks cannot trust it (a broken file, a broken `limits`, `target`, `integration` or `category`:
    tools.d checked against defaults instead would be told of errors that are not there)."""
    path = root / CONFIG_FILE
    if not path.is_file():
        return Config(root=root), []
    documents = read_documents(path)
    if not documents:
        return Config(root=root), []
    document = documents[0]
    diagnostics: list[Diagnostic] = []
    interpolate(document.content, document.file, environ if environ is not None else os.environ, diagnostics, {})
    interpolated = bool(diagnostics)  # a value left as written: which setting it is in is not known here
    config, settled = _parse(document, root, diagnostics)
    if diagnostics and (interpolated or not settled):
        raise InputError(diagnostics)
    return config, diagnostics


_CHECKED_BY = ("limits", "target", "integration", "category")
"""The settings validate's tool checks depend on (the capability matrix, the Data Actions profile)."""


def _parse(document: Document, root: Path, diagnostics: list[Diagnostic]) -> tuple[Config, bool]:
    """The configuration, and whether every setting the tool checks depend on is sound (`_CHECKED_BY`)."""
    content = document.content
    if not isinstance(content, dict):
        raise InputError.at(document.location, f"{CONFIG_FILE} must be a mapping", "type")
    values = _check(content, _KEYS, document.file, diagnostics, "")
    share = float(values.get("mass_delete_share", 0.25))
    if not 0 <= share <= 1:
        diagnostics.append(
            Diagnostic(
                "error",
                key_location(document.file, content, "mass_delete_share"),
                "mass_delete_share is a share of the managed tools, from 0 to 1 (e.g. 0.25)",
            )
        )
    # an empty owner is every repository's whose value came out empty: each would prune the others' tools
    if "managed_by" in values and not values["managed_by"].strip():
        diagnostics.append(
            Diagnostic("error", key_location(document.file, content, "managed_by"), "'managed_by' is empty")
        )
    previously = _previous_owners(values, content, document.file, diagnostics)
    # from here on, every diagnostic is of a setting the tool checks depend on
    settled = not any(key in content and key not in values for key in _CHECKED_BY)
    before = len(diagnostics)
    limit_values = _check(values.get("limits", {}), _LIMIT_KEYS, document.file, diagnostics, "limits.")
    name_pattern = limit_values.get("name_pattern", Limits.name_pattern)
    try:
        compile_pattern(name_pattern)
    except ValueError as exc:
        diagnostics.append(
            Diagnostic("error", key_location(document.file, content["limits"], "name_pattern"), str(exc), "pattern")
        )
        name_pattern = Limits.name_pattern
    target = values.get("target", "tools")
    if target not in TARGETS:
        diagnostics.append(
            Diagnostic(
                "error",
                key_location(document.file, content, "target"),
                f"target {target!r} is not one of: {', '.join(TARGETS)}",
                "enum",
            )
        )
    limits = Limits(
        max_parameters=limit_values.get("max_parameters", 10),
        max_description_length=limit_values.get("max_description_length", 255),
        parameter_types=tuple(limit_values.get("parameter_types", DEFAULT_PARAMETER_TYPES)),
        name_pattern=name_pattern,
    )
    for key in ("max_parameters", "max_description_length"):
        if limit_values.get(key, 0) < 0:
            where = key_location(document.file, content["limits"], key)
            message = f"'limits.{key}' must be 0 or more, not {limit_values[key]}"
            diagnostics.append(Diagnostic("error", where, message, "limit"))
    for key in ("integration", "category"):
        if key in values and not values[key].strip():
            diagnostics.append(Diagnostic("error", key_location(document.file, content, key), f"'{key}' is empty"))
    if len(values.get("category") or "") > MAX_CATEGORY:
        message = f"'category' is {len(values['category'])} characters; a Data Action's category holds {MAX_CATEGORY}"
        diagnostics.append(Diagnostic("error", key_location(document.file, content, "category"), message))
    return Config(
        root=root,
        integration=values.get("integration"),
        integration_at=key_location(document.file, content, "integration") if "integration" in values else None,
        category=values.get("category"),
        limits=limits,
        managed_by=values.get("managed_by", "reconciler"),
        prune=values.get("prune", True),
        mass_delete_share=share,
        sensitive_variables=tuple(str(v) for v in values.get("sensitive_variables", [])),
        file=document.file,
        target=target,
        target_at=key_location(document.file, content, "target") if "target" in values else None,
        managed_by_at=key_location(document.file, content, "managed_by") if "managed_by" in values else None,
        previously_managed_by=previously,
    ), settled and len(diagnostics) == before


def _previous_owners(
    values: Mapping[str, Any], content: Mapping[str, Any], file: str, diagnostics: list[Diagnostic]
) -> tuple[str, ...]:
    """`previously_managed_by`: names, none empty, none the owner this repository is now."""
    if "previously_managed_by" not in values:
        return ()
    where = key_location(file, content, "previously_managed_by")
    owner = values.get("managed_by", "reconciler")
    names: list[str] = []
    for name in values["previously_managed_by"]:
        if not isinstance(name, str) or not name.strip():
            message = f"'previously_managed_by' lists owners (names, as managed_by was written), not {name!r}"
            diagnostics.append(Diagnostic("error", where, message, "type"))
        elif name == owner:
            message = (
                f"'previously_managed_by' names '{name}', which is managed_by itself; list the owner the tools "
                "carried before managed_by was renamed"
            )
            diagnostics.append(Diagnostic("error", where, message))
        elif name not in names:
            names.append(name)
    return tuple(names)


def missing_settings(config: Config) -> list[Diagnostic]:
    """What the target needs that reconciler.yaml does not say. Not a load error: `render` previews the
    actions offline with a placeholder; `validate` reports it, as `plan` and `apply` cannot run without it."""
    if config.target != "data-actions" or config.integration is not None:
        return []
    where = config.target_at or SourceLocation(config.file or CONFIG_FILE)
    message = (
        "target data-actions needs `integration:` too: the name or id of the Web Services Data Actions "
        "integration whose actions this repository manages (docs/data-actions.md)"
    )
    return [Diagnostic("error", where, message, "required")]


def _check(
    mapping: Any,
    allowed: dict[str, type | tuple[type, ...]],
    file: str,
    diagnostics: list[Diagnostic],
    prefix: str,
) -> dict[str, Any]:
    good: dict[str, Any] = {}
    if not isinstance(mapping, dict):
        return good
    for key, value in mapping.items():
        where = key_location(file, mapping, key)
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; known keys: {', '.join(allowed)}"
            diagnostics.append(Diagnostic("error", where, f"unknown key '{prefix}{key}'{hint}", "unknown-key"))
        elif (isinstance(value, bool) and allowed[key] is not bool) or not isinstance(value, allowed[key]):
            wanted = _TYPE_NAMES.get(allowed[key], "another type")
            diagnostics.append(Diagnostic("error", where, f"'{prefix}{key}' must be {wanted}, not {value!r}", "type"))
        else:
            good[key] = value
    return good


__all__ = [
    "CONFIG_FILE",
    "TARGETS",
    "Config",
    "Limits",
    "SourceLocation",
    "compile_pattern",
    "find_root",
    "load_config",
    "missing_settings",
    "read_config",
]
