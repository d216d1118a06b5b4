"""Tool → the payloads that leave the process: the registry's ToolInput, the OpenAI function form, a digest.

Everything here is deterministic: the same Tool gives the same bytes, whatever order its input was read in,
because the digest that marks a managed tool rests on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from reconciler.model import JSON_SCHEMA_DIALECT, Tool

OWNER_LABEL = "managed-by"
SOURCE_LABEL = "reconciler-source"
DIGEST_LABEL = "reconciler-digest"
OWNERSHIP_LABELS = (OWNER_LABEL, SOURCE_LABEL, DIGEST_LABEL)


def tool_input(tool: Tool) -> dict[str, Any]:
    """The ToolInput (DESIGN §4) the desired state sets; fields it leaves unset are left out."""
    payload: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "schema": {"$schema": JSON_SCHEMA_DIALECT, **tool.schema},
        "executionEndpoint": tool.endpoint,
    }
    if tool.request is not None:
        payload["request"] = tool.request
    if tool.context:
        payload["context"] = dict(tool.context)
    if tool.rate_limit is not None:
        rate: dict[str, int] = {}
        if tool.rate_limit.requests_per_minute is not None:
            rate["requestsPerMinute"] = tool.rate_limit.requests_per_minute
        if tool.rate_limit.burst_size is not None:
            rate["burstSize"] = tool.rate_limit.burst_size
        payload["rateLimit"] = rate
    if tool.labels:
        payload["labels"] = dict(tool.labels)
    normalized: dict[str, Any] = normalize(payload)
    return normalized


def owned_tool_input(tool: Tool, managed_by: str, source_file: str) -> dict[str, Any]:
    """The payload actually sent: the ToolInput plus the ownership labels and the digest of the ToolInput."""
    payload = tool_input(tool)
    labels = dict(payload.get("labels", {}))
    labels[OWNER_LABEL] = managed_by
    labels[SOURCE_LABEL] = source_file
    labels[DIGEST_LABEL] = digest(payload)
    payload["labels"] = dict(sorted(labels.items()))
    return payload


def openai_function(tool: Tool) -> dict[str, Any]:
    """The LLM gateway's function-tool form; context parameters are filled by the runtime, not by the model."""
    parameters = {key: value for key, value in tool.schema.items() if key != "$schema"}
    function = {"name": tool.name, "description": tool.description, "parameters": parameters}
    normalized: dict[str, Any] = normalize({"type": "function", "function": function})
    return normalized


def normalize(value: Any) -> Any:
    """Mappings with sorted keys (plain dicts), lists kept in order: one canonical shape for any JSON value."""
    if isinstance(value, Mapping):
        return {key: normalize(value[key]) for key in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [normalize(item) for item in value]
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(payload: Mapping[str, Any]) -> str:
    """sha256 of the canonical ToolInput, without the ownership labels (they would make it self-referential)."""
    labels = {k: v for k, v in payload.get("labels", {}).items() if k not in OWNERSHIP_LABELS}
    content = {key: value for key, value in payload.items() if key != "labels"}
    if labels:
        content["labels"] = labels
    if isinstance(content.get("schema"), Mapping) and isinstance(content["schema"].get("required"), list):
        # `required` order carries no meaning in JSON Schema; the digest must not either
        content["schema"] = {**content["schema"], "required": sorted(content["schema"]["required"])}
    return "sha256:" + hashlib.sha256(canonical_json(content).encode()).hexdigest()


__all__ = [
    "DIGEST_LABEL",
    "OWNERSHIP_LABELS",
    "OWNER_LABEL",
    "SOURCE_LABEL",
    "canonical_json",
    "digest",
    "normalize",
    "openai_function",
    "owned_tool_input",
    "tool_input",
]
