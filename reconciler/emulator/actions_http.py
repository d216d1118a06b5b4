"""The Data Actions routes of the emulator: `/api/v2/integrations` and `/api/v2/integrations/actions/...`.

`route_actions` answers one request from the store, or raises `ActionProblem` for the platform's error body;
the server around it does auth, scopes, the rate limit, the injected faults and the headers. Lists page
Genesys-style (`pageSize`, `pageNumber`, `nextUri`); a listed action carries its `config` only with
`includeConfig=true` and never its contract, which `GET .../{id}?expand=contract` gives. `POST .../execute`,
`/test` and `/draft/test` run the stored action (`execute.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from reconciler.emulator.actions import ACTIONS_PATH, INTEGRATIONS_PATH, ActionProblem, ActionStore
from reconciler.emulator.execute import execute, execute_test
from reconciler.emulator.paging import numbered_page

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 25
LIST_QUERY = frozenset(
    {"pageSize", "pageNumber", "name", "category", "includeConfig", "secure", "sortBy", "sortOrder", "ids",
     "includeAuthActions", "nextPage", "previousPage"}
)  # fmt: skip
GET_QUERY = frozenset({"expand", "includeConfig", "flatten"})
INTEGRATION_QUERY = frozenset({"pageSize", "pageNumber", "integrationType", "sortBy", "expand", "reportedState"})
ACTION_QUERY = LIST_QUERY | GET_QUERY | INTEGRATION_QUERY


@dataclass
class Answer:
    status: int
    payload: Any = None
    committed: bool = False
    """A write was committed (the answer may be lost by an injected fault)."""
    headers: dict[str, str] = field(default_factory=dict)


def is_actions_path(path: str) -> bool:
    return path == INTEGRATIONS_PATH or path.startswith(INTEGRATIONS_PATH + "/")


def _segments(path: str) -> list[str]:
    rest = path[len(INTEGRATIONS_PATH) :].strip("/")
    return [unquote(part) for part in rest.split("/")] if rest else []


def _not_allowed(method: str, allowed: str) -> ActionProblem:
    return ActionProblem(405, "method.not.allowed", f"{method} is not allowed here; use {allowed}")


def _check_query(query: Mapping[str, str], allowed: frozenset[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise ActionProblem(400, "bad.request", f"unknown query parameter {unknown[0]!r}", unknown[0])


def _positive(query: Mapping[str, str], name: str, default: int, maximum: int | None = None) -> int:
    text = query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        limit = f"1..{maximum}" if maximum else "at least 1"
        raise ActionProblem(400, "invalid.value", f"{name} must be an integer in {limit}", name)
    return value


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "false").lower() == "true"


def page(path: str, entities: Sequence[Any], query: Mapping[str, str], keep: Mapping[str, str]) -> dict[str, Any]:
    """One Genesys-style page (`ActionEntityListing`, `IntegrationEntityListing`) of `entities`."""
    size = _positive(query, "pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    number = _positive(query, "pageNumber", 1)
    return numbered_page(entities, size, number, path=path, keep=keep)


def shown(action: Mapping[str, Any], *, contract: bool, config: bool) -> dict[str, Any]:
    """An action as the platform shows it: the contract only when expanded, the config only when asked for."""
    result = {key: value for key, value in action.items() if key not in ("contract", "config")}
    if contract and "contract" in action:
        result["contract"] = action["contract"]
    if config and "config" in action:
        result["config"] = action["config"]
    return result


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise ActionProblem(400, "bad.request", "the body is not valid JSON") from None


def route_actions(store: ActionStore, method: str, path: str, query: Mapping[str, str], raw: bytes) -> Answer:
    parts = _segments(path)
    if not parts:
        if method != "GET":
            raise _not_allowed(method, "GET")
        _check_query(query, INTEGRATION_QUERY)
        found = [i for i in store.integrations() if query.get("integrationType") in (None, i["integrationType"]["id"])]
        keep = {"integrationType": query["integrationType"]} if "integrationType" in query else {}
        return Answer(200, page(INTEGRATIONS_PATH, found, query, keep))
    if parts[0] != "actions":
        raise ActionProblem(404, "not.found", f"no such resource: {path}")
    if len(parts) == 1:
        if method == "GET":
            return Answer(200, _listing(ACTIONS_PATH, store.actions(), query))
        if method == "POST":
            return Answer(200, store.create(_body(raw)), committed=True)
        raise _not_allowed(method, "GET, POST")
    if parts[1] == "drafts" and len(parts) == 2:
        if method != "GET":
            raise _not_allowed(method, "GET")
        return Answer(200, _listing(f"{ACTIONS_PATH}/drafts", store.drafts(), query))
    action_id = parts[1]
    if len(parts) == 2:
        if method == "GET":
            _check_query(query, GET_QUERY)
            action = store.action(action_id)
            if action is None:
                raise ActionProblem(404, "not.found", f"action {action_id} does not exist")
            return Answer(
                200, shown(action, contract=query.get("expand") == "contract", config=_flag(query, "includeConfig"))
            )
        if method == "PATCH":
            return Answer(200, store.patch(action_id, _body(raw)), committed=True)
        if method == "DELETE":
            store.delete(action_id)
            return Answer(204, committed=True)
        raise _not_allowed(method, "GET, PATCH, DELETE")
    if parts[2] == "draft" and len(parts) == 3:
        if method == "GET":
            _check_query(query, GET_QUERY)
            draft = store.draft(action_id)
            if draft is None:
                raise ActionProblem(404, "not.found", f"action {action_id} has no draft")
            return Answer(
                200, shown(draft, contract=query.get("expand") == "contract", config=_flag(query, "includeConfig"))
            )
        if method == "POST":
            return Answer(200, store.create_draft(action_id), committed=True)
        if method == "PATCH":
            return Answer(200, store.patch_draft(action_id, _body(raw)), committed=True)
        if method == "DELETE":
            store.delete_draft(action_id)
            return Answer(204, committed=True)
        raise _not_allowed(method, "GET, POST, PATCH, DELETE")
    if parts[2:] in (["execute"], ["test"], ["draft", "test"]):
        if method != "POST":
            raise _not_allowed(method, "POST")
        of_draft = parts[2] == "draft"
        stored = store.draft(action_id) if of_draft else store.action(action_id)
        if stored is None:
            missing = "has no draft" if of_draft else "does not exist"
            raise ActionProblem(404, "not.found", f"action {action_id} {missing}")
        run = execute if parts[2] == "execute" else execute_test
        status, payload = run(stored, _body(raw))
        return Answer(status, payload)
    if parts[2:] == ["draft", "publish"]:
        if method != "POST":
            raise _not_allowed(method, "POST")
        return Answer(200, store.publish(action_id, _body(raw)), committed=True)
    raise ActionProblem(404, "not.found", f"no such resource: {path}")


def _listing(path: str, actions: Sequence[Mapping[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    _check_query(query, LIST_QUERY)
    name = (query.get("name") or "").lower()
    category = query.get("category")
    config = _flag(query, "includeConfig")
    chosen = [
        shown(action, contract=False, config=config)
        for action in actions
        if name in str(action.get("name", "")).lower() and category in (None, action.get("category"))
    ]
    keep = {key: query[key] for key in ("name", "category", "includeConfig") if key in query}
    return page(path, chosen, query, keep)


__all__ = ["ACTION_QUERY", "Answer", "is_actions_path", "page", "route_actions", "shown"]
