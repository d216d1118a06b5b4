"""The guards between a plan and the registry, recomputed at apply from the live state and the project's rules.

A plan says what it will do; it is not trusted to say what it may do. Whether a tool is protected, whose it is,
and how many managed tools there are come from the registry as read just before applying, and the allowed share
of deletes from reconciler.yaml: a hand-edited plan file (a protected tool's change turned into a delete,
`"managed": 0`) meets the same refusals as a plan computed on the spot. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.errors import PlanError
from reconciler.model import Tool
from reconciler.plan.model import Plan
from reconciler.redaction import one_line
from reconciler.state import TOOLS_FORM, Form, Record
from reconciler.words import counted

ALLOW_MASS_DELETE = "--allow-mass-delete"
DEFAULT_OWNER = "reconciler"
"""`managed_by` when reconciler.yaml does not set it."""


def mass_delete_refusal(deletes: int, managed: int, share: float, noun: str = "tool") -> str | None:
    """Why deleting `deletes` of `managed` managed tools (`noun`: the target's word, tool or action) is refused
    (more than `share`, or all), else None."""
    if deletes == 0 or managed == 0:
        return None
    if deletes < managed and deletes / managed <= share:
        return None
    everything = " — all of them" if deletes >= managed else ""
    return f"the plan deletes {deletes} of {managed} managed {noun}s (more than {share:.0%}{everything})"


def mass_delete_warning(plan: Plan, share: float) -> str | None:
    """What `plan` says before anyone applies it: that apply will refuse it, and how to allow it."""
    refusal = mass_delete_refusal(plan.count("delete"), plan.managed, share, plan.noun)
    if refusal is None:
        return None
    return (
        f"applying this plan will be refused: {refusal}; if that is intended, apply it with {ALLOW_MASS_DELETE}, "
        "or raise mass_delete_share in reconciler.yaml"
    )


def check_mass_delete(plan: Plan, share: float, allowed: bool) -> None:
    """Refuse a plan that deletes more than `share` of the managed tools, or all of them (counts from the plan:
    for a plan just computed from the registry)."""
    refusal = None if allowed else mass_delete_refusal(plan.count("delete"), plan.managed, share, plan.noun)
    if refusal is not None:
        raise PlanError(f"{refusal}; if that is intended, run again with {ALLOW_MASS_DELETE}")


def shared_owner_refusal(plan: Plan, *, owner_named: bool, shared: bool, config_file: str | None) -> str | None:
    """Why `plan`'s deletes may not run: the repository leaves `managed_by` at its default on a registry others
    may share (an org, not the local registry), where every repository that does the same writes that owner, so
    a tool another repository manages reads as ours, and one missing from tools.d here is deleted. Terraform
    deletes only what its own state holds; here the owner is the state, so deleting needs an owner this
    repository names. Creates and updates are not held: they never touch a tool tools.d does not name."""
    deletes = plan.count("delete")
    if owner_named or not shared or deletes == 0:
        return None
    where = f"in {config_file}" if config_file else "in a reconciler.yaml at the repository root"
    return (
        f"the plan deletes {counted(deletes, plan.noun)} managed by the default owner "
        f"'{DEFAULT_OWNER}', which every repository that does not set managed_by shares on this org: they may be "
        f"another repository's. Set managed_by {where}: `managed_by: {DEFAULT_OWNER}` if this repository is the "
        "only one on this org that leaves it unset (its tools keep their owner), or a name of its own "
        "(docs/gitops.md, one org and several repositories)"
    )


def shared_owner_warning(plan: Plan, **settings: Any) -> str | None:
    refusal = shared_owner_refusal(plan, **settings)
    return None if refusal is None else f"applying this plan will be refused: {refusal}"


def check_against_registry(
    plan: Plan,
    live: Iterable[Record],
    *,
    managed_by: str,
    mass_delete_share: float,
    allow_mass_delete: bool,
    prune: bool = True,
    form: Form = TOOLS_FORM,
    previously_managed_by: Iterable[str] = (),
) -> None:
    """Every guard of `plan`, from the registry's current state: PlanError naming each change that may not run.

    A change must touch the tool it names, and write it under that name as ours (`form` reads the owner its
    payload names); only our managed tools are updated or deleted, only unmanaged ones adopted, never a
    protected one deleted, and the share of deletes is counted against the managed tools the registry holds now.
    An adoption may also move a tool from an owner reconciler.yaml lists under `previously_managed_by`.
    """
    records = list(live)
    previous = frozenset(previously_managed_by)
    by_id = {record.id: record for record in records if record.id is not None}
    managed = sum(1 for record in records if record.owner == managed_by)
    problems: list[str] = []
    for change in plan.actionable:
        if change.after is not None and change.after.get("name") != change.name:
            problems.append(f"{change.name}: its payload names the {plan.noun} {change.after.get('name')!r}")
            continue
        if change.after is not None and form.owner_of(change.after) != managed_by:
            problems.append(f"{change.name}: its payload does not mark the {plan.noun} as managed by '{managed_by}'")
            continue
        if change.action == "create":
            continue
        record = by_id.get(str(change.id))
        if record is None:
            continue  # gone since the plan: the staleness check says so
        if record.name != change.name:
            problems.append(f"{change.name}: its id {change.id} is the registry's {plan.noun} '{record.name}'")
        elif change.action == "adopt" and record.owner is not None and record.owner not in previous:
            problems.append(f"{change.name}: cannot adopt a {plan.noun} that '{record.owner}' manages")
        elif change.action in ("update", "delete") and record.owner != managed_by:
            whose = f"managed by '{record.owner}'" if record.owner is not None else "unmanaged"
            problems.append(
                f"{change.name}: {change.action} of a {plan.noun} that is {whose}, not managed by '{managed_by}'"
            )
        elif change.action == "delete" and record.protected:
            problems.append(f"{change.name}: protected {plan.noun}s are never deleted")
        elif change.action == "delete" and not prune:
            problems.append(f"{change.name}: reconciler.yaml sets prune: false, so no {plan.noun} is deleted")
    if problems:
        # names and owners come from the registry too: each problem stays on its line
        raise PlanError("the plan may not be applied; plan again:\n  " + "\n  ".join(map(one_line, problems)))
    refusal = (
        None if allow_mass_delete else mass_delete_refusal(plan.count("delete"), managed, mass_delete_share, plan.noun)
    )
    if refusal is not None:
        raise PlanError(f"{refusal}; if that is intended, run again with {ALLOW_MASS_DELETE}")


def names_moved(
    desired: Iterable[Tool], contested: Mapping[str, tuple[str, ...]], live: Iterable[Record], *, managed_by: str
) -> list[str]:
    """Why each tool name given out of a collision would move to another operation than the one it calls in the
    registry (empty when none would). Which of two operations wanting one name gets it depends on the order
    they are written in: a new operation written first must not take over a name in use (a "get" became
    "cancel all"). The remedy is to pin the names with `source.overrides`."""
    records = {record.name: record for record in live if record.owner == managed_by}
    problems = []
    for tool in desired:
        record = records.get(tool.name)
        if tool.name not in contested or record is None or tool.request is None:
            continue
        calls = _call(record.content.get("request"))
        wanted = _call(tool.request)
        if calls is not None and wanted is not None and calls != wanted:
            others = ", ".join(name for name in contested[tool.name] if name != tool.name)
            problems.append(
                f"{tool.location}: tool '{tool.name}' calls {' '.join(calls)} in the registry, but tools.d now gives "
                f"its name to {' '.join(wanted)} (several operations want it, with {others}); a name in use never "
                "moves to another operation: pin each name with source.overrides "
                "({operationId: {name: ...}}), keeping this one on the operation that has it"
            )
    return problems


def _call(request: Any) -> tuple[str, str] | None:
    if not isinstance(request, Mapping) or not isinstance(request.get("url"), str):
        return None
    return (str(request.get("method", "")).upper(), str(request["url"]))


__all__ = [
    "ALLOW_MASS_DELETE",
    "check_against_registry",
    "check_mass_delete",
    "mass_delete_refusal",
    "mass_delete_warning",
    "names_moved",
    "shared_owner_refusal",
    "shared_owner_warning",
]
