"""Lists that move while they are read: Genesys-style pages are numbered, so an action created or deleted by
another writer between page 1 and page 2 shifts page 2 by one (over real loopback HTTP, against the emulator)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.api import DataActionsClient, DataActionsTarget, resolve_integration, resolve_target
from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
from reconciler.errors import ServerError
from reconciler.state import DataActionsForm

from .conftest import FAST, INTEGRATION


class AfterFirstPage(httpx.BaseTransport):
    """Loopback HTTP that runs `meanwhile` after the first page of the action list has been answered, `times`
    times: another writer changing the integration while a plan pages through it."""

    def __init__(self, meanwhile: Callable[[], None], times: int = 1) -> None:
        self._http = httpx.HTTPTransport()
        self._meanwhile = meanwhile
        self._times = times

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._http.handle_request(request)
        first = request.url.path == "/api/v2/integrations/actions" and request.url.params.get("pageNumber") == "1"
        if self._times and request.method == "GET" and first:
            response.read()
            self._times -= 1
            self._meanwhile()
        return response

    def close(self) -> None:
        self._http.close()


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(EmulatorConfig()) as running:
        yield running


def seed(emulator: RunningEmulator, count: int) -> dict[str, Any]:
    integration = emulator.actions.add_integration(INTEGRATION)
    for i in range(count):
        emulator.actions.put_raw(action(integration, f"action_{i:03d}"))
    return integration


def action(integration: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "name": name,
        "category": INTEGRATION,
        "integrationId": integration["id"],
        "contract": {"input": {"inputSchema": {"type": "object"}}, "output": {"successSchema": {"type": "object"}}},
        "config": {"request": {"requestType": "POST", "requestUrlTemplate": "https://x.example.com"}},
    }


def target_for(emulator: RunningEmulator, transport: httpx.BaseTransport) -> tuple[DataActionsClient, DataActionsForm]:
    target = resolve_target({"GENESYS_CLOUD_API_URL": emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "t"})
    assert target is not None
    client = DataActionsClient(target, transport=transport, retry=FAST)
    found = resolve_integration(client, INTEGRATION)
    return client, DataActionsForm(integration_id=str(found["id"]), category=INTEGRATION)


@pytest.mark.parametrize("edit", ["deleted", "created"])
def test_a_listing_that_shifts_between_pages_is_read_again_whole(emulator: RunningEmulator, edit: str) -> None:
    """An action deleted from page 1 while page 2 is fetched moves the first action of page 2 onto page 1,
    unseen (plan then planned to create an action that exists, or prune missed one); one created there shows
    the last of page 1 twice. The pages' `total` tells, and the list is read again."""
    integration = seed(emulator, 250)

    def meanwhile() -> None:
        if edit == "deleted":
            emulator.actions.delete(next(a["id"] for a in emulator.actions.actions() if a["name"] == "action_000"))
        else:
            emulator.actions.put_raw(action(integration, "action_000a"))

    client, form = target_for(emulator, AfterFirstPage(meanwhile))
    with client:
        names = [record.name for record in DataActionsTarget(client, form).list()]
    assert names == sorted(a["name"] for a in emulator.actions.actions())
    assert len(names) == (249 if edit == "deleted" else 251)


def test_a_listing_that_keeps_shifting_is_an_error_after_three_reads(emulator: RunningEmulator) -> None:
    integration = seed(emulator, 150)
    made = iter(range(100))

    def meanwhile() -> None:
        emulator.actions.put_raw(action(integration, f"action_new_{next(made)}"))

    client, form = target_for(emulator, AfterFirstPage(meanwhile, times=10))
    with client, pytest.raises(ServerError, match="changed while it was read, 3 times in a row"):
        DataActionsTarget(client, form).list()


def test_an_action_deleted_between_the_listing_and_its_read_is_gone_not_an_error(emulator: RunningEmulator) -> None:
    """plan lists the actions, then reads each one whole: an action another writer deleted in between answered
    404 there, and the whole plan failed ('was not found ... run plan again'), as often as the org was busy.
    It is gone: the plan goes on without it, as a Terraform refresh drops a resource that answers 404."""
    seed(emulator, 3)

    def meanwhile() -> None:
        emulator.actions.delete(next(a["id"] for a in emulator.actions.actions() if a["name"] == "action_001"))

    client, form = target_for(emulator, AfterFirstPage(meanwhile))
    with client:
        names = [record.name for record in DataActionsTarget(client, form).list()]
    assert names == ["action_000", "action_002"]


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningEmulator]:
    with run_emulator(EmulatorConfig()) as running:
        yield running


edits = st.lists(st.tuples(st.sampled_from(["create", "delete"]), st.integers(0, 10_000)), max_size=4)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 320), meanwhile_edits=edits)
def test_the_list_read_is_the_list_as_it_is_whatever_changes_between_pages(
    shared: RunningEmulator, count: int, meanwhile_edits: list[tuple[str, int]]
) -> None:
    """The law: whatever another writer creates or deletes right after page 1 was read, the list the client
    returns is the integration's list as it was before (when page 1 was all of it) or as it is after: each
    action once, none missing, none that was not there."""
    shared.actions.store.clear("action")
    integration = seed(shared, count)
    before: list[str] = []

    def meanwhile() -> None:
        before.extend(sorted(a["id"] for a in shared.actions.actions()))
        for kind, number in meanwhile_edits:
            actions = shared.actions.actions()
            if kind == "delete" and actions:
                shared.actions.delete(actions[number % len(actions)]["id"])
            elif kind == "create":
                shared.actions.put_raw(action(integration, f"action_{number % 400:03d}x{number}"))

    client, _ = target_for(shared, AfterFirstPage(meanwhile))
    with client:
        listed = client.list_actions()
    ids = [a["id"] for a in listed]
    assert len(ids) == len(set(ids))
    assert sorted(ids) in (before, sorted(a["id"] for a in shared.actions.actions()))
