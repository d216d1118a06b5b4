"""The Data Actions routes of the emulator: `/api/v2/integrations` and `/api/v2/integrations/actions/...`.

`route_actions` answers one request from the store, or raises `ActionProblem` for the platform's error body;
the server around it does auth, scopes, the rate limit, the injected faults and the headers. Lists page
Genesys-style (`pageSize`, `pageNumber`, `nextUri`); a listed action carries its `config` only with
`includeConfig=true` and never its contract, which `GET .../{id}?expand=contract` gives. `POST .../execute`,
`/test` and `/draft/test` run the stored action (`execute.py`).

As the platform documents ("after you save a request template, the API response references it as
requestTemplateUri"), an answer never carries a saved request or success template itself: it names it with
`requestTemplateUri` / `successTemplateUri`, and `GET .../{id}/templates/{fileName}` (or `.../draft/templates/...`)
answers its text.
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
MAX_IDS = 50
"""`ids=a,b,…` names at most this many actions (the platform's documented limit)."""
SORT_ORDERS = ("ASC", "DESC", "asc", "desc")
"""The documented values of `sortOrder` (`asc` is the documented default)."""
LIST_QUERY = frozenset(
    {"pageSize", "pageNumber", "name", "category", "includeConfig", "secure", "sortBy", "sortOrder", "ids",
     "includeAuthActions", "nextPage", "previousPage"}
)  # fmt: skip
GET_QUERY = frozenset({"expand", "includeConfig", "flatten"})
RUN_QUERY = frozenset({"flatten"})
INTEGRATION_QUERY = frozenset({"pageSize", "pageNumber", "integrationType", "sortBy", "expand", "reportedState"})
ACTION_QUERY = LIST_QUERY | GET_QUERY | INTEGRATION_QUERY
"""Every query parameter of these routes; each path checks its own (`_check_query`)."""
_BOOLEANS = ("true", "false")
_ENUMS: dict[str, tuple[str, ...]] = {
    "expand": ("contract",),
    "sortOrder": SORT_ORDERS,
    "secure": _BOOLEANS,
    "includeAuthActions": _BOOLEANS,
}
TEMPLATE_FILES = {
    "requesttemplate.vm": ("request", "requestTemplate", "requestTemplateUri"),
    "successtemplate.vm": ("response", "successTemplate", "successTemplateUri"),
}
"""The templates an action's answer names by URI: file name → (part of `config`, the template, its URI field)."""
_FLAGS = ("includeConfig", "flatten")
"""Boolean query parameters: `true` or `false` in any case (as a Java `Boolean` reads them); others are refused."""


@dataclass
class Answer:
    status: int
    payload: Any = None
    text: str | None = None
    """A plain-text answer (a template's text) instead of a JSON payload."""
    committed: bool = False
    """A write was committed (the answer may be lost by an injected fault)."""
    headers: dict[str, str] = field(default_factory=dict)


def is_actions_path(path: str) -> bool:
    return path == INTEGRATIONS_PATH or path.startswith(INTEGRATIONS_PATH + "/")


def _segments(path: str) -> list[str]:
    rest = path[len(INTEGRATIONS_PATH) :].strip("/")
    return [unquote(part) for part in rest.split("/")] if rest else []


def allowed_methods(path: str) -> tuple[str, ...]:
    """The methods `path` serves (for a 405's `Allow`); () when there is no such resource."""
    parts = _segments(path)
    if not parts:
        return ("GET",)
    if parts[0] != "actions" or len(parts) > 5:
        return ()
    if len(parts) == 1:
        return ("GET", "POST")
    if len(parts) == 2:
        return ("GET",) if parts[1] == "drafts" else ("GET", "PATCH", "DELETE")
    if parts[2:] == ["draft"]:
        return ("GET", "POST", "PATCH", "DELETE")
    if parts[2:] in (["execute"], ["test"], ["draft", "test"], ["draft", "publish"]):
        return ("POST",)
    if _template_file(parts[2:]) is not None:
        return ("GET",)
    return ()


def _template_file(rest: Sequence[str]) -> str | None:
    """The file name of `.../templates/{fileName}` or `.../draft/templates/{fileName}`; None for other paths."""
    if len(rest) == 2 and rest[0] == "templates":
        return rest[1]
    if len(rest) == 3 and rest[:2] == ["draft", "templates"]:
        return rest[2]
    return None


def permission(method: str, path: str) -> str:
    """The permission the platform documents for this operation (what a 403 names)."""
    parts = _segments(path)
    if not parts:
        return "integrations:integration:view"
    if parts[-1] in ("execute", "test"):
        return "integrations:action:execute"
    if method == "GET":
        return "integrations:action:view"
    if method == "DELETE":
        return "integrations:action:delete"
    return "integrations:action:add" if parts == ["actions"] else "integrations:action:edit"


def _check_method(method: str, path: str) -> None:
    allowed = allowed_methods(path)
    if not allowed:
        raise ActionProblem(404, "not.found", f"no such resource: {path}")
    if method not in allowed:
        shown = ", ".join(allowed)
        raise ActionProblem(
            405, "method.not.allowed", f"{method} is not allowed here; use {shown}", headers={"Allow": shown}
        )


def _check_query(
    query: Mapping[str, str], allowed: frozenset[str], enums: Mapping[str, tuple[str, ...]] = _ENUMS
) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise ActionProblem(400, "bad.request", f"unknown query parameter {unknown[0]!r}", unknown[0])
    for name, values in enums.items():
        if name in query and query[name] not in values:
            raise ActionProblem(400, "invalid.value", f"{name} must be one of {', '.join(values)}", name)
    for name in _FLAGS:
        if name in query and query[name].lower() not in _BOOLEANS:
            raise ActionProblem(400, "invalid.value", f"{name} must be true or false", name)
    if "ids" in query and query["ids"].count(",") >= MAX_IDS:
        raise ActionProblem(400, "invalid.value", f"ids names at most {MAX_IDS} actions", "ids")


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


def shown(action: Mapping[str, Any], *, contract: bool, config: bool, draft: bool = False) -> dict[str, Any]:
    """An action as the platform shows it: the contract only when expanded, the config only when asked for."""
    result = {key: value for key, value in action.items() if key not in ("contract", "config")}
    if contract and "contract" in action:
        result["contract"] = action["contract"]
    if config and "config" in action:
        result["config"] = action["config"]
    return by_reference(result, draft=draft)


def by_reference(action: Mapping[str, Any], *, draft: bool = False) -> dict[str, Any]:
    """`action` with each saved template replaced by the URI its text is read from (the platform's answer)."""
    config = action.get("config")
    if not isinstance(config, Mapping):
        return dict(action)
    base = f"{ACTIONS_PATH}/{action.get('id')}{'/draft' if draft else ''}/templates"
    changed = dict(config)
    for file_name, (part, template, uri) in TEMPLATE_FILES.items():
        inner = config.get(part)
        if isinstance(inner, Mapping) and isinstance(inner.get(template), str):
            changed[part] = {
                **{key: value for key, value in inner.items() if key != template},
                uri: f"{base}/{file_name}",
            }
    return {**action, "config": changed}


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise ActionProblem(400, "bad.request", "the body is not valid JSON") from None


def route_actions(store: ActionStore, method: str, path: str, query: Mapping[str, str], raw: bytes) -> Answer:
    _check_method(method, path)
    parts = _segments(path)
    if not parts:
        _check_query(query, INTEGRATION_QUERY, enums={})  # an integration's `expand` names any field
        return Answer(200, _integrations(store.integrations(), query))
    if parts == ["actions"]:
        if method == "GET":
            return Answer(200, _listing(ACTIONS_PATH, store.actions(), query))
        _check_query(query, frozenset())
        return Answer(200, by_reference(store.create(_body(raw))), committed=True)
    if parts == ["actions", "drafts"]:
        return Answer(200, _listing(f"{ACTIONS_PATH}/drafts", store.drafts(), query, draft=True))
    action_id, rest = parts[1], parts[2:]
    file_name = _template_file(rest)
    if file_name is not None:
        _check_query(query, frozenset())
        return Answer(200, text=_template(store, action_id, rest[0] == "draft", file_name))
    if rest in ([], ["draft"]) and method == "GET":
        _check_query(query, GET_QUERY)
        found = store.action(action_id) if not rest else store.draft(action_id)
        if found is None:
            raise ActionProblem(404, "not.found", f"action {action_id} {'has no draft' if rest else 'does not exist'}")
        expanded = query.get("expand") == "contract"
        return Answer(200, shown(found, contract=expanded, config=_flag(query, "includeConfig"), draft=bool(rest)))
    if rest in (["execute"], ["test"], ["draft", "test"]):
        _check_query(query, RUN_QUERY)
        return _run(store, action_id, rest, _body(raw))
    _check_query(query, frozenset())
    if not rest:
        if method == "PATCH":
            return Answer(200, by_reference(store.patch(action_id, _body(raw))), committed=True)
        store.delete(action_id)
        return Answer(204, committed=True)
    if rest == ["draft", "publish"]:
        return Answer(200, by_reference(store.publish(action_id, _body(raw))), committed=True)
    if method == "POST":
        return Answer(200, by_reference(store.create_draft(action_id), draft=True), committed=True)
    if method == "PATCH":
        return Answer(200, by_reference(store.patch_draft(action_id, _body(raw)), draft=True), committed=True)
    store.delete_draft(action_id)
    return Answer(204, committed=True)


def _template(store: ActionStore, action_id: str, of_draft: bool, file_name: str) -> str:
    stored = store.draft(action_id) if of_draft else store.action(action_id)
    if stored is None:
        raise ActionProblem(404, "not.found", f"action {action_id} {'has no draft' if of_draft else 'does not exist'}")
    part, template, _ = TEMPLATE_FILES.get(file_name, ("", "", ""))
    text = ((stored.get("config") or {}).get(part) or {}).get(template) if part else None
    if not isinstance(text, str):
        raise ActionProblem(404, "not.found", f"action {action_id} has no template {file_name!r}")
    return text


def _run(store: ActionStore, action_id: str, rest: list[str], inputs: Any) -> Answer:
    """`execute`, `test` and `draft/test`. The inputs are a JSON object (the SDK's `Map` of parameters) for all
    three: a test of a body that is not one is refused, not answered as a failed run."""
    of_draft = rest[0] == "draft"
    stored = store.draft(action_id) if of_draft else store.action(action_id)
    if stored is None:
        raise ActionProblem(404, "not.found", f"action {action_id} {'has no draft' if of_draft else 'does not exist'}")
    if not isinstance(inputs, Mapping):
        raise ActionProblem(400, "bad.request", "the body must be a JSON object: the action's inputs")
    basic_auth = store.basic_auth(str(stored.get("integrationId")))
    if rest == ["execute"]:
        status, payload = execute(stored, inputs, basic_auth=basic_auth)
        if status >= 400:  # in the server's error body, with its contextId, as every other refusal
            raise ActionProblem(status, str(payload["code"]), str(payload["message"]))
        return Answer(status, payload)
    status, payload = execute_test(stored, inputs, basic_auth=basic_auth)
    return Answer(status, payload)


def _sorted(entities: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    """By the root-level field `sortBy` names (default: name), entities without it last; `sortOrder=DESC`
    reverses."""
    key = query.get("sortBy") or "name"
    ordered = sorted(entities, key=lambda e: (key not in e, str(e.get(key, "")).lower(), str(e.get("id", ""))))
    return ordered[::-1] if query.get("sortOrder", "ASC").upper() == "DESC" else ordered


def _listing(
    path: str, actions: Sequence[Mapping[str, Any]], query: Mapping[str, str], *, draft: bool = False
) -> dict[str, Any]:
    _check_query(query, LIST_QUERY)
    name = (query.get("name") or "").lower()
    category = query.get("category")
    ids = set(query["ids"].split(",")) if "ids" in query else None
    secure = query.get("secure")
    config = _flag(query, "includeConfig")
    chosen = [
        shown(action, contract=False, config=config, draft=draft)
        for action in actions
        if name in str(action.get("name", "")).lower()
        and category in (None, action.get("category"))
        and (ids is None or action.get("id") in ids)
        and (secure is None or bool(action.get("secure")) == (secure == "true"))
    ]
    kept = ("name", "category", "includeConfig", "ids", "secure", "sortBy", "sortOrder", "includeAuthActions")
    keep = {key: query[key] for key in kept if key in query}
    return page(path, _sorted(chosen, query), query, keep)


def _integrations(integrations: Sequence[Mapping[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    kind = query.get("integrationType")
    state = (query.get("reportedState") or "").upper()
    found = [
        i
        for i in integrations
        if kind in (None, i["integrationType"]["id"]) and state in ("", str(i.get("reportedState", {}).get("code")))
    ]
    keep = {key: query[key] for key in ("integrationType", "reportedState") if key in query}
    return page(INTEGRATIONS_PATH, found, query, keep)


__all__ = [
    "ACTION_QUERY",
    "MAX_IDS",
    "MAX_PAGE_SIZE",
    "SORT_ORDERS",
    "TEMPLATE_FILES",
    "Answer",
    "allowed_methods",
    "by_reference",
    "is_actions_path",
    "page",
    "permission",
    "route_actions",
    "shown",
]
