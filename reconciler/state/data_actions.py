"""The Data Actions form (DESIGN §8): PostActionInput payloads, ownership in the input schema's `id`.

Where ownership and the digest live (the reasons are in docs/data-actions.md): an action carries no labels, and
only the fields of the SDK's models are sure to survive the platform. `contract.input.inputSchema` is a
`JsonSchemaDocument`, whose `id` (draft-04's schema identifier, a URI) no compiled tool uses, so the reconciler
writes its marker there as a URN:

    urn:reconciler:OWNER:sha256:HEX[?source=FILE][&protected=true][&ignore=PATH,PATH]

OWNER and FILE percent-encoded; the digest covers the whole payload except the marker itself and the paths
`ignore` names (those `ignore_changes` keeps as the org has them, so an edit there is not drift). A live action
without such an `id` is unmanaged; one whose `id` starts `urn:reconciler:` but does not parse is refused at the
client's edge (something rewrote it), instead of being silently taken for unmanaged.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

from reconciler.compile import canonical_json, sort_required
from reconciler.compile.data_actions import action_input
from reconciler.compile.payload import normalize
from reconciler.model import Tool
from reconciler.state.form import DesiredTool, broken_entity, in_live_order
from reconciler.state.record import Record

MARKER_PREFIX = "urn:reconciler:"
MARKER_PATH = "contract.input.inputSchema.id"
_MARKER = re.compile(r"^urn:reconciler:([^:?]+):(sha256:[0-9a-f]{64})(?:\?(.*))?$")

REQUEST_KEYS = ("requestType", "requestUrlTemplate", "requestTemplate", "headers")
RESPONSE_KEYS = ("translationMap", "translationMapDefaults", "successTemplate")
"""What a client writes of `RequestConfig` / `ResponseConfig`; the `*Uri` fields are the server's."""

IGNORED_PATHS: dict[str, tuple[str, ...]] = {
    "description": ("contract",),
    "schema": ("contract",),
    "parameters": ("contract",),
    "context": ("contract",),
    "endpoint": ("config",),
    "request": ("config",),
    "output_schema": ("contract.output", "config.response"),
}
"""`ignore_changes` on this target keeps the whole `contract` or `config` an edit in the UI left; for
`output_schema`, the output contract and the `config.response` that returns it."""
IGNORABLE_FIELDS: dict[str, str] = {name: paths[0] for name, paths in IGNORED_PATHS.items()}
_IGNORABLE_PATHS = frozenset(path for paths in IGNORED_PATHS.values() for path in paths)

ActionInput = Callable[..., dict[str, Any]]


def action_marker(owner: str, digest: str, source: str | None, protected: bool, ignored: Sequence[str] = ()) -> str:
    query = {}
    if source:
        query["source"] = source
    if protected:
        query["protected"] = "true"
    if ignored:
        query["ignore"] = ",".join(ignored)
    tail = f"?{urlencode(query, quote_via=quote, safe='/')}" if query else ""
    return f"{MARKER_PREFIX}{quote(owner, safe='')}:{digest}{tail}"


def parse_marker(value: Any) -> tuple[str, str, str | None, bool, tuple[str, ...]] | None:
    """(owner, digest, source, protected, ignored paths) from a marker; None when `value` is no marker at all.
    Raises ValueError for a value that claims to be one (starts `urn:reconciler:`) but is damaged."""
    if not isinstance(value, str) or not value.startswith(MARKER_PREFIX):
        return None
    found = _MARKER.match(value)
    if found is None:
        raise ValueError(value)
    query = parse_qs(found.group(3) or "", keep_blank_values=True)
    source = query.get("source", [None])[0]
    # only paths ignore_changes may name: a marker edited to name others is a change the next plan puts back
    ignored = sorted({path for path in query.get("ignore", [""])[0].split(",") if path in _IGNORABLE_PATHS})
    return unquote(found.group(1)), found.group(2), source, query.get("protected", [""])[0] == "true", tuple(ignored)


def ignored_paths(names: Sequence[str]) -> tuple[str, ...]:
    """The paths of an action that `ignore_changes` names keep as the org has them."""
    return tuple(sorted({path for name in names for path in IGNORED_PATHS.get(name, ())}))


def normalized_action(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The PostActionInput part of an action (or of a payload), in one canonical shape: server-only fields
    (`id`, `version`, `selfUri`, the `*Uri`, `*Flattened` and error schemas) dropped, empty maps dropped (a
    server that answers `headers: {}` holds what one that leaves them out does), keys and the contract's
    `required` lists sorted."""
    result: dict[str, Any] = {}
    for key in ("name", "category", "integrationId", "secure"):
        if payload.get(key) is not None:
            result[key] = payload[key]
    config = payload.get("config")
    if isinstance(config, Mapping):
        shaped: dict[str, Any] = {}
        if config.get("timeoutSeconds") is not None:
            shaped["timeoutSeconds"] = config["timeoutSeconds"]
        for part, keys in (("request", REQUEST_KEYS), ("response", RESPONSE_KEYS)):
            inner = config.get(part)
            if isinstance(inner, Mapping):
                kept = {key: inner[key] for key in keys if inner.get(key) not in (None, {})}
                if kept:
                    shaped[part] = kept
        if shaped:
            result["config"] = shaped
    contract = payload.get("contract")
    if isinstance(contract, Mapping):
        shaped = {}
        for part, key in (("input", "inputSchema"), ("output", "successSchema")):
            inner = contract.get(part)
            if isinstance(inner, Mapping) and isinstance(inner.get(key), Mapping):
                shaped[part] = {key: sort_required(inner[key])}  # their order means nothing in JSON Schema
        if shaped:
            result["contract"] = shaped
    normal: dict[str, Any] = normalize(result)
    return normal


def _keep(wanted: dict[str, Any], live: Mapping[str, Any], path: Sequence[str]) -> None:
    """The value at `path` in `wanted` made the live one (in place; copies of the maps on the way), when the live
    action has it."""
    head, rest = path[0], path[1:]
    if head not in live:
        return
    if not rest:
        wanted[head] = live[head]
        return
    inner, there = wanted.get(head), live[head]
    if isinstance(inner, Mapping) and isinstance(there, Mapping):
        wanted[head] = dict(inner)
        _keep(wanted[head], there, rest)


def _marker_of(payload: Mapping[str, Any]) -> Any:
    schema = ((payload.get("contract") or {}).get("input") or {}).get("inputSchema") or {}
    return schema.get("id") if isinstance(schema, Mapping) else None


def _with_marker(payload: Mapping[str, Any], marker: str | None) -> dict[str, Any]:
    """A copy of `payload` whose input schema's `id` is `marker` (None: removed)."""
    result = dict(payload)
    contract = dict(result.get("contract") or {})
    inputs = dict(contract.get("input") or {})
    schema = {k: v for k, v in dict(inputs.get("inputSchema") or {"type": "object"}).items() if k != "id"}
    if marker is not None:
        schema["id"] = marker
    inputs["inputSchema"] = dict(sorted(schema.items()))
    contract["input"] = inputs
    result["contract"] = contract
    return result


def action_digest(payload: Mapping[str, Any], ignored: Sequence[str] = ()) -> str:
    """sha256 of the canonical action without its marker and the `ignored` paths (`required` lists sorted: their
    order means nothing)."""
    content = sort_required(_with_marker(normalized_action(payload), None))
    for path in ignored:
        content = _without(content, path.split("."))
    return "sha256:" + hashlib.sha256(canonical_json(content).encode()).hexdigest()


def _without(value: Mapping[str, Any], path: Sequence[str]) -> dict[str, Any]:
    """A copy of `value` without what `path` leads to (the maps on the way copied, nothing else)."""
    result = dict(value)
    head, rest = path[0], path[1:]
    if not rest:
        result.pop(head, None)
    elif isinstance(result.get(head), Mapping):
        result[head] = _without(result[head], rest)
    return result


class DataActionsForm:
    kind = "data-actions"
    noun = "action"
    ignorable: Mapping[str, str] = IGNORABLE_FIELDS

    def __init__(self, *, integration_id: str, category: str, compile: ActionInput | None = None) -> None:
        self.integration_id = integration_id
        self.category = category
        self._compile = compile

    def payload(self, tool: Tool) -> dict[str, Any]:
        """The tool as PostActionInput, without the marker."""
        build = self._compile or action_input
        return normalized_action(build(tool, category=self.category, integration_id=self.integration_id))

    def desired(self, item: DesiredTool, live: Record | None, managed_by: str) -> Record:
        wanted = self.payload(item.tool)
        if live is not None:
            wanted = in_live_order(wanted, live.content)
            for name in item.tool.ignore_changes:
                for path in IGNORED_PATHS.get(name, ()):
                    _keep(wanted, live.content, path.split("."))
        ignored = ignored_paths(item.tool.ignore_changes)
        written = action_digest(wanted, ignored)
        marker = action_marker(managed_by, written, item.source, item.tool.protected, ignored)
        content = normalized_action(_with_marker(wanted, marker))
        return Record(
            name=item.tool.name,
            content=content,
            owner=managed_by,
            source=item.source,
            digest=written,
            protected=item.tool.protected,
            ignored=ignored,
        )

    def parse(self, raw: Any, *, host: str, draft: bool = False) -> Record:
        """An `Action` (read with `expand=contract`) → a Record. Refused here: no name, no id, an id that is not
        a string, a version that is not a whole number, a contract that is not an object, a damaged marker."""
        if not isinstance(raw, Mapping):
            raise broken_entity(host, self.noun, f"that is not a JSON object ({type(raw).__name__})")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise broken_entity(host, self.noun, f"without a name (id {raw.get('id')!r})")
        contract = raw.get("contract")
        if contract is not None and not isinstance(contract, Mapping):
            raise broken_entity(host, self.noun, f"{name!r} whose contract is not an object")
        try:
            marker = parse_marker(_marker_of(raw))
        except ValueError:
            raise broken_entity(
                host, self.noun, f"{name!r} whose ownership marker ({MARKER_PATH}) is damaged: {_marker_of(raw)!r}"
            ) from None
        if not isinstance(raw.get("id"), str) or not raw["id"]:
            why = "with the ownership marker but no id" if marker else "without an id"
            raise broken_entity(host, self.noun, f"{name!r} {why}")
        version = raw.get("version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            raise broken_entity(host, self.noun, f"{name!r} whose version is not a whole number: {version!r}")
        content = normalized_action(raw)
        owner, written, source, protected, ignored = marker if marker else (None, None, None, False, ())
        return Record(
            name=name,
            content=content,
            id=raw["id"],
            version=version,
            owner=owner,
            source=source,
            digest=written,
            protected=protected,
            drifted=written is not None and written != action_digest(content, ignored),
            ignored=ignored,
            draft=draft,
            raw=raw,
        )

    def only_source_moved(self, paths: Sequence[str], before: Record, after: Record) -> bool:
        kept = (before.owner, before.digest, before.protected, before.ignored)
        return self.only_marker(paths) and kept == (after.owner, after.digest, after.protected, after.ignored)

    def only_marker(self, paths: Sequence[str]) -> bool:
        return all(path == MARKER_PATH for path in paths)

    def owner_of(self, payload: Mapping[str, Any]) -> str | None:
        try:
            marker = parse_marker(_marker_of(payload))
        except ValueError:
            return None
        return marker[0] if marker else None


__all__ = [
    "IGNORED_PATHS",
    "MARKER_PATH",
    "MARKER_PREFIX",
    "DataActionsForm",
    "action_digest",
    "action_marker",
    "ignored_paths",
    "normalized_action",
    "parse_marker",
]
