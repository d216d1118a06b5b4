"""The emulator's Data Actions (DESIGN §8): integrations, published actions and their drafts, with versions.

Kept in the same store as the tools (kinds `integration`, `action`, `draft`; a draft's id is its action's).
What the platform checks is checked here too (`actions_input.py`), and a write that the platform would refuse
raises `ActionProblem` with the status, code and field the HTTP side answers with. Execute and test live in
their own module on top of this store.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from typing import Any

from reconciler.emulator.actions_input import (
    DRAFT_FIELDS,
    PATCH_FIELDS,
    POST_FIELDS,
    ActionProblem,
    check_action_input,
    check_publish_input,
)
from reconciler.emulator.store import Store

ACTIONS_PATH = "/api/v2/integrations/actions"
INTEGRATIONS_PATH = "/api/v2/integrations"
WEB_SERVICES_TYPE = "custom-rest-actions"
"""The integration type of Web Services Data Actions."""
ACTION, DRAFT, INTEGRATION = "action", "draft", "integration"
GET_TEMPLATE = "${input.rawRequest}"
"""The request template the platform shows for a GET, which sends no body, when none was written."""


def _stored(data: Mapping[str, Any]) -> dict[str, Any]:
    """What is kept of a checked body: a copy, its whole numbers as integers, and a GET's empty request template
    as the platform shows it ("GET requests do not use request templates. The requestTemplate field shows a
    default value of ${input.rawRequest}")."""
    kept = copy.deepcopy(dict(data))
    config = kept.get("config")
    if isinstance(config, dict) and "timeoutSeconds" in config:
        config["timeoutSeconds"] = int(config["timeoutSeconds"])
    request = config.get("request") if isinstance(config, dict) else None
    if isinstance(request, dict) and request.get("requestType") == "GET" and not request.get("requestTemplate"):
        request["requestTemplate"] = GET_TEMPLATE
    kept.pop("version", None)
    return kept


class ActionStore:
    """Integrations, actions and drafts in `store`. Entities handed out are copies."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._basic_auth: dict[str, tuple[str, str]] = {}
        """Integration id -> Basic Auth user name and password: in memory only, never in the state file, nor in
        what the API answers (the platform keeps credentials apart, and never shows a password)."""

    # -- integrations ------------------------------------------------------------------------------------------

    def add_integration(
        self,
        name: str,
        *,
        integration_type: str = WEB_SERVICES_TYPE,
        integration_id: str | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """An integration of `name` (the existing one when there is one): tests and the local registry seed it.
        `basic_auth`: its Basic Auth credentials (user name, password), sent with every request of its actions."""
        with self.store.writing():
            found = self.store.named(INTEGRATION, name)
            if found:
                if basic_auth is not None:
                    self._basic_auth[str(found[0]["id"])] = basic_auth
                return copy.deepcopy(found[0])
            new_id = integration_id or str(uuid.uuid4())
            entity = {
                "id": new_id,
                "name": name,
                "integrationType": {
                    "id": integration_type,
                    "selfUri": f"/api/v2/integrations/types/{integration_type}",
                },
                "intendedState": "ENABLED",
                "reportedState": {"code": "ACTIVE"},
                "selfUri": f"{INTEGRATIONS_PATH}/{new_id}",
            }
            self.store.put(INTEGRATION, entity)
            if basic_auth is not None:
                self._basic_auth[new_id] = basic_auth
            return copy.deepcopy(entity)

    def integrations(self) -> list[dict[str, Any]]:
        return self.store.listing(INTEGRATION)

    def basic_auth(self, integration_id: str) -> tuple[str, str] | None:
        return self._basic_auth.get(integration_id)

    # -- reads -------------------------------------------------------------------------------------------------

    def actions(self) -> list[dict[str, Any]]:
        """Every published action, sorted by name (shared: copy before changing)."""
        return self.store.listing(ACTION)

    def drafts(self) -> list[dict[str, Any]]:
        return self.store.listing(DRAFT)

    def action(self, action_id: str) -> dict[str, Any] | None:
        found = self.store.get(ACTION, action_id)
        return copy.deepcopy(found) if found is not None else None

    def draft(self, action_id: str) -> dict[str, Any] | None:
        found = self.store.get(DRAFT, action_id)
        return copy.deepcopy(found) if found is not None else None

    # -- writes ------------------------------------------------------------------------------------------------

    def create(self, data: Mapping[str, Any]) -> dict[str, Any]:
        check_action_input(data, POST_FIELDS)
        with self.store.writing():
            integration = self.store.get(INTEGRATION, str(data["integrationId"]))
            if integration is None:
                raise ActionProblem(
                    400, "invalid.value", f"integration {data['integrationId']} does not exist", "integrationId"
                )
            self._check_name_free(str(data["name"]), str(data["integrationId"]), None)
            action_id = str(uuid.uuid4())
            action = {
                **_stored(data),
                "id": action_id,
                "version": 1,
                "selfUri": f"{ACTIONS_PATH}/{action_id}",
            }
            action.setdefault("secure", False)
            self.store.put(ACTION, action)
            return copy.deepcopy(action)

    def patch(self, action_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """UpdateActionInput: name, category, config; the contract changes only through a draft."""
        check_action_input(data, PATCH_FIELDS)
        with self.store.writing():
            current = self._published(action_id)
            self._check_version(data["version"], current, "action")
            if "name" in data:
                self._check_name_free(str(data["name"]), str(current["integrationId"]), action_id)
            action = {**current, **_stored(data), "version": int(current["version"]) + 1}
            self.store.put(ACTION, action)
            return copy.deepcopy(action)

    def delete(self, action_id: str) -> None:
        with self.store.writing():
            if not self.store.delete(ACTION, action_id):
                raise ActionProblem(404, "not.found", f"action {action_id} does not exist")
            self.store.delete(DRAFT, action_id)

    def create_draft(self, action_id: str) -> dict[str, Any]:
        """A draft of the published action, at draft version 1; 409 when one exists already."""
        with self.store.writing():
            current = self._published(action_id)
            if self.store.get(DRAFT, action_id) is not None:
                raise ActionProblem(409, "draft.exists", f"action {action_id} already has a draft; update or delete it")
            draft = {**copy.deepcopy(current), "version": 1, "selfUri": f"{ACTIONS_PATH}/{action_id}/draft"}
            self.store.put(DRAFT, draft)
            return copy.deepcopy(draft)

    def patch_draft(self, action_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        check_action_input(data, DRAFT_FIELDS)
        with self.store.writing():
            draft = self._draft(action_id)
            self._check_version(data["version"], draft, "draft")
            if "name" in data:
                self._check_name_free(str(data["name"]), str(draft["integrationId"]), action_id)
            updated = {**draft, **_stored(data), "version": int(draft["version"]) + 1}
            self.store.put(DRAFT, updated)
            return copy.deepcopy(updated)

    def delete_draft(self, action_id: str) -> None:
        with self.store.writing():
            if not self.store.delete(DRAFT, action_id):
                raise ActionProblem(404, "not.found", f"action {action_id} has no draft")

    def publish(self, action_id: str, data: Any) -> dict[str, Any]:
        """The draft becomes the action (version + 1, same id); the draft is gone."""
        check_publish_input(data)
        with self.store.writing():
            draft = self._draft(action_id)
            self._check_version(data.get("version"), draft, "draft")
            current = self._published(action_id)
            fields = {key: value for key, value in draft.items() if key in POST_FIELDS}
            check_action_input(fields, POST_FIELDS)
            action = {
                **fields,
                "id": action_id,
                "version": int(current["version"]) + 1,
                "selfUri": f"{ACTIONS_PATH}/{action_id}",
            }
            self.store.put(ACTION, action)
            self.store.delete(DRAFT, action_id)
            return copy.deepcopy(action)

    def put_raw(self, action: Mapping[str, Any], *, draft: bool = False) -> dict[str, Any]:
        """Seed an action (or a draft) as it is, unchecked (tests, drift); the id and version filled when missing."""
        raw = copy.deepcopy(dict(action))
        raw.setdefault("id", str(uuid.uuid4()))
        raw.setdefault("version", 1)
        self.store.put(DRAFT if draft else ACTION, raw)
        return copy.deepcopy(raw)

    # -- checks ------------------------------------------------------------------------------------------------

    def _published(self, action_id: str) -> dict[str, Any]:
        found = self.store.get(ACTION, action_id)
        if found is None:
            raise ActionProblem(404, "not.found", f"action {action_id} does not exist")
        return copy.deepcopy(found)

    def _draft(self, action_id: str) -> dict[str, Any]:
        found = self.store.get(DRAFT, action_id)
        if found is None:
            raise ActionProblem(404, "not.found", f"action {action_id} has no draft; create one first")
        return copy.deepcopy(found)

    @staticmethod
    def _check_version(sent: Any, current: Mapping[str, Any], what: str) -> None:
        if sent != current["version"] or isinstance(sent, bool):
            raise ActionProblem(
                409,
                "version.mismatch",
                f"the {what} is at version {current['version']}, the request sent {sent}; read it again",
                "version",
            )

    def _check_name_free(self, name: str, integration_id: str, action_id: str | None) -> None:
        for other in self.store.named(ACTION, name):
            if other.get("integrationId") == integration_id and other.get("id") != action_id:
                raise ActionProblem(409, "action.name.exists", f"an action named {name!r} already exists", "name")


__all__ = [
    "ACTIONS_PATH",
    "INTEGRATIONS_PATH",
    "WEB_SERVICES_TYPE",
    "ActionProblem",
    "ActionStore",
    "check_action_input",
]
