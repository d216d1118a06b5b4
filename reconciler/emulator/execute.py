"""`POST /api/v2/integrations/actions/{id}/execute` and `/test` (and `/draft/test`): run an action as the platform
does, on loopback.

1. The input is checked against `contract.input.inputSchema` (draft-04); a mismatch is a 400, nothing is sent.
2. `config.request`'s templates are rendered with Velocity (`velocity.py`): the URL, each header (a header whose
   value renders empty is not sent: an optional header that was not given), and, when not empty, the body.
3. The request goes to its URL, which must be a loopback address: the emulator never reaches another host.
4. A 2xx answer is the `rawResult` of `config.response.successTemplate` (an empty answer reads as `{}`),
   with the `translationMap` entries (JSONPath `$.a.b[0]`) beside it; the output must be a JSON object that
   meets `contract.output.successSchema`. Any other answer fails the action.

`execute` answers the output itself; `test` answers the SDK's `TestExecutionResult` (`operations`, each a step
with `success` and `result` or `error`; `finalResult`; `success`; `error`), always with 200.

An integration with **Basic Auth** credentials (`basic_auth`: user name and password) sends them with every
request of its actions, as the platform does: `Authorization: Basic …`, in place of any the templates wrote.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema

from reconciler.emulator.velocity import TemplateError, input_map, render, wrap

DEFAULT_TIMEOUT = 15
_LOOPBACK_NAMES = frozenset({"localhost"})
_PATH_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]")


@dataclass
class Failure(Exception):
    """The action failed at `step`: the platform's error body, with `status`."""

    status: int
    code: str
    message: str
    step: str = ""

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code, "status": self.status, "details": [], "errors": []}


@dataclass
class Prepared:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


@dataclass
class Steps:
    """The steps of a test run, in the shape of the SDK's TestExecutionOperationResult."""

    operations: list[dict[str, Any]] = field(default_factory=list)

    def ok(self, name: str, result: Any) -> None:
        self.operations.append({"step": len(self.operations) + 1, "name": name, "success": True, "result": result})

    def failed(self, name: str, failure: Failure) -> None:
        error = failure.body()
        self.operations.append({"step": len(self.operations) + 1, "name": name, "success": False, "error": error})


Send = Callable[[Prepared, float], httpx.Response]


BasicAuth = tuple[str, str]


def execute(
    action: Mapping[str, Any], inputs: Any, *, send: Send | None = None, basic_auth: BasicAuth | None = None
) -> tuple[int, Any]:
    """What `POST .../execute` answers: (200, output) or (status, the platform's error body)."""
    try:
        return 200, _run(action, inputs, Steps(), send or send_over_loopback, basic_auth)
    except Failure as failure:
        return failure.status, failure.body()


def execute_test(
    action: Mapping[str, Any], inputs: Any, *, send: Send | None = None, basic_auth: BasicAuth | None = None
) -> tuple[int, Any]:
    """What `POST .../test` answers: always 200 with a TestExecutionResult."""
    steps = Steps()
    try:
        output = _run(action, inputs, steps, send or send_over_loopback, basic_auth)
    except Failure as failure:
        steps.failed(failure.step, failure)
        return 200, {"operations": steps.operations, "error": failure.body(), "success": False}
    return 200, {"operations": steps.operations, "finalResult": output, "success": True}


def prepare(action: Mapping[str, Any], inputs: Any, basic_auth: BasicAuth | None = None) -> Prepared:
    """The HTTP request the action sends for `inputs` (checked against the input contract first)."""
    contract = action.get("contract") or {}
    schema = (contract.get("input") or {}).get("inputSchema") or {}
    if not isinstance(inputs, Mapping):
        raise Failure(400, "bad.request", "the input must be a JSON object", "Validate input")
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(inputs), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "input"
        raise Failure(400, "invalid.schema", f"the input does not meet the contract at {where}: {errors[0].message}")
    request = ((action.get("config") or {}).get("request")) or {}
    namespace = {"input": input_map(inputs)}
    url = _render(str(request.get("requestUrlTemplate", "")), namespace, "Resolve request URL template")
    headers = {}
    for name, template in (request.get("headers") or {}).items():
        value = _render(str(template), namespace, "Resolve request headers")
        if value != "":
            headers[str(name)] = value
    if basic_auth is not None:
        headers = {name: value for name, value in headers.items() if name.lower() != "authorization"}
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(basic_auth).encode()).decode()
    method = str(request.get("requestType", "POST")).upper()
    text = _render(str(request.get("requestTemplate") or ""), namespace, "Resolve request body template")
    return Prepared(method, url, headers, text.encode() if text and method != "GET" else None)


def _run(action: Mapping[str, Any], inputs: Any, steps: Steps, send: Send, basic_auth: BasicAuth | None) -> Any:
    prepared = prepare(action, inputs, basic_auth)
    steps.ok("Resolve request", {"requestType": prepared.method, "requestUrl": prepared.url})
    timeout = float(((action.get("config") or {}).get("timeoutSeconds")) or DEFAULT_TIMEOUT)
    _check_loopback(prepared.url)
    try:
        answer = send(prepared, timeout)
    except httpx.HTTPError as exc:
        raise Failure(502, "bad.gateway", f"request to the web service failed: {exc}", "Execute") from None
    steps.ok("Execute", {"status": answer.status_code})
    if not 200 <= answer.status_code < 300:
        text = answer.text[:1000]
        message = f"Request to backend service failed. Response from web service: {text} [{answer.status_code}]"
        raise Failure(400, "bad.request", message, "Execute")
    output = _output(action, answer.text)
    steps.ok("Resolve translation template", output)
    return output


def _output(action: Mapping[str, Any], raw: str) -> Any:
    response = ((action.get("config") or {}).get("response")) or {}
    raw = raw if raw.strip() else "{}"
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    namespace: dict[str, Any] = {"rawResult": raw}
    defaults = response.get("translationMapDefaults") or {}
    for name, path in (response.get("translationMap") or {}).items():
        found = _json_path(parsed, str(path))
        namespace[str(name)] = json.dumps(found) if found is not None else defaults.get(name)
    template = str(response.get("successTemplate") or "${rawResult}")
    text = _render(template, {key: wrap(value) for key, value in namespace.items()}, "Resolve translation template")
    try:
        output = json.loads(text)
    except ValueError:
        raise Failure(
            400, "bad.request", "the success template did not give JSON", "Resolve translation template"
        ) from None
    schema = ((action.get("contract") or {}).get("output") or {}).get("successSchema") or {}
    if not isinstance(output, dict):
        raise Failure(400, "bad.request", "the output is not a JSON object", "Resolve translation template")
    error = next(iter(jsonschema.Draft4Validator(schema).iter_errors(output)), None)
    if error is not None:
        raise Failure(400, "bad.request", f"the output does not meet the contract: {error.message}", "Validate output")
    return output


def _json_path(value: Any, path: str) -> Any:
    if not path.startswith("$"):
        return None
    for match in _PATH_STEP.finditer(path, 1):
        key, index, quoted = match.groups()
        if index is not None:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
        else:
            value = value.get(key if key is not None else quoted) if isinstance(value, dict) else None
    return value


def _render(template: str, namespace: Mapping[str, Any], step: str) -> str:
    try:
        return render(template, namespace)
    except TemplateError as exc:
        raise Failure(400, "bad.request", f"the template cannot be rendered: {exc}", step) from None


def _check_loopback(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise Failure(400, "bad.request", f"the request URL {url!r} is not a URL", "Execute") from None
    if parts.scheme not in ("http", "https"):
        raise Failure(400, "bad.request", f"the request URL {url!r} is not http(s)", "Execute")
    try:
        loopback = host in _LOOPBACK_NAMES or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise Failure(400, "bad.request", f"the emulator sends requests only to loopback, not to {host!r}", "Execute")


def send_over_loopback(prepared: Prepared, timeout: float) -> httpx.Response:
    # Header values go as UTF-8 bytes: the contract refused line breaks, and httpx would refuse non-ASCII text.
    headers = [(name.encode("ascii", "replace"), value.encode()) for name, value in prepared.headers.items()]
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        del client.headers["Accept"]  # only what the templates say, besides the transport's own headers
        return client.request(prepared.method, prepared.url, headers=headers, content=prepared.body)


__all__ = ["BasicAuth", "Failure", "Prepared", "Send", "execute", "execute_test", "prepare", "send_over_loopback"]
