"""Desired × live → Plan. Pure: the live list is data read beforehand, nothing here touches the network.

Ownership decides what may be touched: live tools carrying our `managed-by` value are ours; tools without
the label are unmanaged and never changed, unless tools.d names one, which adopts it. A tool that another
reconciler owns (a different `managed-by` value) is never taken over silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.compile import (
    DIGEST_LABEL,
    OWNER_LABEL,
    PROTECTED_LABEL,
    SOURCE_LABEL,
    TOOL_INPUT_FIELDS,
    digest,
    tool_input,
    with_ownership,
)
from reconciler.errors import PlanError
from reconciler.model import Tool
from reconciler.plan.fields import field_changes
from reconciler.plan.model import ACTION_ORDER, Action, Change, Plan

IGNORABLE_FIELDS: dict[str, str] = {
    "description": "description",
    "endpoint": "executionEndpoint",
    "schema": "schema",
    "parameters": "schema",
    "context": "context",
    "rate_limit": "rateLimit",
    "labels": "labels",
    "request": "request",
}


@dataclass(frozen=True)
class DesiredTool:
    """A compiled tool and the file it came from, relative to the repository root."""

    tool: Tool
    source: str


@dataclass(frozen=True)
class PlanOptions:
    managed_by: str = "reconciler"
    prune: bool = True
    only: frozenset[str] = frozenset()
    """`--tool NAME`: plan only these names (empty: all)."""


AUTHORITATIVE_FIELDS = ("labels", "context")
"""Maps that tools.d always sets: leaving one out means "none", not "whatever the server has"."""


def live_input(live: Mapping[str, Any]) -> dict[str, Any]:
    """A live Tool as ToolInput: the server's own fields (id, version, status, dates, selfUri) dropped, and
    empty values too (a server that answers `context: {}` holds the same as one that leaves it out)."""
    return {key: live[key] for key in TOOL_INPUT_FIELDS if live.get(key) not in (None, {}, [])}


def has_drifted(live: Mapping[str, Any]) -> bool:
    """True when a managed tool no longer matches the digest the reconciler wrote: it was edited outside git."""
    written = (live.get("labels") or {}).get(DIGEST_LABEL)
    return written is not None and written != digest(live_input(live))


def desired_payload(desired: DesiredTool, live: Mapping[str, Any] | None, managed_by: str) -> dict[str, Any]:
    """What will be sent. Fields the desired state leaves unset keep the live value (so a PUT does not reset
    them), and so do the fields named in `ignore_changes`."""
    wanted = tool_input(desired.tool)
    if live is not None:
        current = live_input(live)
        merged = {**current, **wanted}
        for key in AUTHORITATIVE_FIELDS:
            if key not in wanted:
                merged.pop(key, None)
        if "rateLimit" in wanted and isinstance(current.get("rateLimit"), Mapping):
            merged["rateLimit"] = {**current["rateLimit"], **wanted["rateLimit"]}
        for name in desired.tool.ignore_changes:
            key = IGNORABLE_FIELDS[name]
            if key in current:
                merged[key] = current[key]
            else:
                merged.pop(key, None)
        wanted = merged
    return with_ownership(wanted, managed_by, desired.source, protected=desired.tool.protected)


def compute_plan(
    desired: Sequence[DesiredTool],
    live: Iterable[Mapping[str, Any]],
    options: PlanOptions,
    *,
    target: str,
) -> Plan:
    live_by_name: dict[str, Mapping[str, Any]] = {}
    for tool in live:
        live_by_name.setdefault(str(tool.get("name")), tool)
    managed = {name: t for name, t in live_by_name.items() if _owner(t) == options.managed_by}
    unmanaged = {name: t for name, t in live_by_name.items() if _owner(t) is None}
    foreign = {name: t for name, t in live_by_name.items() if _owner(t) not in (None, options.managed_by)}

    def selected(name: str) -> bool:
        return not options.only or name in options.only

    changes: list[Change] = []
    unchanged = 0
    desired_names = {d.tool.name for d in desired}
    for item in desired:
        name = item.tool.name
        if not selected(name):
            continue
        if name in foreign:
            owner = _owner(foreign[name])
            raise PlanError(
                f"tool '{name}' exists in the registry managed by '{owner}', not '{options.managed_by}'; "
                "rename it in tools.d, or remove it from the other repository first"
            )
        current = managed.get(name) or unmanaged.get(name)
        change = _change_for(item, current, adopt=name in unmanaged, managed_by=options.managed_by)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    for name, tool in sorted(managed.items()):
        if name in desired_names or not selected(name):
            continue
        changes.append(_removal(tool, options.prune))
    changes.sort(key=lambda c: (ACTION_ORDER[c.action], c.name))
    return Plan(
        changes=tuple(changes),
        target=target,
        unchanged=unchanged,
        unmanaged=len(unmanaged) - sum(1 for c in changes if c.action == "adopt"),
        managed=len(managed),
    )


def _owner(tool: Mapping[str, Any]) -> str | None:
    owner = (tool.get("labels") or {}).get(OWNER_LABEL)
    return str(owner) if owner is not None else None


def _change_for(item: DesiredTool, current: Mapping[str, Any] | None, *, adopt: bool, managed_by: str) -> Change | None:
    after = desired_payload(item, current, managed_by)
    digest_after = after["labels"][DIGEST_LABEL]
    if current is None:
        return Change(
            action="create",
            name=item.tool.name,
            reason="new in tools.d",
            after=after,
            fields=field_changes({}, after)[0],
            digest=digest_after,
            source=item.source,
        )
    before = live_input(current)
    fields, unchanged = field_changes(before, after)
    if all(f.path == f"labels.{SOURCE_LABEL}" for f in fields) and not adopt:
        # Moving a definition to another file changes nothing the gateway sees; the label catches up with
        # the next real change.
        return None
    drift = not adopt and has_drifted(current)
    if adopt:
        reason = "exists in the registry without the ownership label; tools.d takes it over"
    elif drift:
        reason = "edited outside of reconciler since the last apply"
    else:
        reason = "changed in tools.d"
    return Change(
        action="adopt" if adopt else "update",
        name=item.tool.name,
        id=_id(current),
        drift=drift,
        reason=reason,
        before=before,
        after=after,
        fields=fields,
        unchanged_fields=unchanged,
        live_version=_version(current),
        digest=digest_after,
        source=item.source,
    )


def _removal(tool: Mapping[str, Any], prune: bool) -> Change:
    labels = tool.get("labels") or {}
    action: Action = "delete"
    reason = "no longer in tools.d"
    if labels.get(PROTECTED_LABEL) == "true":
        action, reason = "keep", "protected: the reconciler never deletes it"
    elif not prune:
        action, reason = "keep", "no longer in tools.d, but pruning is off"
    return Change(
        action=action,
        name=str(tool["name"]),
        id=_id(tool),
        reason=reason,
        before=live_input(tool),
        live_version=_version(tool),
        drift=has_drifted(tool),
        source=labels.get(SOURCE_LABEL),
    )


def _id(tool: Mapping[str, Any]) -> str | None:
    value = tool.get("id")
    return str(value) if value is not None else None


def _version(tool: Mapping[str, Any]) -> int | None:
    value = tool.get("version")
    return int(value) if isinstance(value, int) else None


def check_mass_delete(plan: Plan, share: float, allowed: bool) -> None:
    """Refuse a plan that deletes more than `share` of the managed tools, or all of them."""
    deletes = plan.count("delete")
    if allowed or deletes == 0 or plan.managed == 0:
        return
    if deletes == plan.managed or deletes / plan.managed > share:
        raise PlanError(
            f"the plan deletes {deletes} of {plan.managed} managed tools (more than {share:.0%}"
            f"{' — all of them' if deletes == plan.managed else ''}); if that is intended, run again with "
            "--allow-mass-delete"
        )
