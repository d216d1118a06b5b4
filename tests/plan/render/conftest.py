"""Small fixed plans, built by hand, that the renderer tests and golden files share."""

from __future__ import annotations

import pytest

from reconciler.plan.model import MISSING, Change, FieldChange, Plan

TARGET = "local emulator (.reconciler/emulator.json)"

OWNERSHIP = {
    "managed-by": "reconciler",
    "reconciler-digest": "sha256:1111",
    "reconciler-source": "tools.d/inventory.yaml",
}

CREATE = Change(
    action="create",
    name="check_inventory",
    reason="new in tools.d",
    after={
        "name": "check_inventory",
        "description": "Look up stock for a SKU.",
        "executionEndpoint": "https://inventory.example.com/check",
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "sku": {"type": "string", "description": "Stock keeping unit"},
                "warehouse": {"type": "string", "enum": ["north", "south"]},
            },
            "required": ["sku"],
        },
        "context": {"user_id": "conversation.user_id"},
        "labels": {**OWNERSHIP, "team": "commerce"},
    },
    digest="sha256:1111",
    source="tools.d/inventory.yaml",
)

UPDATE = Change(
    action="update",
    name="lookup_order",
    id="0b6f3c2e-0000-4000-8000-000000000001",
    reason="changed in tools.d",
    before={"name": "lookup_order", "description": "Find an order."},
    after={"name": "lookup_order", "description": "Find an order by its number."},
    fields=(
        FieldChange("context.user_id", "conversation.user_id", MISSING),
        FieldChange("description", "Find an order.", "Find an order by its number."),
        FieldChange("labels.team", MISSING, "commerce"),
        FieldChange("schema.properties.order.pattern", "^[0-9]+$", "^ORD-[0-9]+$"),
        FieldChange("schema.required", ["order"], ["order", "email"]),
    ),
    unchanged_fields=4,
    live_version=3,
)

DRIFTED = Change(
    action="update",
    name="price_quote",
    id="0b6f3c2e-0000-4000-8000-000000000002",
    drift=True,
    reason="edited outside of reconciler since the last apply",
    before={"name": "price_quote", "rateLimit": {"requestsPerMinute": 600}},
    after={"name": "price_quote", "rateLimit": {"requestsPerMinute": 60}},
    fields=(FieldChange("rateLimit.requestsPerMinute", 600, 60),),
    unchanged_fields=1,
    live_version=7,
)

ADOPT = Change(
    action="adopt",
    name="track_parcel",
    id="0b6f3c2e-0000-4000-8000-000000000003",
    reason="exists in the registry without the ownership label; tools.d takes it over",
    before={"name": "track_parcel", "labels": {"team": "logistics"}},
    after={"name": "track_parcel", "labels": {**OWNERSHIP, "team": "logistics"}},
    fields=(
        FieldChange("labels.managed-by", MISSING, "reconciler"),
        FieldChange("labels.reconciler-digest", MISSING, "sha256:2222"),
        FieldChange("labels.reconciler-source", MISSING, "tools.d/parcel.yaml"),
    ),
    unchanged_fields=5,
    live_version=1,
)

DELETE = Change(
    action="delete",
    name="legacy_faq",
    id="0b6f3c2e-0000-4000-8000-000000000004",
    reason="no longer in tools.d",
    before={"name": "legacy_faq", "description": "Old FAQ search.", "labels": dict(OWNERSHIP)},
    live_version=12,
)

KEEP = Change(
    action="keep",
    name="billing_core",
    id="0b6f3c2e-0000-4000-8000-000000000005",
    reason="protected: the reconciler never deletes it",
    before={"name": "billing_core", "description": "Billing."},
    live_version=2,
)


def full_plan() -> Plan:
    return Plan(
        changes=(CREATE, ADOPT, UPDATE, DRIFTED, DELETE, KEEP),
        target=TARGET,
        unchanged=3,
        unmanaged=2,
        managed=7,
        warnings=("tools.d/parcel.yaml: tool track_parcel has no description for property id",),
    )


def sample_plans() -> dict[str, Plan]:
    return {
        "full": full_plan(),
        "create_only": Plan(changes=(CREATE,), target=TARGET),
        "update_only": Plan(changes=(UPDATE,), target=TARGET, unchanged=1, unmanaged=1, managed=2),
        "kept_only": Plan(changes=(KEEP,), target=TARGET, unchanged=2, managed=3),
        "empty": Plan(changes=(), target=TARGET, unchanged=4, managed=4),
    }


@pytest.fixture
def plans() -> dict[str, Plan]:
    return sample_plans()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`plan_name` runs a test once per sample plan, so a new sample gets golden files without other edits."""
    if "plan_name" in metafunc.fixturenames:
        metafunc.parametrize("plan_name", sorted(sample_plans()))
