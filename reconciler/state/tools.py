"""The Tools API's form (DESIGN §4): ToolInput payloads, ownership in `labels`, live Tools parsed into Records."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeGuard

from reconciler.compile import (
    DIGEST_LABEL,
    IGNORED_LABEL,
    OWNER_LABEL,
    PROTECTED_LABEL,
    SOURCE_LABEL,
    TOOL_INPUT_FIELDS,
    digest,
    tool_input,
    with_ownership,
)
from reconciler.state.form import DesiredTool, broken_entity, in_live_order, optional_str
from reconciler.state.record import Record

IGNORABLE_FIELDS: dict[str, str] = {
    "description": "description",
    "endpoint": "executionEndpoint",
    "schema": "schema",
    "parameters": "schema",
    "output_schema": "outputSchema",
    "context": "context",
    "rate_limit": "rateLimit",
    "labels": "labels",
    "request": "request",
}

AUTHORITATIVE_FIELDS = ("labels", "context", "request")
"""Fields that tools.d always sets when there are any: leaving one out means "none", not "whatever the server
has" (a hand-written tool has no request binding; one kept from an OpenAPI operation of the same name would go
on calling that operation)."""


def live_input(live: Mapping[str, Any]) -> dict[str, Any]:
    """A live Tool as ToolInput: the server's own fields (id, version, status, dates, selfUri) dropped, and
    empty values too (a server that answers `context: {}` holds the same as one that leaves it out)."""
    return {key: live[key] for key in TOOL_INPUT_FIELDS if live.get(key) not in _EMPTY}


_EMPTY: tuple[None, dict[str, Any], list[Any]] = (None, {}, [])
"""Values a server may answer for an unset field, made once (`live_input` reads every live tool; written in
its comprehension, a fresh map and list were built for every field of each). Only compared with."""


SERVER_FILLED: dict[str, tuple[str, ...]] = {"rateLimit": ("requestsPerMinute", "burstSize")}
"""Fields (and their keys) a server fills with its default when a ToolInput leaves them out. The digest the
reconciler writes covers what the desired state sets, so a default filled in afterwards is neither drift nor a
change; the drift check tries the live tool without each default it may have filled."""


def has_drifted(live: Mapping[str, Any]) -> bool:
    """True when a managed tool no longer matches the digest the reconciler wrote: it was edited outside git."""
    labels = live.get("labels") or {}
    written = labels.get(DIGEST_LABEL)
    return written is not None and _drifted(live_input(live), written, ignored_keys(labels))


def ignored_keys(labels: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields the digest leaves out, as the label the reconciler wrote names them (only fields that
    `ignore_changes` may name: a label edited to name others is a change the next plan shows and puts back)."""
    named = labels.get(IGNORED_LABEL)
    if not isinstance(named, str):
        return ()
    return tuple(sorted({key for key in named.split(",") if key in _IGNORABLE_KEYS}))


def ignored_fields(names: Sequence[str]) -> tuple[str, ...]:
    """The ToolInput fields that `ignore_changes` names (`schema` and `parameters` are one)."""
    return tuple(sorted({IGNORABLE_FIELDS[name] for name in names}))


_IGNORABLE_KEYS = frozenset(IGNORABLE_FIELDS.values())


def _drifted(content: Mapping[str, Any], written: str, ignored: Sequence[str] = ()) -> bool:
    if ignored:  # an edit to a field the desired state leaves as the org has it is not drift
        content = {key: value for key, value in content.items() if key not in ignored}
    # lazily: the content as it is almost always matches, and each candidate costs a digest
    return all(written != digest(candidate) for candidate in _without_server_defaults(content))


def _without_server_defaults(content: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """`content`, and `content` without each default a server may have filled into it."""
    yield content
    for field, keys in SERVER_FILLED.items():
        value = content.get(field)
        if not _is_map(value):
            continue
        yield {k: v for k, v in content.items() if k != field}
        for key in keys:
            if key in value and len(value) > 1:
                yield {**content, field: {k: v for k, v in value.items() if k != key}}


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """isinstance(value, Mapping), answered first by the fast check for what JSON data holds: a plan asks it
    several times of each tool."""
    return isinstance(value, dict) or isinstance(value, Mapping)  # noqa: SIM101 - dict first: the fast check


def _as_set(merged: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """What the digest covers: `merged` without the server-filled fields (and keys) that `wanted` leaves unset."""
    content = dict(merged)
    for field in SERVER_FILLED:
        if field not in wanted:
            content.pop(field, None)
        elif _is_map(content.get(field)) and _is_map(wanted[field]):
            content[field] = {k: v for k, v in content[field].items() if k in wanted[field]}
    return content


def desired_payload(desired: DesiredTool, live: Mapping[str, Any] | None, managed_by: str) -> dict[str, Any]:
    """What will be sent. Fields the desired state leaves unset keep the live value (so a PUT does not reset
    them), and so do the fields named in `ignore_changes`."""
    return _payload(desired, live_input(live) if live is not None else None, managed_by)


def _payload(desired: DesiredTool, current: Mapping[str, Any] | None, managed_by: str) -> dict[str, Any]:
    """`desired_payload` of a live tool already in its ToolInput form (`live_input`), as a live Record holds it."""
    wanted = tool_input(desired.tool)
    if current is not None:
        wanted = in_live_order(wanted, current)
    written = wanted
    if current is not None:
        merged = {**current, **wanted}
        for key in AUTHORITATIVE_FIELDS:
            if key not in wanted:
                merged.pop(key, None)
        if "rateLimit" in wanted and _is_map(current.get("rateLimit")):
            merged["rateLimit"] = {**current["rateLimit"], **wanted["rateLimit"]}
        for name in desired.tool.ignore_changes:
            key = IGNORABLE_FIELDS[name]
            if key in current:
                merged[key] = current[key]
            else:
                merged.pop(key, None)
        wanted = merged
    return with_ownership(
        wanted,
        managed_by,
        desired.source,
        protected=desired.tool.protected,
        content=_as_set(wanted, written),
        ignored=ignored_fields(desired.tool.ignore_changes),
    )


def tool_record(payload: Mapping[str, Any], *, raw: Mapping[str, Any] | None = None) -> Record:
    """A ToolInput (desired, or a live Tool's) as a Record; `raw` is the live Tool it was read from."""
    labels = payload.get("labels") or {}
    owner = labels.get(OWNER_LABEL)
    written = labels.get(DIGEST_LABEL)
    live = raw if raw is not None else {}
    version = live.get("version")
    ignored = ignored_keys(labels)
    return Record(
        name=str(payload.get("name")),
        content=payload,
        id=str(live["id"]) if live.get("id") is not None else None,
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        owner=str(owner) if owner is not None else None,
        source=optional_str(labels.get(SOURCE_LABEL)),
        digest=optional_str(written),
        protected=labels.get(PROTECTED_LABEL) == "true",
        # a managed tool whose digest label is gone was edited outside git too (its labels, in the UI)
        drifted=raw is not None and owner is not None and (written is None or _drifted(payload, str(written), ignored)),
        ignored=ignored,
        raw=live,
    )


class ToolsForm:
    kind = "tools"
    noun = "tool"
    ignorable: Mapping[str, str] = IGNORABLE_FIELDS

    def desired(self, item: DesiredTool, live: Record | None, managed_by: str) -> Record:
        # a live Record's content is the live tool's ToolInput form already (`parse`): not picked out again
        return tool_record(_payload(item, live.content if live is not None else None, managed_by))

    def parse(self, raw: Any, *, host: str) -> Record:
        """Checked here, once: a Tool is an object with a string `name` and `id`, `labels`, when present, a
        map of strings (ownership lives there), and `version`, when present, a whole number (updates send it)."""
        if not isinstance(raw, Mapping):
            raise broken_entity(host, self.noun, f"that is not a JSON object ({type(raw).__name__})")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise broken_entity(host, self.noun, f"without a name (id {raw.get('id')!r})")
        labels = raw.get("labels")
        if labels is not None and (
            not isinstance(labels, Mapping) or not all(isinstance(v, str) for v in labels.values())
        ):
            raise broken_entity(host, self.noun, f"{name!r} whose labels are not a map of strings")
        if not isinstance(raw.get("id"), str) or not raw["id"]:
            marked = isinstance(labels, Mapping) and OWNER_LABEL in labels
            why = "with the ownership label but no id" if marked else "without an id"
            raise broken_entity(host, self.noun, f"{name!r} {why}")
        version = raw.get("version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            raise broken_entity(host, self.noun, f"{name!r} whose version is not a whole number: {version!r}")
        return tool_record(live_input(raw), raw=raw)

    def only_source_moved(self, paths: Sequence[str], before: Record, after: Record) -> bool:
        # Moving a definition to another file changes nothing the gateway sees, nor does a digest written over a
        # server's default by an earlier version (the content still matches it); the labels catch up with the
        # next real change.
        bookkeeping = (f"labels.{SOURCE_LABEL}", f"labels.{DIGEST_LABEL}")
        return all(path in bookkeeping for path in paths) and not before.drifted

    def only_marker(self, paths: Sequence[str]) -> bool:
        return all(path in _MARKER_PATHS for path in paths)

    def owner_of(self, payload: Mapping[str, Any]) -> str | None:
        labels = payload.get("labels")
        return optional_str(labels.get(OWNER_LABEL)) if _is_map(labels) else None


_MARKER_PATHS = frozenset(f"labels.{label}" for label in (SOURCE_LABEL, DIGEST_LABEL, IGNORED_LABEL))

TOOLS_FORM = ToolsForm()

__all__ = [
    "AUTHORITATIVE_FIELDS",
    "IGNORABLE_FIELDS",
    "SERVER_FILLED",
    "TOOLS_FORM",
    "ToolsForm",
    "desired_payload",
    "has_drifted",
    "ignored_fields",
    "ignored_keys",
    "live_input",
    "tool_record",
]
