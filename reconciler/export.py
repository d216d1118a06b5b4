"""Live tools → tools.d documents, for adopting an existing org. `plan` on the result is empty.

A schema simple enough for the shorthand is written as `parameters`; anything richer is kept whole under
`schema`. Strings are escaped so that loading them back does not interpolate `${…}` that was never a variable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.compile import OWNERSHIP_LABELS, PERMISSIVE_OUTPUT, PROTECTED_LABEL
from reconciler.errors import ConfigurationError
from reconciler.plan import live_input
from reconciler.plan.render import secret_pattern
from reconciler.redaction import credentials_in
from reconciler.state import Record
from reconciler.state.tools import IGNORABLE_FIELDS, ignored_keys

PARAMETER_KEYS = frozenset(
    {
        "type", "description", "enum", "const", "default", "examples", "format", "pattern", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "minItems", "maxItems",
        "uniqueItems", "items", "properties", "additionalProperties",
    }
)  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_IGNORED_NAMES = {key: name for name, key in IGNORABLE_FIELDS.items() if name != "parameters"}
"""A ToolInput field → its name in `ignore_changes` (`schema` covers `parameters` too)."""


@dataclass(frozen=True)
class ExportedTool:
    filename: str
    document: dict[str, Any]
    managed: bool
    new_variables: tuple[str, ...] = ()
    """Variables the file now uses for credentials that only the registry held: set them before `plan`."""


def export_tools(
    live: Iterable[Record],
    *,
    managed_by: str,
    include_unmanaged: bool,
    sensitive: Mapping[str, str] = {},
) -> list[ExportedTool]:
    """`sensitive` maps variable names to secret values: wherever a value occurs in a live tool, however short,
    the file gets `${NAME}` instead, so the secret stays out of git and loading the file puts it back exactly.
    A credential the registry holds that no variable names (a URL password, a `key=` query value) gets a
    variable of its own, `${TOOL_NAME_SECRET}`, named like a secret so that it is sensitive too."""
    exported: list[ExportedTool] = []
    used: set[str] = set()
    for record in sorted(live, key=lambda r: r.name):
        managed = record.owner == managed_by
        if not managed and not include_unmanaged:
            continue
        known = set(sensitive.values())
        fresh: dict[str, str] = {}
        stem = _UNSAFE.sub("_", record.name).upper() + "_SECRET"
        for credential in sorted(credentials_in(record.content) - known, key=lambda v: (-len(v), v)):
            name, counter = stem, 2
            while name in sensitive or name in fresh:
                name, counter = f"{stem}_{counter}", counter + 1
            fresh[name] = credential
        document = tool_document(record.content, {**sensitive, **fresh})
        exported.append(ExportedTool(_filename(record.name, used), document, managed, tuple(sorted(fresh))))
    return exported


def tool_document(live: Mapping[str, Any], sensitive: Mapping[str, str] = {}) -> dict[str, Any]:
    """One live tool as a tool definition (DESIGN §3), keys in the order people write them, with its strings
    written so that loading them back gives the same values (see `_for_file`)."""
    payload = live_input(live)
    labels = dict(payload.get("labels") or {})
    document: dict[str, Any] = {
        "name": payload.get("name", ""),
        "description": payload.get("description", ""),
        "endpoint": payload.get("executionEndpoint", ""),
    }
    schema = {k: v for k, v in (payload.get("schema") or {"type": "object"}).items() if k != "$schema"}
    parameters = shorthand_parameters(schema)
    if parameters is not None:
        if parameters:
            document["parameters"] = parameters
    else:
        document["schema"] = schema
    output = {k: v for k, v in (payload.get("outputSchema") or PERMISSIVE_OUTPUT).items() if k != "$schema"}
    if output != PERMISSIVE_OUTPUT:  # the default is left unwritten, as tools.d leaves it
        document["output_schema"] = output
    if payload.get("context"):
        document["context"] = dict(payload["context"])
    rate = payload.get("rateLimit") or {}
    if rate:
        document["rate_limit"] = {
            key: rate[source]
            for key, source in (("requests_per_minute", "requestsPerMinute"), ("burst_size", "burstSize"))
            if source in rate
        }
    own = {k: v for k, v in labels.items() if k not in OWNERSHIP_LABELS}
    if own:
        document["labels"] = own
    if labels.get(PROTECTED_LABEL) == "true":
        document["protected"] = True
    ignored = ignored_keys(labels)  # the fields the org's team owns stay theirs after the export
    if ignored:
        document["ignore_changes"] = [_IGNORED_NAMES[key] for key in ignored]
    if payload.get("request"):
        document["request"] = payload["request"]
    secrets = {value: name for name, value in sensitive.items() if value}
    _refuse_where_no_variable_fits(document, secrets)
    pattern = secret_pattern([*secrets, "${"])
    assert pattern is not None  # "${" is always in it
    written: dict[str, Any] = _map_strings(document, lambda text: _for_file(text, pattern, secrets))
    return written


def _refuse_where_no_variable_fits(document: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
    """`${NAME}` can stand for a secret only inside a string value: one that occurs in a name the tool
    defines (a parameter, a label, a context key) or in a number would be written as it is, so it is refused."""
    pattern = secret_pattern(list(secrets))
    if pattern is None:
        return
    for where, text in _names_and_numbers(document):
        found = pattern.search(text)
        if found:
            raise ConfigurationError(
                f"tool '{document.get('name')}': the value of the sensitive variable {secrets[found[0]]} occurs in "
                f"{where}, where ${{{secrets[found[0]]}}} cannot stand, so export would write the secret itself; "
                "a value this common is no secret: give the variable its real value, or unset it for the export"
            )


def _names_and_numbers(value: Any, inside: str = "") -> list[tuple[str, str]]:
    """(where, text) of every name the tool defines (keys of `properties`, `labels`, `context`, `parameters`)
    and of every number, which no variable can replace. `where` never quotes the text: it may be the secret."""
    found: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if inside in ("properties", "labels", "context", "parameters"):
                found.append(("a name the tool defines (a parameter, label or context key)", str(key)))
            found.extend(_names_and_numbers(inner, str(key)))
    elif isinstance(value, list):
        for item in value:
            found.extend(_names_and_numbers(item, inside))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        found.append(("a number", json.dumps(value)))
    return found


def shorthand_parameters(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The shorthand form of an object schema, or None when only the full schema says it all."""
    if set(schema) - {"type", "properties", "required"} or schema.get("type") != "object":
        return None
    properties = schema.get("properties") or {}
    required = schema.get("required") or []
    if not isinstance(properties, dict) or not isinstance(required, list) or set(required) - set(properties):
        return None
    if list(required) != [name for name in properties if name in required]:
        return None  # the shorthand would reorder `required`; harmless, but the round trip should be exact
    parameters: dict[str, Any] = {}
    for name, spec in properties.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str) or set(spec) - PARAMETER_KEYS:
            return None
        parameters[name] = {**spec, **({"required": True} if name in required else {})}
    return parameters


def _filename(name: str, used: set[str]) -> str:
    stem = _UNSAFE.sub("_", name)[:64] or "tool"
    candidate, counter = stem, 2
    while candidate.lower() in used:  # case-insensitive file systems
        candidate, counter = f"{stem}_{counter}", counter + 1
    used.add(candidate.lower())
    return f"{candidate}.yaml"


def _for_file(text: str, pattern: re.Pattern[str], secrets: Mapping[str, str]) -> str:
    """Each secret value replaced by its variable (the secret stays out of git, and loading the file puts it
    back), and every other `${` escaped (the loader would read it as a variable). One pass, longest match
    first: a secret that holds `${` is still found, and no replacement is searched again for a secret."""
    return pattern.sub(lambda found: "$${" if found[0] == "${" else "${" + secrets[found[0]] + "}", text)


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: _map_strings(inner, change) for key, inner in value.items()}
    if isinstance(value, list):
        return [_map_strings(inner, change) for inner in value]
    return value
