"""The platform's checks of an action body (`PostActionInput`, `UpdateDraftInput`, `UpdateActionInput`,
`PublishDraftInput`), and `ActionProblem`, the refusal the HTTP side answers with (status, code, field) in the
platform's error body. A field given as null is refused like a value of the wrong type: the SDK never sends one,
and a null stored would be read back as an action its model does not describe."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

POST_FIELDS = frozenset({"category", "name", "integrationId", "config", "contract", "secure"})
DRAFT_FIELDS = frozenset({"category", "name", "config", "contract", "secure", "version"})
PATCH_FIELDS = frozenset({"category", "name", "config", "version"})
CONFIG_FIELDS = frozenset({"timeoutSeconds", "request", "response"})
REQUEST_FIELDS = frozenset({"requestUrlTemplate", "requestTemplate", "requestTemplateUri", "requestType", "headers"})
RESPONSE_FIELDS = frozenset({"translationMap", "translationMapDefaults", "successTemplate", "successTemplateUri"})
REQUEST_TYPES = frozenset({"GET", "PUT", "POST", "PATCH", "DELETE"})
MAX_NAME = 256
VISIBLE_PATTERN = r"[^\s\x1c-\x1f\x85\ufeff]"
"""A name holds a character that is white space neither to Java (and Python) nor to JavaScript: not blank."""
VISIBLE = re.compile(VISIBLE_PATTERN)
MAX_DEPTH = 50


@dataclass
class ActionProblem(Exception):
    """What the platform answers a write it refuses with."""

    status: int
    code: str
    message: str
    field: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    """Headers the answer carries (a 405's `Allow`)."""

    def __str__(self) -> str:
        return self.message


def _depth(value: Any) -> int:
    if isinstance(value, Mapping):
        return 1 + max((_depth(inner) for inner in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(inner) for inner in value), default=0)
    return 0


def _invalid(message: str, field: str) -> ActionProblem:
    return ActionProblem(400, "invalid.value", message, field)


def _unknown(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ActionProblem(400, "bad.request", f"unknown field {where}{extra[0]!r}", f"{where}{extra[0]}")


def _name(data: Mapping[str, Any], key: str, *, required: bool) -> None:
    if key not in data and not required:
        return
    value = data.get(key)
    if not isinstance(value, str) or not VISIBLE.search(value) or len(value) > MAX_NAME:
        raise _invalid(f"{key} must be a non-empty string of at most {MAX_NAME} characters", key)


def whole(value: Any) -> bool:
    """A JSON integer: `12`, and `12.0` as JSON Schema and the platform's Java models read it; not `true`."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


def _strings(data: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    """The SDK types these fields `str`: a number or an object there is refused, not coerced."""
    for key in keys:
        if key in data and not isinstance(data[key], str):
            raise _invalid(f"{where}{key} must be a string", f"{where}{key}")


def _string_map(data: Mapping[str, Any], key: str, where: str) -> None:
    value = data.get(key)
    if key in data and (not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values())):
        raise _invalid(f"{where}{key} must map names to strings", f"{where}{key}")


def _schema(value: Any, field: str) -> None:
    if not isinstance(value, Mapping):
        raise _invalid(f"{field} must be a JSON schema object", field)
    if value.get("type") not in ("object", None) and field.endswith("inputSchema"):
        raise _invalid(f"{field} must be an object schema", field)
    try:  # execute and test validate with it: a schema that is not draft-04 must not get that far
        jsonschema.Draft4Validator.check_schema(value)
    except jsonschema.SchemaError as exc:
        raise _invalid(f"{field} is not a valid JSON Schema draft-04: {exc.message}", field) from None


def _object(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any] | None:
    """`data[key]` when present; an object, or refused (a null too: leave the field out instead)."""
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, Mapping):
        raise _invalid(f"{where}{key} must be an object", f"{where}{key}")
    return value


def check_action_input(data: Any, allowed: frozenset[str]) -> None:
    """The platform's checks of a PostActionInput / UpdateDraftInput / UpdateActionInput body. A field given as
    null is refused like any other value of the wrong type (the SDK never sends one)."""
    if not isinstance(data, Mapping):
        raise ActionProblem(400, "bad.request", "the body must be a JSON object")
    creating = "integrationId" in allowed
    _unknown(data, allowed, "")
    _name(data, "name", required=creating)
    _name(data, "category", required=creating)
    if creating and not isinstance(data.get("integrationId"), str):
        raise _invalid("integrationId is required", "integrationId")
    if "secure" in data and not isinstance(data["secure"], bool):
        raise _invalid("secure must be true or false", "secure")
    if "version" in allowed and not whole(data.get("version")):
        raise _invalid("version is required: the version read", "version")
    if _depth(data) > MAX_DEPTH:
        raise _invalid(f"the action nests deeper than {MAX_DEPTH} levels", "contract")
    config = _object(data, "config", "")
    if config is not None:
        _check_config(config)
    contract = _object(data, "contract", "")
    if contract is None:
        if creating:
            raise _invalid("contract is required", "contract")
        return
    _unknown(contract, frozenset({"input", "output"}), "contract.")
    for part, key in (("input", "inputSchema"), ("output", "successSchema")):
        inner = _object(contract, part, "contract.")
        if inner is None:
            raise _invalid(f"contract.{part}.{key} is required", f"contract.{part}")
        _unknown(inner, frozenset({key}), f"contract.{part}.")
        _schema(inner.get(key), f"contract.{part}.{key}")


def _check_config(config: Mapping[str, Any]) -> None:
    _unknown(config, CONFIG_FIELDS, "config.")
    if "timeoutSeconds" in config and not (whole(config["timeoutSeconds"]) and 1 <= config["timeoutSeconds"] <= 60):
        raise _invalid("config.timeoutSeconds must be a whole number from 1 to 60", "config.timeoutSeconds")
    request = _object(config, "request", "config.")
    if request is not None:
        _unknown(request, REQUEST_FIELDS, "config.request.")
        kind = request.get("requestType")
        if not isinstance(kind, str) or kind not in REQUEST_TYPES:
            raise _invalid(
                "config.request.requestType must be GET, PUT, POST, PATCH or DELETE", "config.request.requestType"
            )
        if not isinstance(request.get("requestUrlTemplate"), str) or not request["requestUrlTemplate"]:
            raise _invalid("config.request.requestUrlTemplate is required", "config.request.requestUrlTemplate")
        _strings(request, ("requestTemplate", "requestTemplateUri"), "config.request.")
        _string_map(request, "headers", "config.request.")
    response = _object(config, "response", "config.")
    if response is not None:
        _unknown(response, RESPONSE_FIELDS, "config.response.")
        _strings(response, ("successTemplate", "successTemplateUri"), "config.response.")
        _string_map(response, "translationMap", "config.response.")
        _string_map(response, "translationMapDefaults", "config.response.")


def check_publish_input(data: Any) -> None:
    """A PublishDraftInput body: `{"version": …}`, the draft's version read."""
    if not isinstance(data, Mapping):
        raise ActionProblem(400, "bad.request", "the body must be a JSON object")
    _unknown(data, frozenset({"version"}), "")
    if not whole(data.get("version")):  # a missing or mistyped version is a bad request, not a conflict
        raise _invalid("version is required: the draft's version read", "version")


__all__ = [
    "DRAFT_FIELDS",
    "MAX_DEPTH",
    "MAX_NAME",
    "PATCH_FIELDS",
    "POST_FIELDS",
    "REQUEST_TYPES",
    "VISIBLE_PATTERN",
    "ActionProblem",
    "check_action_input",
    "check_publish_input",
    "whole",
]
