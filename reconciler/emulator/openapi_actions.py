"""The OpenAPI description of the emulated Data Actions routes (`/api/v2/integrations` and
`/api/v2/integrations/actions/...`), merged into the emulator's /openapi.json so schemathesis holds them to it.

The shapes are the official SDK's models (`PostActionInput`, `UpdateDraftInput`, `Action`, `ActionEntityListing`,
`Integration`, `TestExecutionResult`, `ErrorBody`), with the JSON names the platform uses. A request schema says
no more than `actions.py` and `actions_http.py` check (a fuzzer's invalid requests must all be refused); what JSON
Schema cannot say is said in prose: `integrationId` names an existing Web Services Data Actions integration, a
contract's schemas are valid JSON Schema draft-04, an action nests at most 50 levels, and execute's inputs meet
the action's input contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.emulator.actions import WEB_SERVICES_TYPE
from reconciler.emulator.actions_http import MAX_IDS, MAX_PAGE_SIZE, SORT_ORDERS
from reconciler.emulator.actions_input import MAX_DEPTH, MAX_NAME, REQUEST_TYPES, VISIBLE_PATTERN

_REF = "#/components/schemas/"
ErrorResponse = Callable[..., dict[str, Any]]
"""openapi.py's `_error(description, *extra_headers)`: one error answer in the platform's body."""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(name)}}


def _object(properties: dict[str, Any], *required: str, closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def _strings() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": {"type": "string"}}


def _listing(entity: str) -> dict[str, Any]:
    """A Genesys page (`ActionEntityListing`, `IntegrationEntityListing`)."""
    uri = {"type": "string"}
    return _object(
        {
            "entities": {"type": "array", "items": _ref(entity)},
            "pageSize": {"type": "integer", "minimum": 1},
            "pageNumber": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
            "pageCount": {"type": "integer", "minimum": 0},
            "selfUri": uri,
            "firstUri": uri,
            "lastUri": uri,
            "nextUri": uri,
            "previousUri": uri,
        },
        "entities",
        "pageSize",
        "pageNumber",
        "total",
        "pageCount",
        closed=False,
    )


def actions_schemas() -> dict[str, Any]:
    name = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_NAME,
        "pattern": VISIBLE_PATTERN,
        "description": f"Not blank, at most {MAX_NAME} characters.",
    }
    version = {"type": "integer", "description": "The version read; another is a 409 `version.mismatch`."}
    schema_document: dict[str, Any] = {
        "type": "object",
        "description": "A JSON Schema draft-04 document (the SDK's JsonSchemaDocument); it must be valid draft-04.",
        "properties": {
            "$schema": {"type": "string"},
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "type": {"type": ["string", "array"]},
            "required": {"type": "array", "items": {"type": "string"}},
            "properties": {"type": "object"},
        },
    }
    input_schema = {**schema_document, "properties": {**schema_document["properties"], "type": {"enum": ["object"]}}}
    return {
        "PostActionInput": _object(
            {
                "name": name,
                "category": name,
                "integrationId": {
                    "type": "string",
                    "description": f"An existing integration of type `{WEB_SERVICES_TYPE}`; another is a 400.",
                },
                "secure": {"type": "boolean"},
                "config": _ref("ActionConfig"),
                "contract": _ref("ActionContractInput"),
            },
            "name",
            "category",
            "integrationId",
            "contract",
        )
        | {"description": f"The whole action nests at most {MAX_DEPTH} levels deep."},
        "UpdateActionInput": _object(
            {"name": name, "category": name, "config": _ref("ActionConfig"), "version": version},
            "version",
        ),
        "UpdateDraftInput": _object(
            {
                "name": name,
                "category": name,
                "config": _ref("ActionConfig"),
                "contract": _ref("ActionContractInput"),
                "secure": {"type": "boolean"},
                "version": version,
            },
            "version",
        ),
        "PublishDraftInput": _object({"version": version}, "version"),
        "ActionConfig": _object(
            {
                "timeoutSeconds": {"type": "integer", "minimum": 1, "maximum": 60},
                "request": _ref("RequestConfig"),
                "response": _ref("ResponseConfig"),
            }
        ),
        "RequestConfig": _object(
            {
                "requestUrlTemplate": {"type": "string", "minLength": 1},
                "requestTemplate": {"type": "string"},
                "requestTemplateUri": {"type": "string"},
                "requestType": {"type": "string", "enum": sorted(REQUEST_TYPES)},
                "headers": _strings(),
            },
            "requestUrlTemplate",
            "requestType",
        ),
        "ResponseConfig": _object(
            {
                "translationMap": _strings(),
                "translationMapDefaults": _strings(),
                "successTemplate": {"type": "string"},
                "successTemplateUri": {"type": "string"},
            }
        ),
        "ActionContractInput": _object(
            {
                "input": _object({"inputSchema": _ref("ActionInputSchema")}, "inputSchema"),
                "output": _object({"successSchema": _ref("JsonSchemaDocument")}, "successSchema"),
            },
            "input",
            "output",
        ),
        "ActionInputSchema": input_schema,
        "JsonSchemaDocument": schema_document,
        "Action": _object(
            {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "integrationId": {"type": "string"},
                "category": {"type": "string"},
                "contract": _object(
                    {
                        "input": _object({"inputSchema": _ref("JsonSchemaDocument")}, closed=False),
                        "output": _object({"successSchema": _ref("JsonSchemaDocument")}, closed=False),
                    },
                    closed=False,
                ),
                "version": {"type": "integer", "minimum": 1},
                "secure": {"type": "boolean"},
                "config": _ref("ActionConfig"),
                "selfUri": {"type": "string"},
            },
            "id",
            "name",
            "integrationId",
            "category",
            "version",
            "secure",
            "selfUri",
            closed=False,
        ),
        "ActionEntityListing": _listing("Action"),
        "Integration": _object(
            {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "integrationType": _object(
                    {"id": {"type": "string"}, "selfUri": {"type": "string"}}, "id", closed=False
                ),
                "intendedState": {"type": "string", "enum": ["ENABLED", "DISABLED", "DELETED", "RESTORED"]},
                "reportedState": _object(
                    {"code": {"enum": ["ACTIVE", "ACTIVATING", "INACTIVE", "DEACTIVATING", "ERROR"]}},
                    "code",
                    closed=False,
                ),
                "selfUri": {"type": "string"},
            },
            "id",
            "name",
            "integrationType",
            "selfUri",
            closed=False,
        ),
        "IntegrationEntityListing": _listing("Integration"),
        "ErrorBody": _object(
            {
                "message": {"type": "string"},
                "code": {"type": "string"},
                "status": {"type": "integer"},
                "details": {"type": "array"},
                "errors": {"type": "array"},
            },
            "message",
            "code",
            "status",
            closed=False,
        ),
        "TestExecutionResult": _object(
            {
                "operations": {
                    "type": "array",
                    "items": _object(
                        {
                            "step": {"type": "integer", "minimum": 1},
                            "name": {"type": "string"},
                            "success": {"type": "boolean"},
                            "result": {},
                            "error": _ref("ErrorBody"),
                        },
                        "step",
                        "name",
                        "success",
                        closed=False,
                    ),
                },
                "error": _ref("ErrorBody"),
                "finalResult": {"type": "object"},
                "success": {"type": "boolean"},
            },
            "operations",
            "success",
            closed=False,
        ),
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


_BOOLEAN = {"type": "boolean"}
_PAGING = [
    _query("pageSize", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}, f"1..{MAX_PAGE_SIZE}; 25."),
    _query("pageNumber", {"type": "integer", "minimum": 1}, "From 1; past the last page, no entities."),
]
_EXPANDED = [
    _query("expand", {"type": "string", "enum": ["contract"]}, "`contract`: the action with its contract."),
    _query("flatten", _BOOLEAN, "Architect's flattened schemas; the emulator never flattens."),
    _query("includeConfig", _BOOLEAN, "The action with its `config`."),
]
_LISTING = [
    *_PAGING,
    _query("nextPage", {"type": "string"}, "Accepted; the emulator pages by `pageNumber` only."),
    _query("previousPage", {"type": "string"}, "Accepted; the emulator pages by `pageNumber` only."),
    _query("sortBy", {"type": "string"}, "A root-level field to sort on (default: name)."),
    _query("sortOrder", {"type": "string", "enum": list(SORT_ORDERS)}, "ASC (default) or DESC."),
    _query("category", {"type": "string"}, "Only the actions of this category."),
    _query("name", {"type": "string"}, "Only the actions whose name holds this text (any case)."),
    _query(
        "ids",
        {"type": "string", "pattern": f"^[^,]*(,[^,]*){{0,{MAX_IDS - 1}}}$"},
        f"Only these actions: a comma-separated list of at most {MAX_IDS} ids.",
    ),
    _query("secure", {"type": "string", "enum": ["true", "false"]}, "Only secure (true) or non-secure actions."),
    _query("includeAuthActions", {"type": "string", "enum": ["true", "false"]}, "The emulator has none."),
    _query("includeConfig", _BOOLEAN, "Each action with its `config` (never its contract)."),
]
_INTEGRATIONS = [
    *_PAGING,
    _query("integrationType", {"type": "string"}, f"Only integrations of this type (`{WEB_SERVICES_TYPE}`)."),
    _query("reportedState", {"type": "string"}, "Only integrations in this reported state (any case)."),
    _query("sortBy", {"type": "string"}, "Accepted; integrations come sorted by name."),
    _query("expand", {"type": "string"}, "Accepted; nothing is expanded."),
]


def actions_paths(
    security: list[dict[str, list[str]]], ok_headers: dict[str, Any], error: ErrorResponse
) -> dict[str, Any]:
    """The path items; `error` builds one answer in the platform's error body with the usual headers."""

    def answer(description: str, schema: str | None = None) -> dict[str, Any]:
        shown: dict[str, Any] = {"description": description, "headers": ok_headers}
        if schema is not None:
            shown["content"] = _json(schema)
        return shown

    texts = {
        400: (
            "Malformed request: bad JSON, a field the model lacks, of the wrong type or null, a bad query "
            "parameter; for execute, inputs that break the input contract or a web service that failed."
        ),
        401: "Missing, unknown or expired bearer token.",
        403: "The caller's role lacks the permission the message names (`missing.permissions`).",
        404: "No such action (or no draft of it).",
        409: "Conflict: `version.mismatch` (send the version read), `draft.exists`, `action.name.exists`.",
    }

    def errors(*statuses: int) -> dict[str, Any]:
        responses = {str(status): error(texts[status]) for status in (400, 401, 403, *statuses)}
        responses["429"] = error("Rate limited; retry after `Retry-After` seconds.", "RetryAfter")
        for status in (502, 503, 504):
            responses[str(status)] = error("Injected failure: the request was not processed.")
        responses["default"] = error("Any other error, in the platform's error body.")
        return responses

    def operation(
        operation_id: str,
        summary: str,
        permission: str,
        responses: dict[str, Any],
        *,
        parameters: list[dict[str, Any]] | None = None,
        body: str | None = None,
    ) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "operationId": operation_id,
            "summary": f"{summary} (permission {permission})",
            "security": security,
            "responses": responses,
        }
        if parameters:
            shown["parameters"] = parameters
        if body is not None:
            shown["requestBody"] = {"required": True, "content": _json(body)}
        return shown

    action_id = {"name": "actionId", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
    flatten = [_query("flatten", _BOOLEAN, "Architect's flattened output; the emulator never flattens.")]
    inputs = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "The inputs: they must meet the input contract (400)."}
            }
        },
    }
    file_name = {
        "name": "fileName",
        "in": "path",
        "required": True,
        "description": "`requesttemplate.vm` or `successtemplate.vm` (another name is a 404).",
        "schema": {"type": "string", "minLength": 1},
    }
    template_text = {
        "description": "The template's text (Velocity).",
        "headers": ok_headers,
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    view, edit = "integrations:action:view", "integrations:action:edit"
    run = "integrations:action:execute"
    base = "/api/v2/integrations"
    item = f"{base}/actions/{{actionId}}"
    return {
        base: {
            "get": operation(
                "getIntegrations",
                "List integrations, one page",
                "integrations:integration:view",
                {"200": answer("A page of integrations.", "IntegrationEntityListing"), **errors()},
                parameters=_INTEGRATIONS,
            )
        },
        f"{base}/actions": {
            "get": operation(
                "getIntegrationsActions",
                "List published actions, without their contracts",
                view,
                {"200": answer("A page of actions.", "ActionEntityListing"), **errors()},
                parameters=_LISTING,
            ),
            "post": operation(
                "postIntegrationsActions",
                "Create and publish an action, at version 1",
                "integrations:action:add",
                {"200": answer("The action, with its contract.", "Action"), **errors(409)},
                body="PostActionInput",
            ),
        },
        f"{base}/actions/drafts": {
            "get": operation(
                "getIntegrationsActionsDrafts",
                "List drafts, without their contracts",
                view,
                {"200": answer("A page of drafts.", "ActionEntityListing"), **errors()},
                parameters=_LISTING,
            )
        },
        item: {
            "parameters": [action_id],
            "get": operation(
                "getIntegrationsAction",
                "Read a published action",
                view,
                {"200": answer("The action.", "Action"), **errors(404)},
                parameters=_EXPANDED,
            ),
            "patch": operation(
                "patchIntegrationsAction",
                "Change name, category or config of a published action (version + 1)",
                edit,
                {"200": answer("The action.", "Action"), **errors(404, 409)},
                body="UpdateActionInput",
            ),
            "delete": operation(
                "deleteIntegrationsAction",
                "Delete an action and its draft",
                "integrations:action:delete",
                {"204": answer("Deleted."), **errors(404)},
            ),
        },
        f"{item}/draft": {
            "parameters": [action_id],
            "get": operation(
                "getIntegrationsActionDraft",
                "Read the action's draft",
                view,
                {"200": answer("The draft.", "Action"), **errors(404)},
                parameters=_EXPANDED,
            ),
            "post": operation(
                "postIntegrationsActionDraft",
                "Start a draft from the published action, at draft version 1",
                edit,
                {"200": answer("The draft.", "Action"), **errors(404, 409)},
            ),
            "patch": operation(
                "patchIntegrationsActionDraft",
                "Change the draft (version + 1)",
                edit,
                {"200": answer("The draft.", "Action"), **errors(404, 409)},
                body="UpdateDraftInput",
            ),
            "delete": operation(
                "deleteIntegrationsActionDraft",
                "Delete the draft",
                "integrations:action:delete",
                {"204": answer("Deleted."), **errors(404)},
            ),
        },
        f"{item}/draft/publish": {
            "parameters": [action_id],
            "post": operation(
                "postIntegrationsActionDraftPublish",
                "Publish the draft: it becomes the action (same id, version + 1) and is gone",
                edit,
                {"200": answer("The action.", "Action"), **errors(404, 409)},
                body="PublishDraftInput",
            ),
        },
        f"{item}/templates/{{fileName}}": {
            "parameters": [action_id, file_name],
            "get": operation(
                "getIntegrationsActionTemplate",
                "Read the text of a template the action's config names by URI",
                view,
                {"200": template_text, **errors(404)},
            ),
        },
        f"{item}/draft/templates/{{fileName}}": {
            "parameters": [action_id, file_name],
            "get": operation(
                "getIntegrationsActionDraftTemplate",
                "Read the text of a template the draft's config names by URI",
                view,
                {"200": template_text, **errors(404)},
            ),
        },
        f"{item}/execute": {
            "parameters": [action_id],
            "post": {
                **operation(
                    "postIntegrationsActionExecute",
                    "Run the published action: its request goes to its URL (loopback only)",
                    run,
                    {
                        "200": {
                            "description": "The action's output: a JSON object that meets its success schema.",
                            "headers": ok_headers,
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **errors(404),
                        "502": error("The web service could not be reached, or an injected failure."),
                    },
                    parameters=flatten,
                ),
                "requestBody": inputs,
            },
        },
        f"{item}/test": {
            "parameters": [action_id],
            "post": {
                **operation(
                    "postIntegrationsActionTest",
                    "Run the published action, step by step",
                    run,
                    {"200": answer("Each step; a failed run too.", "TestExecutionResult"), **errors(404)},
                    parameters=flatten,
                ),
                "requestBody": inputs,
            },
        },
        f"{item}/draft/test": {
            "parameters": [action_id],
            "post": {
                **operation(
                    "postIntegrationsActionDraftTest",
                    "Run the draft, step by step",
                    run,
                    {"200": answer("Each step; a failed run too.", "TestExecutionResult"), **errors(404)},
                    parameters=flatten,
                ),
                "requestBody": inputs,
            },
        },
    }


__all__ = ["actions_paths", "actions_schemas"]
