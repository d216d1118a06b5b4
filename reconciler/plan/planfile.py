"""Saving a plan to a file and reading it back, so what was reviewed is exactly what is applied.

The file records each change with the live version it was planned against and the digest of what it will
send; `apply PLANFILE` compares those with the registry before it writes anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from reconciler.compile import indented_json
from reconciler.errors import PlanError
from reconciler.plan.model import ACTION_ORDER, FORMAT_VERSION, Change, FieldChange, Plan
from reconciler.redaction import OWN_CREDENTIAL_VARIABLES, REDACTED, one_line, pattern_for, value_pattern
from reconciler.state import Record

PLAN_KIND = "reconciler-plan"
# A plan of thousands of tools, each with its before and after, stays far below this; a larger file is not ours.
MAX_PLAN_BYTES = 128 * 1024 * 1024
_PLACEHOLDER = re.compile(r"\(\(sensitive:([A-Za-z_][A-Za-z0-9_]*)\)\)")


def plan_document(
    plan: Plan, *, managed_by: str, mass_delete_share: float, live: Sequence[Record] | None = None
) -> dict[str, Any]:
    """The plan file's content; with `live` (the registry as planned against), the managed set it was made
    from, which apply compares with the registry as a whole (`stale_changes`)."""
    document = {
        "kind": PLAN_KIND,
        "format_version": FORMAT_VERSION,
        "target": plan.target,
        "noun": plan.noun,
        "managed_by": managed_by,
        "mass_delete_share": mass_delete_share,
        "unchanged": plan.unchanged,
        "unmanaged": plan.unmanaged,
        "managed": plan.managed,
        "changes": [_change_data(change) for change in plan.changes],
        "warnings": list(plan.warnings),  # `reconciler show` renders them as plan did
    }
    if live is not None:
        document["registry"] = {"managed": managed_set(live, managed_by)}
    return document


def managed_set(live: Sequence[Record], managed_by: str) -> list[dict[str, Any]]:
    """Every live tool `managed_by` owns, as {id, name, version}: what a saved plan was reviewed against, and
    what must not have moved when it is applied (Terraform's saved plan and its state serial). Tools others
    own are left out: another team's edits never make this repository's plan stale."""
    return sorted(
        ({"id": str(r.id), "name": r.name, "version": r.version} for r in live if r.owner == managed_by and r.id),
        key=lambda item: (item["name"], item["id"]),
    )


def save_plan(
    path: Path,
    plan: Plan,
    *,
    managed_by: str,
    mass_delete_share: float,
    sensitive: Mapping[str, str] = {},
    unnamed: Collection[str] = (),
    live: Sequence[Record] | None = None,
) -> None:
    """Write the plan atomically. A plan file is an artifact that CI uploads, and must hold no secret: values of
    sensitive variables (`sensitive`, name → value) are saved as `((sensitive:NAME))` and read back from the
    environment by `load_plan`; secrets no variable names (`unnamed`: credentials found only in the registry)
    are written as (sensitive) where the plan only shows them (`before`), and a plan that would have to send
    one back is refused. `live`: the registry the plan was made from (see `plan_document`)."""
    document = plan_document(plan, managed_by=managed_by, mass_delete_share=mass_delete_share, live=live)
    names = {value: name for name, value in sorted(sensitive.items()) if value}
    unknown = pattern_for(secret for secret in unnamed if secret not in sensitive.values())
    for change in document["changes"]:
        if unknown is not None:
            change["before"] = _map_strings(change["before"], lambda text: unknown.sub(REDACTED, text))
            for field in change["fields"]:
                field["before"] = _map_strings(field["before"], lambda text: unknown.sub(REDACTED, text))
            if any(unknown.search(text) for text in _strings(change["after"])):
                raise PlanError(
                    f"{change['name']}: the plan would send back a credential that only the registry holds (a URL "
                    "key or password no variable names); put it in a variable listed under sensitive_variables "
                    "and use ${VARIABLE} in tools.d, so the plan file can name it instead of holding it"
                )
    placeholders = value_pattern(names)
    if placeholders is not None:
        document["changes"] = _map_strings(
            document["changes"], lambda text: placeholders.sub(lambda m: f"((sensitive:{names[m[0]]}))", text)
        )
    document["digest"] = content_digest(document)
    text = indented_json(document, ensure_ascii=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text + "\n")
    os.replace(temporary, path)


def content_digest(document: Mapping[str, Any]) -> str:
    """sha256 over the plan file's content (all but this digest), as saved: a plan edited by hand after review
    is refused before anything is sent."""
    content = {key: value for key, value in document.items() if key != "digest"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """`value` with `change` applied to every string in it, keys included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(key): _map_strings(inner, change) for key, inner in value.items()}
    if isinstance(value, list):
        return [_map_strings(inner, change) for inner in value]
    return value


def _strings(value: Any) -> list[str]:
    found: list[str] = []
    _map_strings(value, lambda text: found.append(text) or text)  # type: ignore[func-returns-value]
    return found


def load_plan(path: Path, environ: Mapping[str, str]) -> tuple[Plan, dict[str, Any]]:
    """The plan and its settings (managed_by, mass_delete_share, and the sensitive values it was filled with);
    PlanError for a file that is not one."""
    raw = _read_bounded(path)
    try:
        # read strictly, like live data: orjson refuses NaN, Infinity, lone surrogates and bad UTF-8, which a
        # plan we saved never holds (json.loads took them, and apply crashed or sent them)
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PlanError(
            f"{path}: the plan file is not strict JSON ({exc}); make one with `reconciler plan --out FILE`"
        ) from None
    text = raw.decode("utf-8")
    if not isinstance(data, dict) or data.get("kind") != PLAN_KIND:
        raise PlanError(f"{path}: not a reconciler plan file (make one with `reconciler plan --out FILE`)")
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanError(
            f"{path}: plan format {data.get('format_version')} is not supported by this reconciler "
            f"(it reads format {FORMAT_VERSION}); plan again with this version"
        )
    if "digest" not in data:
        raise PlanError(f"{path}: the plan file has no integrity digest (an older reconciler saved it); plan again")
    if data["digest"] != content_digest(data):
        raise PlanError(
            f"{path}: the plan file was changed after it was saved (its digest does not match its content); "
            "a plan is applied exactly as reviewed: plan again"
        )
    placeholders = set(_PLACEHOLDER.findall(text))
    own = sorted(placeholders.intersection(OWN_CREDENTIAL_VARIABLES))
    if own:  # save_plan never writes one (tools.d cannot read them): the file was written by someone else
        raise PlanError(
            f"{path}: the plan would send {own[0]}, which is the reconciler's own credential, in a tool; a plan "
            "never holds it: plan again"
        )
    missing = sorted(name for name in placeholders if name not in environ)
    if missing:
        raise PlanError(
            f"{path}: the plan needs the sensitive variables {', '.join(missing)}; set them and apply again"
        )
    if placeholders:
        data["changes"] = _map_strings(
            data.get("changes"), lambda text: _PLACEHOLDER.sub(lambda match: environ[match.group(1)], text)
        )
    try:
        plan = Plan(
            changes=_changes(data["changes"]),
            target=str(data["target"]),
            unchanged=int(data.get("unchanged", 0)),
            unmanaged=int(data.get("unmanaged", 0)),
            managed=int(data.get("managed", 0)),
            warnings=tuple(str(warning) for warning in data.get("warnings", ())),
            noun=str(data.get("noun", "tool")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"{path}: the plan file is damaged ({exc}); plan again") from None
    try:
        registry = _registry(data.get("registry"))
    except ValueError as exc:
        raise PlanError(f"{path}: the plan file is damaged ({exc}); plan again") from None
    settings = {
        "registry": registry,
        "managed_by": data.get("managed_by", "reconciler"),
        "mass_delete_share": data.get("mass_delete_share", 0.25),
        "sensitive_values": sorted({environ[name] for name in placeholders}),
    }
    return plan, settings


def _read_bounded(path: Path) -> bytes:
    """The plan file's bytes: a regular file (a FIFO or device would hang or never end) of at most
    MAX_PLAN_BYTES, the limit enforced while reading, whatever its size said."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan file: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as stream:
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise PlanError(f"{path}: the plan file is not a regular file (a device, FIFO or socket)")
            raw = stream.read(MAX_PLAN_BYTES + 1)
        except OSError as exc:
            raise PlanError(f"{path}: cannot read the plan file: {exc.strerror}") from None
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanError(f"{path}: the plan file is larger than the limit of {MAX_PLAN_BYTES} bytes; plan again")
    return raw


def _change_data(change: Change) -> dict[str, Any]:
    return {
        **change.to_json(),
        "unchanged_fields": change.unchanged_fields,
        "live_version": change.live_version,
        "digest": change.digest,
        "source": change.source,
    }


_ACTIONS = frozenset(ACTION_ORDER)


def _registry(data: Any) -> list[dict[str, Any]] | None:
    """The managed set a plan was made from; None for a plan saved before it was recorded (only the tools it
    changes are checked then)."""
    if data is None:
        return None
    items = data.get("managed") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError("`registry.managed` is not a list")
    for item in items:
        version = item.get("version") if isinstance(item, dict) else None
        if not (
            isinstance(item, dict)
            and isinstance(item.get("id"), str)
            and isinstance(item.get("name"), str)
            and (version is None or (isinstance(version, int) and not isinstance(version, bool)))
        ):
            raise ValueError(f"a tool of `registry.managed` that is not {{id, name, version}}: {item!r}"[:200])
    return items


def _changes(items: Any) -> tuple[Change, ...]:
    """The plan's changes, each of the shape apply relies on (ValueError else): a plan whose digest was
    recomputed after an edit is refused here, not by a crash in the middle of applying it."""
    if not isinstance(items, list):
        raise ValueError("`changes` is not a list")
    changes = tuple(_change(item) for item in items)
    names = [change.name for change in changes]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"more than one change of {', '.join(twice)}")
    return changes


def _change(data: Any) -> Change:
    if not isinstance(data, dict):
        raise ValueError(f"a change that is not an object: {data!r}"[:200])
    action, name, after = data.get("action"), data.get("name"), data.get("after")
    if not isinstance(name, str) or not name:
        raise ValueError(f"a change without a name: {name!r}"[:200])
    if action not in _ACTIONS:
        raise ValueError(f"{name}: unknown action {action!r}"[:200])
    if after is not None and not isinstance(after, dict):
        raise ValueError(f"{name}: its payload is not an object")
    if action not in ("delete", "keep") and after is None:
        raise ValueError(f"{name}: {action} without a payload")
    if action != "create" and not (isinstance(data.get("id"), str) and data["id"]):
        raise ValueError(f"{name}: {action} without the id of the live tool")
    version = data.get("live_version")
    if (version is not None or action in ("update", "adopt")) and (
        not isinstance(version, int) or isinstance(version, bool)
    ):
        raise ValueError(f"{name}: live_version {version!r} is not a whole number"[:200])
    for key in ("reason", "source", "digest"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"{name}: {key} is not a string")
    fields = tuple(_field(name, item) for item in data.get("fields") or [])
    return Change(
        action=action,
        name=name,
        id=data.get("id"),
        drift=bool(data.get("drift", False)),
        reason=data.get("reason") or "",
        before=data.get("before"),
        after=data.get("after"),
        fields=fields,
        unchanged_fields=int(data.get("unchanged_fields", 0)),
        live_version=data.get("live_version"),
        digest=data.get("digest"),
        source=data.get("source"),
    )


def _field(name: str, data: Any) -> FieldChange:
    if not isinstance(data, dict) or not isinstance(data.get("path"), str) or data.get("kind") not in _KINDS:
        raise ValueError(f"{name}: a field change that is not {{path, kind, before, after}}: {data!r}"[:200])
    return FieldChange.from_json(data)


_KINDS = frozenset({"add", "remove", "change"})


def stale_changes(
    plan: Plan,
    live: Sequence[Record],
    *,
    managed_by: str = "reconciler",
    registry: Sequence[Mapping[str, Any]] | None = None,
) -> list[str]:
    """Why `plan` no longer fits the registry (empty when it still applies as planned): each change whose tool
    moved, and, with `registry` (the managed set the plan was made from), each tool of that set created,
    changed or deleted since, whether the plan changes it or not."""
    by_id = {str(record.id): record for record in live}
    by_name = {record.name for record in live}
    reasons = []
    for change in plan.actionable:
        if change.action == "create":
            if change.name in by_name:
                reasons.append(f"{change.name}: a tool of that name was created since the plan")
            continue
        current = by_id.get(str(change.id))
        if current is None:
            reasons.append(f"{change.name}: deleted since the plan")
        elif current.version != change.live_version:
            reasons.append(
                f"{change.name}: version {current.version} in the registry, {change.live_version} when planned"
            )
    if registry is not None:
        reasons += _managed_set_moved(plan, live, managed_by, registry)
    return reasons


def _managed_set_moved(
    plan: Plan, live: Sequence[Record], managed_by: str, registry: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Each managed tool created, changed or deleted since the plan that the checks of its changes did not name."""
    said = {str(change.id) for change in plan.actionable if change.id} | {
        change.name for change in plan.actionable if change.action == "create"
    }
    then = {str(item["id"]): item for item in registry}
    now = {item["id"]: item for item in managed_set(live, managed_by)}
    reasons = []
    for tool_id, item in now.items():
        before = then.get(tool_id)
        if tool_id in said or item["name"] in said:
            continue
        if before is None:
            reasons.append(f"{item['name']}: created since the plan")
        elif before["version"] != item["version"]:
            reasons.append(
                f"{item['name']}: changed since the plan (version {item['version']} in the registry, "
                f"{before['version']} when planned)"
            )
    reasons += [
        f"{item['name']}: deleted since the plan" for key, item in then.items() if key not in now and key not in said
    ]
    return [one_line(reason) for reason in reasons]  # names come from the registry: each reason on its line


__all__ = [
    "PLAN_KIND",
    "content_digest",
    "load_plan",
    "managed_set",
    "plan_document",
    "save_plan",
    "stale_changes",
]
