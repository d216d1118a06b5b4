"""The platform's checks of an action body (`PostActionInput`, `UpdateDraftInput`, `UpdateActionInput`), and
`ActionProblem`, the refusal the HTTP side answers with (status, code, field) in the platform's error body."""

from __future__ import annotations

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
MAX_DEPTH = 50


@dataclass
class ActionProblem(Exception):
    """What the platform answers a write it refuses with."""

    status: int
    code: str
    message: str
    field: str | None = None

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
    value = data.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise _invalid(f"{key} must be a non-empty string of at most {MAX_NAME} characters", key)


def whole(value: Any) -> bool:
    """A JSON integer: `12`, and `12.0` as JSON Schema and the platform's Java models read it; not `true`."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


def _schema(value: Any, field: str) -> None:
    if not isinstance(value, Mapping):
        raise _invalid(f"{field} must be a JSON schema object", field)
    if value.get("type") not in ("object", None) and field.endswith("inputSchema"):
        raise _invalid(f"{field} must be an object schema", field)
    try:  # execute and test validate with it: a schema that is not draft-04 must not get that far
        jsonschema.Draft4Validator.check_schema(value)
    except jsonschema.SchemaError as exc:
        raise _invalid(f"{field} is not a valid JSON Schema draft-04: {exc.message}", field) from None


def check_action_input(data: Any, allowed: frozenset[str]) -> None:
    """The platform's checks of a PostActionInput / UpdateDraftInput / UpdateActionInput body."""
    if not isinstance(data, Mapping):
        raise ActionProblem(400, "bad.request", "the body must be a JSON object")
    _unknown(data, allowed, "")
    _name(data, "name", required="integrationId" in allowed)
    _name(data, "category", required="integrationId" in allowed)
    if "integrationId" in allowed and not isinstance(data.get("integrationId"), str):
        raise _invalid("integrationId is required", "integrationId")
    if "secure" in data and not isinstance(data["secure"], bool):
        raise _invalid("secure must be true or false", "secure")
    if "version" in allowed and not whole(data.get("version")):
        raise _invalid("version is required: the version read", "version")
    if _depth(data) > MAX_DEPTH:
        raise _invalid(f"the action nests deeper than {MAX_DEPTH} levels", "contract")
    config = data.get("config")
    if config is not None:
        if not isinstance(config, Mapping):
            raise _invalid("config must be an object", "config")
        _unknown(config, CONFIG_FIELDS, "config.")
        timeout = config.get("timeoutSeconds")
        if timeout is not None and (not whole(timeout) or not 1 <= timeout <= 60):
            raise _invalid("config.timeoutSeconds must be a whole number from 1 to 60", "config.timeoutSeconds")
        request = config.get("request")
        if request is not None:
            if not isinstance(request, Mapping):
                raise _invalid("config.request must be an object", "config.request")
            _unknown(request, REQUEST_FIELDS, "config.request.")
            if request.get("requestType") not in REQUEST_TYPES:
                raise _invalid(
                    "config.request.requestType must be GET, PUT, POST, PATCH or DELETE", "config.request.requestType"
                )
            if not isinstance(request.get("requestUrlTemplate"), str) or not request["requestUrlTemplate"]:
                raise _invalid("config.request.requestUrlTemplate is required", "config.request.requestUrlTemplate")
            headers = request.get("headers")
            if headers is not None and (
                not isinstance(headers, Mapping) or not all(isinstance(v, str) for v in headers.values())
            ):
                raise _invalid("config.request.headers must map names to strings", "config.request.headers")
        response = config.get("response")
        if response is not None:
            if not isinstance(response, Mapping):
                raise _invalid("config.response must be an object", "config.response")
            _unknown(response, RESPONSE_FIELDS, "config.response.")
    contract = data.get("contract")
    if contract is None:
        if "integrationId" in allowed:
            raise _invalid("contract is required", "contract")
        return
    if not isinstance(contract, Mapping):
        raise _invalid("contract must be an object", "contract")
    _unknown(contract, frozenset({"input", "output"}), "contract.")
    for part, key in (("input", "inputSchema"), ("output", "successSchema")):
        inner = contract.get(part)
        if inner is None:
            raise _invalid(f"contract.{part}.{key} is required", f"contract.{part}")
        if not isinstance(inner, Mapping):
            raise _invalid(f"contract.{part} must be an object", f"contract.{part}")
        _unknown(inner, frozenset({key}), f"contract.{part}.")
        _schema(inner.get(key), f"contract.{part}.{key}")


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
    "ActionProblem",
    "check_action_input",
    "check_publish_input",
    "whole",
]
