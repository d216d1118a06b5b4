"""Stage 4: desired × live → Plan (diff, ownership, drift); render/ shows it, planfile saves it."""

from __future__ import annotations

from reconciler.plan.diff import (
    DesiredTool,
    PlanOptions,
    compute_plan,
    desired_payload,
    has_drifted,
    live_input,
)
from reconciler.plan.guards import (
    check_against_registry,
    check_mass_delete,
    mass_delete_warning,
    names_moved,
    shared_owner_refusal,
    shared_owner_warning,
)
from reconciler.plan.model import ACTION_ORDER, FORMAT_VERSION, MISSING, Action, Change, FieldChange, Plan
from reconciler.plan.planfile import load_plan, plan_document, save_plan, stale_changes

__all__ = [
    "ACTION_ORDER",
    "FORMAT_VERSION",
    "MISSING",
    "Action",
    "Change",
    "DesiredTool",
    "FieldChange",
    "Plan",
    "PlanOptions",
    "check_against_registry",
    "check_mass_delete",
    "compute_plan",
    "desired_payload",
    "has_drifted",
    "live_input",
    "load_plan",
    "mass_delete_warning",
    "names_moved",
    "plan_document",
    "save_plan",
    "shared_owner_refusal",
    "shared_owner_warning",
    "stale_changes",
]
