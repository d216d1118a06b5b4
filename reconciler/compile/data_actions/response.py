"""A tool's success response → `contract.output.successSchema` and the `config.response` that returns it.

The answer's JSON is handed back whole (`successTemplate: ${rawResult}`, no translation map), so the output
is exactly what the API answered. A contract's top must be an object schema (`JsonSchemaDocument`); an answer
of another shape (an array, a string, a composition) is returned under `result`:
`{"result": ${rawResult}}`. Without a JSON schema for the answer, the output is a permissive object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.compile.data_actions.dialect import DRAFT_04, Unexpressible, to_draft04

RAW_RESULT = "${rawResult}"
WRAPPED_RESULT = '{"result": ${rawResult}}'
TOP_KEYWORDS = frozenset({"title", "description", "type", "required", "properties", "additionalProperties"})
"""What a contract's top (`JsonSchemaDocument`) can hold besides `$schema`."""


@dataclass
class Output:
    success_schema: dict[str, Any]
    response: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def permissive() -> dict[str, Any]:
    return {"$schema": DRAFT_04, "type": "object", "additionalProperties": True}


def output(schema: Mapping[str, Any] | None) -> Output:
    if schema is None:
        return Output(permissive(), _response(RAW_RESULT))
    defs = schema.get("$defs") or {}
    body = {key: value for key, value in schema.items() if key not in ("$defs", "$schema")}
    try:
        converted = to_draft04(body, defs)
    except Unexpressible as exc:
        note = f"its success response cannot be a Data Action contract ({exc.message}); the output is open"
        return Output(permissive(), _response(RAW_RESULT), [note])
    if converted.get("type") == "object" and set(converted) <= TOP_KEYWORDS:
        return Output({"$schema": DRAFT_04, **converted}, _response(RAW_RESULT))
    wrapped = {"$schema": DRAFT_04, "type": "object", "properties": {"result": converted}}
    return Output(wrapped, _response(WRAPPED_RESULT))


def _response(template: str) -> dict[str, Any]:
    return {"translationMap": {}, "translationMapDefaults": {}, "successTemplate": template}


__all__ = ["RAW_RESULT", "TOP_KEYWORDS", "WRAPPED_RESULT", "Output", "output", "permissive"]
