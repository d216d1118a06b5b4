"""The Data Actions profile of the capability matrix: what `validate` checks, offline, for `target: data-actions`.

Errors: what keeps a tool from becoming an action (`compile_action`: what the contract or the templates cannot
express, a timeout that is not 1-60 whole seconds), a name or category over 256 characters, JSON nested deeper
than 50 levels in a contract. Warnings: fields an action has no place for (`rate_limit`, `labels`: not sent),
credentials an operation needs that its action does not send (the platform adds only an integration's Basic
Auth credentials by itself; User Defined ones must be written into the templates as `${credentials.NAME}`,
which this compiler does not do), and what AI Guides cannot use (a secure action; more than four inputs).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from reconciler.compile.data_actions.action import compile_action
from reconciler.config import MAX_CATEGORY
from reconciler.errors import Diagnostic, Severity
from reconciler.model import SecurityScheme, Tool

MAX_NAME = 256
MAX_NESTING = 50
GUIDE_INPUTS = 4


def check_profile(tools: Iterable[Tool], *, category: str = "") -> list[Diagnostic]:
    return [diagnostic for tool in tools for diagnostic in _check(tool, category)]


def _check(tool: Tool, category: str) -> Iterator[Diagnostic]:
    def found(severity: Severity, field: str, message: str) -> Diagnostic:
        return Diagnostic(severity, tool.location_of(field), message, "data-action")

    if len(tool.name) > MAX_NAME:
        yield found("error", "name", f"'{tool.name[:40]}…' is longer than {MAX_NAME} characters, a Data Action's limit")
    if tool.rate_limit is not None:
        yield found(
            "warning",
            "rate_limit",
            f"rate_limit of '{tool.name}' has no place on a Data Action and is not sent (the platform limits "
            "the integration as a whole)",
        )
    if tool.labels:
        yield found("warning", "labels", f"labels of '{tool.name}' have no place on a Data Action and are not sent")
    security = tool.security
    if security is not None and not any(all(s.kind == "basic" for s in option) for option in security.alternatives):
        needs = " and ".join(_scheme(scheme) for scheme in security.alternatives[0])
        yield Diagnostic(
            "warning",
            security.location,
            f"'{tool.name}' needs credentials ({needs}) that its Data Action does not send: the platform adds only "
            "an integration's Basic Auth credentials by itself (docs/data-actions.md)",
            "data-action",
        )
    compiled = compile_action(tool, category=category, integration_id="")
    yield from compiled.diagnostics
    if compiled.body is None:
        return
    contract = compiled.body["contract"]
    for side, schema in (("input", contract["input"]["inputSchema"]), ("output", contract["output"]["successSchema"])):
        depth = nesting(schema)
        if depth > MAX_NESTING:
            yield found(
                "error",
                "schema" if side == "input" else "name",
                f"the {side} of '{tool.name}' nests JSON {depth} levels deep; Data Actions allow {MAX_NESTING}",
            )
    if tool.secure:
        yield found("warning", "secure", f"'{tool.name}' is secure: AI Guides cannot use secure Data Actions")
    inputs = contract["input"]["inputSchema"].get("properties") or {}
    if len(inputs) > GUIDE_INPUTS:
        yield found(
            "warning",
            "parameters",
            f"'{tool.name}' has {len(inputs)} inputs; an AI Guide uses at most {GUIDE_INPUTS} inputs of an action",
        )


def _scheme(scheme: SecurityScheme) -> str:
    if scheme.kind == "apiKey":
        return f"{scheme.name}: an API key in the {scheme.location} {scheme.parameter!r}"
    return f"{scheme.name}: {scheme.kind}"


def nesting(schema: Any) -> int:
    """How deep the JSON a schema describes can nest (objects and arrays are a level each)."""
    if not isinstance(schema, Mapping):
        return 0
    branches = [schema.get(key) for key in ("allOf", "anyOf", "oneOf")]
    deepest = max((nesting(part) for group in branches if isinstance(group, list) for part in group), default=0)
    children: list[Any] = []
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        children.extend(properties.values())
    for key in ("additionalProperties", "additionalItems"):
        if isinstance(schema.get(key), Mapping):
            children.append(schema[key])
    items = schema.get("items")
    children.extend(items if isinstance(items, list) else [items] if isinstance(items, Mapping) else [])
    kind = schema.get("type")
    container = bool(children) or kind in ("object", "array") or (isinstance(kind, list) and "object" in kind)
    own = (1 + max((nesting(child) for child in children), default=0)) if container else 0
    return max(own, deepest)


__all__ = ["GUIDE_INPUTS", "MAX_CATEGORY", "MAX_NAME", "MAX_NESTING", "check_profile", "nesting"]
