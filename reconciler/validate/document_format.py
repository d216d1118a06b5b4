"""Documents → format errors, against the file-format JSON Schema shipped in the package.

The schema is the one editors use for completion (`reconciler/schema/tools-file.schema.json`); here its
errors are turned into messages a person can act on: the place, the key, and what to write instead.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from reconciler.errors import Diagnostic
from reconciler.load import Document

if TYPE_CHECKING:  # jsonschema itself is imported only when a document is invalid (start-up time)
    import jsonschema
    from jsonschema.exceptions import ValidationError

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@cache
def file_format_schema() -> dict[str, Any]:
    from importlib import resources  # here, not at start-up: only a run that checks a document needs it

    text = resources.files("reconciler.schema").joinpath("tools-file.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# The editor schema also carries the capability matrix's defaults (name pattern, description length, parameter
# count, https endpoint, parameter types), so an editor shows them while typing. The format check leaves them
# out: the tool rules enforce them from reconciler.yaml's `limits` (which may differ), with their own messages.
_LIMITS: dict[tuple[str, str], tuple[str, ...]] = {
    ("tool", "name"): ("pattern",),
    ("tool", "description"): ("minLength", "maxLength"),
    ("tool", "endpoint"): ("pattern",),
    ("tool", "parameters"): ("maxProperties",),
    ("override", "name"): ("pattern",),
    ("override", "description"): ("minLength", "maxLength"),
}


@cache
def _format_definitions() -> dict[str, Any]:
    definitions: dict[str, Any] = copy.deepcopy(file_format_schema()["$defs"])
    for (kind, key), keywords in _LIMITS.items():
        for keyword in keywords:
            definitions[kind]["properties"][key].pop(keyword, None)
    definitions["parameter"]["properties"]["type"] = {"type": "string"}  # limits.parameter_types decides
    return definitions


@cache
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": _format_definitions()})


@cache
def _fast_validator(kind: str) -> Any:
    return jsonschema_rs.validator_for({"$ref": f"#/$defs/{kind}", "$defs": _format_definitions()})


def check_document(document: Document) -> list[Diagnostic]:
    """Every format error of a tool definition or source document (OpenAPI descriptions are not checked here).

    jsonschema-rs answers "valid?" a few hundred times faster than jsonschema; only an invalid document pays
    for jsonschema's detailed errors, which carry the paths we turn into places."""
    if document.kind == "openapi":
        return []
    if _fast_validator(document.kind).is_valid(document.content):
        return []
    validator = _validator(document.kind)
    return [d for error in validator.iter_errors(document.content) for d in _translate(document, error)]


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors under a `$ref`/`anyOf` that say something specific."""
    if error.context and error.validator in ("anyOf", "oneOf"):
        from jsonschema.exceptions import best_match

        best = best_match(error.context)
        if best is not None:
            yield from _leaves(best)
            return
    yield error


def _translate(document: Document, top: ValidationError) -> Iterator[Diagnostic]:
    for error in _leaves(top):
        path = list(error.absolute_path)
        rule: Any = error.validator_value
        schema: Any = error.schema
        where = ".".join(str(p) for p in path) or "the document"
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = list(schema.get("properties", {}))
            for key in error.instance:
                if key in known:
                    continue
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
                inside = f" in {where}" if path else ""
                message = f"unknown key '{key}'{inside}; {hint}"
                yield Diagnostic("error", document.locate(*path, key), message, "unknown-key")
        elif error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            inside = f" in {where}" if path else ""
            yield Diagnostic("error", document.locate(*path), f"missing required key '{missing}'{inside}", "required")
        elif error.validator == "not" and rule == {"required": ["parameters", "schema"]}:
            yield Diagnostic(
                "error",
                document.locate(*path, "schema"),
                "a tool takes either 'parameters' (shorthand) or 'schema' (full JSON Schema), not both",
                "exclusive",
            )
        elif error.validator == "type":
            names = [rule] if isinstance(rule, str) else list(rule)
            wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
            message = f"'{where}' must be {wanted}, not {_describe(error.instance)}"
            written = _written_scalar(document, path) if "string" in names else None
            if written is not None:  # `1.0`, `007`, `no`: YAML's own types, where text was meant
                message += f"; YAML read {written} as no text: quote it ('{written}')"
            yield Diagnostic("error", document.locate(*path), message, "type")
        elif error.validator == "enum":
            options = ", ".join(str(v) for v in rule)
            yield Diagnostic(
                "error",
                document.locate(*path),
                f"'{where}' is {error.instance!r}; {did_you_mean(error.instance, rule)}use one of: {options}",
                "enum",
            )
        else:
            message = f"'{where}': {error.message}"
            yield Diagnostic("error", document.locate(*path), message, str(error.validator or "invalid"))


def did_you_mean(value: Any, options: Any) -> str:
    """`did you mean 'integer'? ` when `value` is a near miss (a typo, another case) of one of `options`."""
    if not isinstance(value, str):
        return ""
    choices = [option for option in options if isinstance(option, str)]
    lowered = {option.lower(): option for option in choices}
    close = [lowered[value.lower()]] if value.lower() in lowered else []
    close = close or difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def _written_scalar(document: Document, path: list[str | int]) -> str | None:
    """The text of a plain YAML scalar at `path` as written (`007`, not the 7 it was read as), when it is a
    number or boolean on one line; None for anything else."""
    node: Any = document.content
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    if node is None or isinstance(node, (str, dict, list)) or document.path.suffix == ".json":
        return None
    where = document.locate(*path)
    try:
        line = document.path.read_text(encoding="utf-8-sig").splitlines()[where.line - 1]
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    # a mapping's value is placed at its key: read past `key:`; a list's item is placed at itself
    pattern = _AFTER_KEY if isinstance(path[-1], str) else _SCALAR
    found = pattern.match(line[where.column - 1 :])
    return found.group("value") if found else None


_SCALAR = re.compile(r"(?P<value>[^\s,}\]#]+)")
_AFTER_KEY = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s:]+)\s*:\s+(?P<value>[^\s,}\]#]+)""")


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{value!r}"
