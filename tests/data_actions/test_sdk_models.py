"""Every body the client sends fits its SDK model with no field left over, and every emulator answer
deserializes into the SDK's models (`Action`, `ActionEntityListing`, …): the official SDK is the reference."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.apply import apply_plan
from reconciler.plan import PlanOptions, compute_plan

from .conftest import Exchange, Org, make_tool

sdk = pytest.importorskip("PureCloudPlatformClientV2")


def leftovers(data: Any, model: str, path: str = "") -> list[str]:
    """The JSON keys of `data` that the SDK's `model` (a swagger type: `Action`, `list[Action]`, …) has no field
    for, as dotted paths."""
    if data is None or model in ("object", "str", "int", "bool", "float", "datetime", "date"):
        return []
    if model.startswith("list["):
        return [p for i, item in enumerate(data) for p in leftovers(item, model[5:-1], f"{path}[{i}]")]
    if model.startswith("dict("):
        inner = model[model.index(",") + 1 : -1].strip()
        return [p for key, value in data.items() for p in leftovers(value, inner, f"{path}.{key}")]
    cls = getattr(sdk.models, model)
    instance = cls()
    by_json = {json_key: attr for attr, json_key in instance.attribute_map.items()}
    found = []
    for key, value in data.items():
        if key not in by_json:
            found.append(f"{path}.{key}".lstrip("."))
        else:
            found.extend(leftovers(value, instance.swagger_types[by_json[key]], f"{path}.{key}"))
    return found


def deserialize(data: Any, model: str) -> Any:
    return sdk.ApiClient()._ApiClient__deserialize(data, model)


def sent_model(exchange: Exchange) -> str | None:
    if exchange.method == "POST" and exchange.path.endswith("/integrations/actions"):
        return "PostActionInput"
    if exchange.method == "PATCH" and exchange.path.endswith("/draft"):
        return "UpdateDraftInput"
    if exchange.method == "POST" and exchange.path.endswith("/draft/publish"):
        return "PublishDraftInput"
    return None


def answer_model(exchange: Exchange) -> str:
    if exchange.status >= 400:
        return "ErrorBody"
    if exchange.path.endswith("/api/v2/integrations"):
        return "IntegrationEntityListing"
    if exchange.path.endswith(("/integrations/actions", "/actions/drafts")) and exchange.method == "GET":
        return "ActionEntityListing"
    if "/templates/" in exchange.path:
        return "str"  # `get_integrations_action_template`: the template's text
    return "Action"


def test_the_check_finds_a_field_the_sdk_has_no_place_for() -> None:
    body = {"name": "a", "contract": {"input": {"inputSchema": {"type": "object", "x-owner": "me"}}}, "labels": {}}
    assert leftovers(body, "PostActionInput") == ["contract.input.inputSchema.x-owner", "labels"]


def test_every_body_and_every_answer_fits_the_sdk(org: Org) -> None:
    items = [make_tool("check_inventory"), make_tool("track_order", timeout=12.0, secure=True)]
    for round_ in range(2):
        if round_:
            items = [make_tool("check_inventory", "Checks stock levels."), items[1]]
        plan = compute_plan(items, org.target.list(), PlanOptions(), target="t", form=org.target.form)
        assert not apply_plan(plan, org.target).failed
    drafted = org.target.list()[0].id or ""
    org.client.create_draft(drafted)  # a draft left behind shows in the drafts listing, and is read
    org.emulator.actions.patch_draft(drafted, {"version": 1, "category": "Edited in the UI"})  # of other content
    plan = compute_plan(items[:1], org.target.list(), PlanOptions(), target="t", form=org.target.form)
    assert [c.action for c in plan.changes] == ["update", "delete"]  # the draft is replaced, then published
    assert not apply_plan(plan, org.target).failed

    checked: dict[str, int] = {}
    for exchange in org.transport.exchanges:
        model = sent_model(exchange)
        if model is not None:
            assert leftovers(exchange.sent, model) == [], (model, exchange.sent)
            assert deserialize(exchange.sent, model) is not None
            checked[model] = checked.get(model, 0) + 1
        if exchange.answer is not None:
            model = answer_model(exchange)
            assert leftovers(exchange.answer, model) == [], (model, exchange.path, exchange.answer)
            assert deserialize(exchange.answer, model) is not None
            checked[model] = checked.get(model, 0) + 1
    assert set(checked) >= {
        "PostActionInput",
        "UpdateDraftInput",
        "PublishDraftInput",
        "Action",
        "ActionEntityListing",
        "IntegrationEntityListing",
        "str",
    }


def test_an_error_answer_is_the_platforms_error_body(org: Org) -> None:
    body = {"name": "x", "category": "c", "integrationId": org.integration_id, "contract": {}, "unknownField": 1}
    with httpx.Client(headers={"Authorization": "Bearer t"}) as http:
        response = http.post(f"{org.emulator.url}/api/v2/integrations/actions", json=body)
    assert response.status_code == 400
    assert leftovers(response.json(), "ErrorBody") == []
    assert response.json()["details"] == [{"errorCode": "bad.request", "fieldName": "unknownField"}]
