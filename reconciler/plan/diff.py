"""Desired × live → Plan. Pure: the live records are data read beforehand, nothing here touches the network.

Ownership decides what may be touched: live tools carrying our `managed-by` value are ours; tools without
the label are unmanaged and never changed, unless tools.d names one, which adopts it. A tool that another
reconciler owns (a different `managed-by` value) is never taken over silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.errors import PlanError
from reconciler.plan.fields import changed_paths, changes_at, field_changes, unchanged_leaves
from reconciler.plan.model import ACTION_ORDER, Action, Change, Plan, address
from reconciler.redaction import one_line
from reconciler.state import TOOLS_FORM, DesiredTool, Form, Record
from reconciler.state.tools import IGNORABLE_FIELDS, desired_payload, has_drifted, live_input
from reconciler.words import counted, listed


@dataclass(frozen=True)
class PlanOptions:
    managed_by: str = "reconciler"
    prune: bool = True
    only: frozenset[str] = frozenset()
    """`--tool NAME`: plan only these names (empty: all)."""
    previously_managed_by: frozenset[str] = frozenset()
    """Owners this repository's tools carried before `managed_by` was renamed: a tool of tools.d they manage is
    moved (an adoption), never refused as another repository's."""


def compute_plan(
    desired: Sequence[DesiredTool],
    live: Iterable[Record],
    options: PlanOptions,
    *,
    target: str,
    form: Form = TOOLS_FORM,
) -> Plan:
    """The plan that makes the live records (parsed by `form`'s target) match `desired`."""
    live_by_name: dict[str, Record] = {}
    for record in live:
        live_by_name.setdefault(record.name, record)
    managed = {name: r for name, r in live_by_name.items() if r.owner == options.managed_by}
    unmanaged = {name: r for name, r in live_by_name.items() if r.owner is None}
    foreign = {name: r for name, r in live_by_name.items() if r.owner not in (None, options.managed_by)}
    previous = options.previously_managed_by

    def selected(name: str) -> bool:
        return not options.only or name in options.only

    changes: list[Change] = []
    unchanged = 0
    desired_names = {d.tool.name for d in desired}
    for item in desired:
        name = item.tool.name
        if not selected(name):
            continue
        moved_from = foreign[name].owner if name in foreign else None
        if moved_from is not None and moved_from not in previous:
            raise PlanError(
                f"{form.noun} '{name}' exists in the registry managed by '{one_line(moved_from)}', not "
                f"'{options.managed_by}'; rename it in tools.d, or remove it from the other repository first (if "
                f"that owner was this repository's before its managed_by was renamed, list it under "
                f"previously_managed_by in reconciler.yaml: docs/gitops.md)"
            )
        current = managed.get(name) or unmanaged.get(name) or foreign.get(name)
        change = _change_for(
            item,
            current,
            adopt=name in unmanaged or moved_from is not None,
            managed_by=options.managed_by,
            form=form,
            moved_from=moved_from,
        )
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    for name, record in sorted(managed.items()):
        if name in desired_names or not selected(name):
            continue
        changes.append(_removal(record, options.prune))
    changes.sort(key=lambda c: (ACTION_ORDER[c.action], c.name))
    moves = _moves_left(desired_names, foreign, options, form.noun) if previous else ()
    drafts = tuple(
        f"{form.noun} '{name}' has an unpublished draft (an apply that was interrupted, or an edit in the UI); "
        + ("this apply replaces it" if name in {c.name for c in changes} else "the published one matches tools.d")
        for name, record in sorted(managed.items())
        if record.draft and selected(name)
    )
    return Plan(
        changes=tuple(changes),
        target=target,
        warnings=(*drafts, *moves),
        noun=form.noun,
        unchanged=unchanged,
        unmanaged=len(unmanaged) - sum(1 for c in changes if c.action == "adopt" and c.name in unmanaged),
        managed=len(managed),
    )


def _moves_left(
    desired_names: set[str], foreign: dict[str, Record], options: PlanOptions, noun: str
) -> tuple[str, ...]:
    """What `previously_managed_by` still does: the tools of the former owners that tools.d does not name stay
    theirs (a move is by name, as Terraform's `moved` block is: nothing else of the old owner is touched); when
    no tool of tools.d carries a former owner any more, the setting has done its work."""
    said = []
    for owner in sorted(options.previously_managed_by):
        names = sorted(name for name, record in foreign.items() if record.owner == owner)
        if not options.only and not any(name in desired_names for name in names):
            said.append(
                f"previously_managed_by: no {noun} of tools.d is managed by '{one_line(owner)}' any more; the move "
                "is done, and the owner can be removed from previously_managed_by in reconciler.yaml"
            )
        left = [name for name in names if name not in desired_names]
        if left:
            shown = listed([one_line(name) for name in left], limit=5)
            many = len(left) > 1
            said.append(
                f"previously_managed_by: {counted(len(left), noun)} managed by '{one_line(owner)}' "
                f"that tools.d does not name {'stay' if many else 'stays'} that owner's ({shown}); only what "
                "tools.d names is moved"
            )
    return tuple(said)


def _change_for(
    item: DesiredTool,
    current: Record | None,
    *,
    adopt: bool,
    managed_by: str,
    form: Form,
    moved_from: str | None = None,
) -> Change | None:
    after = form.desired(item, current, managed_by)
    payload = dict(after.content)
    if current is None:
        return Change(
            action="create",
            name=item.tool.name,
            reason="new in tools.d",
            after=payload,
            fields=field_changes({}, payload)[0],
            digest=after.digest,
            source=item.source,
        )
    before = dict(current.content)
    paths = changed_paths(before, payload)
    dotted = [address(path) for path in paths]
    if not paths and not adopt and current.draft and current.version is not None:
        # a draft of other content (an apply interrupted before it published, tools.d reverted since; or an edit
        # in the UI) waits for anyone to publish it: DESIGN §8 has the next run replace it. The update writes
        # tools.d's content over the draft and publishes it; the action stays as it is, one version on.
        return Change(
            action="update",
            name=item.tool.name,
            id=current.id,
            reason="an unpublished draft holds other content; apply replaces it with tools.d's",
            before=before,
            after=payload,
            unchanged_fields=unchanged_leaves(payload, paths),
            live_version=current.version,
            digest=after.digest,
            source=item.source,
        )
    if not adopt and form.only_source_moved(dotted, current, after):
        return None
    if not adopt and form.only_marker(dotted) and set(current.ignored) < set(after.ignored):
        # names added to `ignore_changes`, and nothing else differs: as Terraform, no change to make (an edit made
        # to those fields, before or since, is kept); the marker catches up with the next write
        return None
    if current.version is None:  # an update sends the version it read (DESIGN §4): without one it cannot
        raise PlanError(
            f"{form.noun} '{item.tool.name}' (id {current.id}) came from the registry without a version, which an "
            "update must send back; the server's answer is not the API's (run with --debug to see it), so "
            "nothing is changed"
        )
    fields, unchanged = changes_at(before, payload, paths), unchanged_leaves(payload, paths)
    drift = not adopt and current.drifted
    if moved_from is not None:
        reason = (
            f"managed by '{one_line(moved_from)}', which reconciler.yaml lists under previously_managed_by; "
            f"tools.d moves it to '{managed_by}'"
        )
    elif adopt:
        reason = f"exists in the registry without the ownership {_marker(form)}; tools.d takes it over"
    elif not drift and current.ignored != after.ignored and form.only_marker(dotted):
        # names removed from `ignore_changes`: the digest must cover those fields again, or an edit to them
        # would go unseen
        reason = "ignore_changes changed in tools.d"
    elif drift:
        reason = "edited outside of reconciler since the last apply"
    else:
        reason = "changed in tools.d"
    return Change(
        action="adopt" if adopt else "update",
        name=item.tool.name,
        id=current.id,
        drift=drift,
        reason=reason,
        before=before,
        after=payload,
        fields=fields,
        unchanged_fields=unchanged,
        live_version=current.version,
        digest=after.digest,
        source=item.source,
    )


def _marker(form: Form) -> str:
    return "label" if form.kind == "tools" else "marker"


def _removal(record: Record, prune: bool) -> Change:
    action: Action = "delete"
    reason = "no longer in tools.d"
    if record.protected:
        action, reason = "keep", "protected: the reconciler never deletes it"
    elif not prune:
        action, reason = "keep", "no longer in tools.d, but pruning is off"
    return Change(
        action=action,
        name=record.name,
        id=record.id,
        reason=reason,
        before=dict(record.content),
        live_version=record.version,
        # a kept tool is no longer described by git, and the plan leaves it as it is: an edit to it is no drift
        # that "the plan may undo" (a delete does undo it, and says so)
        drift=record.drifted and action == "delete",
        source=record.source,
    )


__all__ = [
    "IGNORABLE_FIELDS",
    "DesiredTool",
    "PlanOptions",
    "compute_plan",
    "desired_payload",
    "has_drifted",
    "live_input",
]
