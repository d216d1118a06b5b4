"""The Data Actions API (DESIGN §8) as a target: `/api/v2/integrations/actions` of one Web Services integration.

Paths, query parameters and bodies are those of the official SDK's `IntegrationsApi` and models: lists page
Genesys-style (`pageSize`, `pageNumber`, `nextUri`); an action is read with `expand=contract&includeConfig=true`
(a listing carries neither its contract nor, unless asked, its config); a change of contract or config goes
through a draft (create it from the action, PATCH it with its version, publish it with its version), so the
action keeps its id and every flow and guide that calls it keeps working.

The platform answers a saved request or success template by reference (`requestTemplateUri`,
`successTemplateUri`: "after you save a request template, the API response references it as requestTemplateUri");
an action or draft whose content is compared is completed with the text of each one, read from
`.../{id}/templates/{fileName}` (`.../{id}/draft/templates/...` for a draft), as the Terraform provider does.

Every write is safe under lost answers: before writing again the adapter looks (a draft that already exists is
read and reused, a patch or publish whose answer was lost is read back), so an apply interrupted between the
draft steps is finished by the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from reconciler.api.adapter import WriteResult
from reconciler.api.client import LIST_ATTEMPTS, MAX_PAGES, ApiClient
from reconciler.api.threads import map_in_threads
from reconciler.api.translate import DATA_ACTIONS_API, Kind, Operation, correlation_id
from reconciler.errors import (
    ApiError,
    ConfigurationError,
    ConflictError,
    InputError,
    NotFoundError,
    ReconcilerError,
    ServerError,
)
from reconciler.model import SourceLocation
from reconciler.state import DataActionsForm, Form, Record
from reconciler.state.data_actions import normalized_action
from reconciler.words import listed

ACTIONS_PATH = "/api/v2/integrations/actions"
INTEGRATIONS_PATH = "/api/v2/integrations"
WEB_SERVICES_TYPE = "custom-rest-actions"
PAGE_SIZE = 100
READ = {"expand": "contract", "includeConfig": "true"}
TEMPLATES = (
    ("request", "requestTemplate", "requestTemplateUri", "requesttemplate.vm"),
    ("response", "successTemplate", "successTemplateUri", "successtemplate.vm"),
)
"""The templates an answer may name by URI: part of `config`, the template, its URI field, the file name."""
DRAFT_ATTEMPTS = 3
"""Patches or publishes of one draft when their answers are lost (each one after a look at the draft)."""


def _op(kind: Kind, method: str, subject: str) -> Operation:
    return Operation(kind, method, subject, api=DATA_ACTIONS_API)


class DataActionsClient(ApiClient):
    """The calls, in the API's own JSON."""

    def pages(self, path: str, filters: Mapping[str, str], subject: str) -> list[dict[str, Any]]:
        """Every entity of a list, read again from the first page when it shifted while it was read: numbered
        pages move when another writer creates or deletes an entity meanwhile, and one would be missed or seen
        twice. Told, as the Tools API client tells it, by a page whose `total` differs from the first page's, or
        an id seen twice; and, since a create and a delete together leave `total` as it was and still shift a
        page, a list of more than one page is accepted only when a second read gives the same ids in the same
        order (one page is one answer: a snapshot already). The second read costs as many requests as the
        pages, next to one request per action for the whole reads a plan makes anyway."""
        for _ in range(LIST_ATTEMPTS):
            first = self._listing(path, filters, subject)
            if first is None:
                continue
            entities, numbered = first
            if numbered <= 1:
                return entities
            second = self._listing(path, filters, subject)
            if second is not None and _ids(second[0]) == _ids(entities):
                return second[0]
        raise ServerError(
            f"the list of {subject} on {self.target.api_host} changed while it was read, {LIST_ATTEMPTS} times in "
            "a row (another writer at work?); try again when it is done"
        )

    def _listing(self, path: str, filters: Mapping[str, str], subject: str) -> tuple[list[dict[str, Any]], int] | None:
        """One read of the whole list and the number of pages it took; None when it shifted under the reader."""
        operation = _op("list", "GET", subject)
        url = self._url(path)
        params: dict[str, Any] | None = {"pageSize": PAGE_SIZE, "pageNumber": 1, **filters}
        seen: set[str] = set()
        ids: set[str] = set()
        found: list[dict[str, Any]] = []
        total: Any = None
        for number in range(MAX_PAGES):
            response = self._call(operation, url, params=params, expect=(200,))
            body = self._json_object(response)
            entities = body.get("entities")
            if not isinstance(entities, list):
                raise self._broken(response, f"a page of {subject} without an `entities` list")
            if number == 0:
                total = body.get("total")
            elif body.get("total") != total:
                return None
            for entity in entities:
                ident = entity.get("id") if isinstance(entity, Mapping) else None
                if isinstance(ident, str):
                    if ident in ids:
                        return None
                    ids.add(ident)
            found.extend(entities)
            next_uri = body.get("nextUri")
            if not next_uri or not entities:
                return found, number + 1
            url, params = self._follow(str(next_uri), response), None
            if url in seen:
                raise self._broken(response, f"the same page twice ({url}); stopped instead of looping forever")
            seen.add(url)
        raise self._broken(None, f"more than {MAX_PAGES} pages of {subject}; stopped")

    def integrations(self) -> list[dict[str, Any]]:
        return self.pages(INTEGRATIONS_PATH, {}, "the integrations")

    def list_actions(self, name: str | None = None) -> list[dict[str, Any]]:
        filters = {"includeConfig": "true", **({"name": name} if name else {})}
        return self.pages(ACTIONS_PATH, filters, "the actions" + (f" (name {name!r})" if name else ""))

    def list_drafts(self) -> list[dict[str, Any]]:
        return self.pages(f"{ACTIONS_PATH}/drafts", {}, "the action drafts")

    def get_action(self, action_id: str, *, templates: bool = True) -> dict[str, Any]:
        """The action whole; `templates=False` leaves templates the answer names by URI unread."""
        response = self._call(
            _op("get", "GET", f"action {action_id}"), self._action(action_id), params=READ, expect=(200,)
        )
        action = self._json_object(response)
        return self._with_templates(action_id, action, "") if templates else action

    def get_draft(self, action_id: str) -> dict[str, Any] | None:
        operation = _op("get", "GET", f"the draft of action {action_id}")
        response = self._call(operation, self._action(action_id, "/draft"), params=READ, expect=(200, 404))
        if response.status_code != 200:
            return None
        return self._with_templates(action_id, self._json_object(response), "/draft")

    def template(self, action_id: str, file_name: str, where: str = "") -> str:
        """The text of a template of the action (`where=""`) or of its draft (`where="/draft"`)."""
        operation = _op("get", "GET", f"the {file_name} of action {action_id}{' (draft)' if where else ''}")
        url = self._action(action_id, f"{where}/templates/{quote(file_name, safe='')}")
        response = self._call(operation, url, headers={"Accept": "text/plain, */*"}, expect=(200,))
        return response.text

    def _with_templates(self, action_id: str, action: dict[str, Any], where: str) -> dict[str, Any]:
        """`action` with the text of each template its config names only by URI."""
        config = action.get("config")
        if not isinstance(config, Mapping):
            return action
        filled = dict(config)
        for part, key, uri, file_name in TEMPLATES:
            inner = config.get(part)
            if isinstance(inner, Mapping) and inner.get(key) is None and inner.get(uri):
                filled[part] = {**inner, key: self.template(action_id, file_name, where)}
        return {**action, "config": filled}

    def create_action(self, payload: Mapping[str, Any]) -> tuple[dict[str, Any], int, str | None]:
        operation = _op("create", "POST", f"action {payload.get('name')!r}")
        response = self._call(operation, self._url(ACTIONS_PATH), json=dict(payload), expect=(200, 201))
        return self._json_object(response), response.status_code, correlation_id(response)

    def create_draft(self, action_id: str) -> dict[str, Any]:
        operation = _op("update", "POST", f"a draft of action {action_id}")
        response = self._call(operation, self._action(action_id, "/draft"), expect=(200, 201))
        return self._json_object(response)

    def patch_draft(self, action_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        operation = _op("update", "PATCH", f"the draft of action {body.get('name')!r} ({action_id})")
        response = self._call(operation, self._action(action_id, "/draft"), json=dict(body), expect=(200,))
        return self._json_object(response)

    def publish_draft(self, action_id: str, version: int) -> tuple[dict[str, Any], int, str | None]:
        operation = _op("update", "POST", f"the draft of action {action_id} (publish)")
        url = self._action(action_id, "/draft/publish")
        response = self._call(operation, url, json={"version": version}, expect=(200, 201))
        return self._json_object(response), response.status_code, correlation_id(response)

    def delete_action(self, action_id: str) -> tuple[int, str | None, bool]:
        """A 404 means the action is already gone: returned, not raised. The flag: the DELETE was sent again
        after an attempt whose answer was lost, so a 404 may be this call's own earlier attempt."""
        operation = _op("delete", "DELETE", f"action {action_id}")
        response, resent = self._call_noting(operation, self._action(action_id), expect=(200, 202, 204, 404))
        return response.status_code, correlation_id(response), resent

    def _action(self, action_id: str, tail: str = "") -> str:
        return self._url(f"{ACTIONS_PATH}/{quote(action_id, safe='')}{tail}")


def _ids(entities: list[dict[str, Any]]) -> list[Any]:
    return [entity.get("id") if isinstance(entity, Mapping) else None for entity in entities]


def resolve_integration(client: DataActionsClient, wanted: str, where: SourceLocation | None = None) -> dict[str, Any]:
    """The Web Services Data Actions integration named `wanted`, or whose id it is. An error at `where` (the
    place of `integration:` in reconciler.yaml) when there is none, more than one, or one of another type."""

    def refused(message: str) -> ReconcilerError:
        if where is None:
            return ConfigurationError(f"reconciler.yaml: {message}")
        return InputError.at(where, message, "integration")

    every = [i for i in client.integrations() if isinstance(i, Mapping)]
    found = [i for i in every if wanted in (i.get("id"), i.get("name"))]
    by_id = [i for i in found if i.get("id") == wanted]
    chosen = by_id or found
    if not chosen:
        usable = sorted(str(i.get("name")) for i in every if _type_of(i) == WEB_SERVICES_TYPE)
        named = listed(usable)
        there = f" (its Web Services Data Actions integrations: {named})" if usable else ""
        raise refused(
            f"integration {wanted!r}: no integration of that name or id in this org{there}; create a Web Services "
            "Data Actions integration (docs/data-actions.md) or fix `integration:`"
        )
    if len(chosen) > 1:
        ids = ", ".join(sorted(str(i.get("id")) for i in chosen))
        raise refused(
            f"integration {wanted!r}: {len(chosen)} integrations have that name; give its id instead (one of {ids})"
        )
    integration = chosen[0]
    kind = _type_of(integration)
    if kind != WEB_SERVICES_TYPE:
        raise refused(
            f"integration {wanted!r} is of type {kind!r}, not Web Services Data Actions ({WEB_SERVICES_TYPE}); "
            "name one of that type"
        )
    return dict(integration)


def _type_of(integration: Mapping[str, Any]) -> Any:
    kind = integration.get("integrationType")
    return kind.get("id") if isinstance(kind, Mapping) else None


class DataActionsTarget:
    """Data Actions as a target: the actions of one integration, as Records."""

    def __init__(self, client: DataActionsClient, form: DataActionsForm, *, parallelism: int = 4) -> None:
        self.client = client
        self.stats = client.stats
        self.form: Form = form
        self._form = form
        self._host = client.target.api_host
        self._parallelism = max(1, parallelism)

    # -- reads ---------------------------------------------------------------------------------------------

    def _ours(self, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """This integration's actions; each listed entity is checked at the edge before anything is read."""
        for raw in listed:
            self._form.parse(raw, host=self._host)
        return [raw for raw in listed if raw.get("integrationId") == self._form.integration_id]

    def list(self) -> list[Record]:
        """Every action of the integration, read whole (contract and config), and which of them has a draft of
        other content than the published action (the drafts listing gives ids only: a draft is read when there
        is one, and one that holds what is published, opened in the UI and left, is no change to make)."""
        listed = self._ours(self.client.list_actions())
        drafts = {str(d.get("id")) for d in self.client.list_drafts() if isinstance(d, Mapping)}
        full = [raw for raw in map_in_threads(self._read, listed, self._parallelism, "read") if raw is not None]
        drafted = [raw for raw in full if str(raw.get("id")) in drafts]
        other = map_in_threads(self._draft_differs, drafted, self._parallelism, "read")
        differ = {str(raw.get("id")) for raw, differs in zip(drafted, other, strict=True) if differs}
        return [self._form.parse(raw, host=self._host, draft=str(raw.get("id")) in differ) for raw in full]

    def _draft_differs(self, action: Mapping[str, Any]) -> bool:
        """Whether the action's draft holds other content than the action (gone since the listing: no draft)."""
        try:
            draft = self.client.get_draft(str(action["id"]))
        except NotFoundError:
            return False
        return draft is not None and normalized_action(draft) != normalized_action(action)

    def _read(self, listed: Mapping[str, Any]) -> dict[str, Any] | None:
        """A listed action read whole; None when another writer deleted it since the listing (it is gone, as a
        Terraform refresh drops a resource that answers 404, rather than failing the whole plan)."""
        try:
            return self.client.get_action(str(listed["id"]))
        except NotFoundError:
            return None

    def get(self, record_id: str) -> Record:
        return self._form.parse(self.client.get_action(record_id), host=self._host)

    def find_by_name(self, name: str) -> Record | None:
        """The action of `name`, read whole; None when there is none, or when the one listed was deleted before
        it was read (404): apply resolves a lost create by this, and an action gone is not there."""
        for raw in self._ours(self.client.list_actions(name)):
            if raw.get("name") == name:
                try:
                    return self.get(str(raw["id"]))
                except NotFoundError:
                    return None
        return None

    # -- writes --------------------------------------------------------------------------------------------

    def create(self, payload: Mapping[str, Any]) -> WriteResult:
        action, status, cid = self.client.create_action(payload)
        return WriteResult(self._form.parse(action, host=self._host), status, cid)

    def update(self, record_id: str, payload: Mapping[str, Any], version: int) -> WriteResult:
        """In place, through a draft. Refused (409 version changed) when the action moved since the plan."""
        current = self.client.get_action(record_id, templates=False)  # only its version counts here
        if current.get("version") != version:
            raise ConflictError(
                f"action {payload.get('name')!r} ({record_id}) changed on the server since it was read (version "
                f"{current.get('version')}, planned against {version}); run plan again",
                reason="version_changed",
            )
        wanted = normalized_action(payload)
        draft = self._draft(record_id)
        body = {key: value for key, value in payload.items() if key != "integrationId"}
        written = False
        for _ in range(DRAFT_ATTEMPTS):
            if normalized_action(draft) == wanted:
                written = True
                break
            try:
                draft = self.client.patch_draft(record_id, {**body, "version": draft.get("version")})
                written = True  # the draft holds the content now: its answer may name the templates only by URI
                break
            except NotFoundError as exc:
                raise self._draft_gone(record_id, exc) from None
            except ApiError as exc:
                if not (exc.maybe_committed or isinstance(exc, ConflictError)):
                    raise
                draft = self._existing_draft(record_id, exc)
        if not written:  # publishing the draft as it is would publish the old content and call it done
            raise ApiError(
                f"no answer after {DRAFT_ATTEMPTS} attempts to write the draft of action {payload.get('name')!r} "
                f"({record_id}); nothing was published: run apply again"
            )
        return self._publish(record_id, draft, wanted)

    def _draft(self, action_id: str) -> dict[str, Any]:
        """The action's draft: a new one, or the one an interrupted apply (or a UI edit) left, which the patch
        then overwrites."""
        try:
            return self.client.create_draft(action_id)
        except ApiError as exc:
            if not (exc.maybe_committed or isinstance(exc, ConflictError)):
                raise
            return self._existing_draft(action_id, exc)

    def _existing_draft(self, action_id: str, exc: ApiError) -> dict[str, Any]:
        draft = self.client.get_draft(action_id)
        if draft is None:
            raise exc
        return draft

    def _publish(self, action_id: str, draft: Mapping[str, Any], wanted: Mapping[str, Any]) -> WriteResult:
        version = draft.get("version")
        if not isinstance(version, int):
            raise ApiError(f"{self._host} sent a draft of action {action_id} without a version; run apply again")
        for _ in range(DRAFT_ATTEMPTS):
            try:
                action, status, cid = self.client.publish_draft(action_id, version)
                return WriteResult(self._form.parse(action, host=self._host), status, cid)
            except NotFoundError as exc:
                raise self._draft_gone(action_id, exc) from None
            except ConflictError as exc:  # the draft moved since this apply wrote it: publish nobody's content
                raise ApiError(
                    f"the draft of action {action_id} changed while this apply wrote it (someone saved it in the UI, "
                    f"or another apply ran); nothing was published: run apply again, which overwrites that draft",
                    status=exc.status,
                    correlation_id=exc.correlation_id,
                ) from None
            except ApiError as exc:
                if not exc.maybe_committed:
                    raise
                current = self.client.get_action(action_id)
                if normalized_action(current) == wanted and self.client.get_draft(action_id) is None:
                    return WriteResult(self._form.parse(current, host=self._host), 200, exc.correlation_id)
        raise ApiError(f"no answer after {DRAFT_ATTEMPTS} attempts to publish the draft of action {action_id}")

    def _draft_gone(self, action_id: str, exc: NotFoundError) -> ApiError:
        """The error for a draft that answered 404 while this apply wrote it: the action's own 404 when the
        action is gone too (apply says it was deleted), else the draft was discarded (or published) by someone
        else, which is not the action being deleted."""
        try:
            self.client.get_action(action_id, templates=False)
        except NotFoundError:
            return exc
        return ApiError(
            f"the draft of action {action_id} was discarded or published by someone else while this apply wrote "
            "it; nothing was published: run apply again",
            status=exc.status,
            correlation_id=exc.correlation_id,
        )

    def delete(self, record_id: str) -> WriteResult:
        status, cid, resent = self.client.delete_action(record_id)
        return WriteResult(None, status, cid, resent)

    def __repr__(self) -> str:
        return f"DataActionsTarget({self.client.target.description!r}, integration {self._form.integration_id!r})"


__all__ = [
    "ACTIONS_PATH",
    "INTEGRATIONS_PATH",
    "WEB_SERVICES_TYPE",
    "DataActionsClient",
    "DataActionsTarget",
    "resolve_integration",
]
