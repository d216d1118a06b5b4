"""Another writer at work during an apply (over real loopback HTTP, against the emulator): what the user is told,
and that running apply again finishes the job."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from reconciler.api import DataActionsClient, DataActionsTarget, resolve_integration, resolve_target
from reconciler.apply import apply_plan
from reconciler.plan import PlanOptions, compute_plan
from reconciler.state import DataActionsForm

from .conftest import FAST, INTEGRATION, Org, make_tool
from .test_convergence import converge


class After(httpx.BaseTransport):
    """Loopback HTTP that runs `meanwhile` once, after the first request of `method` whose path ends `tail`
    has been answered."""

    def __init__(self, method: str, tail: str, meanwhile: Callable[[], None]) -> None:
        self._http = httpx.HTTPTransport()
        self._when = (method, tail)
        self._meanwhile: Callable[[], None] | None = meanwhile

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._http.handle_request(request)
        method, tail = self._when
        if self._meanwhile is not None and request.method == method and request.url.path.endswith(tail):
            response.read()
            self._meanwhile, meanwhile = None, self._meanwhile
            meanwhile()
        return response

    def close(self) -> None:
        self._http.close()


def target_with(org: Org, transport: httpx.BaseTransport) -> DataActionsTarget:
    target = resolve_target({"GENESYS_CLOUD_API_URL": org.emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "t"})
    assert target is not None
    client = DataActionsClient(target, transport=transport, retry=FAST)
    found = resolve_integration(client, INTEGRATION)
    return DataActionsTarget(client, DataActionsForm(integration_id=str(found["id"]), category=INTEGRATION))


def test_a_draft_edited_by_someone_else_before_the_publish_is_a_clear_failure_then_a_rerun_finishes(
    org: Org,
) -> None:
    """Someone saved the action's draft in the UI between this apply's PATCH of the draft and its publish: the
    publish is refused (409, the draft's version moved). The outcome said 'changed in the registry since the
    plan (version 1, planned against 1)', a contradiction; it says what happened, and nothing was published."""
    converge(org, [make_tool()])
    [action] = org.emulator.actions.actions()
    changed = [make_tool(description="Checks stock levels.")]
    plan = compute_plan(changed, org.target.list(), PlanOptions(), target="t", form=org.target.form)

    def someone_saves_the_draft() -> None:
        draft = org.emulator.actions.draft(action["id"])
        assert draft is not None
        org.emulator.actions.patch_draft(action["id"], {"version": draft["version"], "category": "Edited in the UI"})

    target = target_with(org, After("PATCH", "/draft", someone_saves_the_draft))
    with target.client:
        [outcome] = apply_plan(plan, target).outcomes
    assert outcome.status == "failed"
    assert outcome.error is not None and "planned against" not in outcome.error
    assert "draft" in outcome.error and "changed while this apply wrote it" in outcome.error, outcome.error
    assert "nothing was published" in outcome.error and "run apply again" in outcome.error
    assert org.emulator.actions.actions() == [action]

    assert converge(org, changed) == 1
    assert org.emulator.actions.drafts() == []


def test_a_draft_deleted_by_someone_else_before_the_publish_is_not_called_a_deleted_action(org: Org) -> None:
    """Someone discarded the draft in the UI between this apply's PATCH and its publish: the publish answers
    404 (no draft). The outcome said the action was 'deleted from the registry since the plan', which it was
    not; it says what happened, and a rerun finishes the update."""
    converge(org, [make_tool()])
    [action] = org.emulator.actions.actions()
    changed = [make_tool(description="Checks stock levels.")]
    plan = compute_plan(changed, org.target.list(), PlanOptions(), target="t", form=org.target.form)

    target = target_with(org, After("PATCH", "/draft", lambda: org.emulator.actions.delete_draft(action["id"])))
    with target.client:
        [outcome] = apply_plan(plan, target).outcomes
    assert outcome.status == "failed"
    assert outcome.error is not None and "deleted from the registry" not in outcome.error, outcome.error
    assert "draft" in outcome.error and "nothing was published" in outcome.error, outcome.error
    assert org.emulator.actions.actions() == [action]
    assert converge(org, changed) == 1


def test_a_create_whose_answer_was_lost_and_whose_action_was_deleted_before_it_was_read_is_created_again(
    org: Org,
) -> None:
    """A create's answer was lost; apply looks the action up by name, and someone deletes it between that
    listing and the read of the action it found (404). apply failed the create with the action's 404, as if
    creating had gone wrong; the action is gone, so it is not there, and the create is sent again."""
    plan = compute_plan([make_tool()], org.target.list(), PlanOptions(), target="t", form=org.target.form)
    org.emulator.faults.inject("drop_after_commit", methods=("POST",))

    def someone_deletes_it() -> None:
        [action] = org.emulator.actions.actions()
        org.emulator.actions.delete(action["id"])

    target = target_with(org, After("GET", "/api/v2/integrations/actions", someone_deletes_it))
    with target.client:
        [outcome] = apply_plan(plan, target).outcomes

    assert outcome.status == "ok", outcome.error
    [action] = org.emulator.actions.actions()
    assert action["name"] == "check_inventory" and outcome.record is not None
    assert outcome.record.id == action["id"]
    assert org.emulator.stats.dropped_connections == 1
