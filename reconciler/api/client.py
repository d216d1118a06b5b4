"""The Tools API contract (DESIGN §4) in one class: list (paged), get, find by name, create, update, delete.

Every call goes through the same path: authenticate, pace, send, translate the answer into a result or a
typed error, and let the retry policy decide whether to try again. Safe to call from many threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import httpx
import orjson

from reconciler.api.auth import make_auth
from reconciler.api.exchange import ClientStats, Exchanger
from reconciler.api.pacing import Pacer
from reconciler.api.redact import Secrets
from reconciler.api.retry import RefreshToken, RetryPolicy, call_with_retries
from reconciler.api.target import API_URL_VARIABLE, Target, is_loopback
from reconciler.api.translate import Operation, correlation_id, error_for_response, was_sent
from reconciler.api.waiting import SlowRequests, announcing
from reconciler.errors import AuthenticationError, NetworkError, ServerError
from reconciler.network import check_proxies, tls_context

TOOLS_PATH = "/api/v2/ai/assistant/tools"
PAGE_SIZE = 100
MAX_PAGES = 10_000
LIST_ATTEMPTS = 3
"""Reads of a list that shifted while it was read, before giving up."""
C = TypeVar("C", bound="ApiClient")


@dataclass(frozen=True)
class ApiResult:
    """The answer to a write: the tool the server returned (None after a delete), the status, the correlation id."""

    tool: dict[str, Any] | None
    status: int
    correlation_id: str | None
    resent: bool = False
    """An earlier attempt of this call reached the server and its answer was lost (or was a 5xx), and the call
    was sent again: a DELETE's 404 may then be this call's own earlier attempt, not another writer's."""


class ApiClient:
    """What every target's client shares: auth, pacing, retries, typed errors, paging safeguards."""

    def __init__(
        self,
        target: Target,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        timeout: float = 30.0,
        parallelism: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.stats = ClientStats()
        self._retry = retry if retry is not None else RetryPolicy()
        notice = self._retry.notice
        self.pacer = pacer if pacer is not None else Pacer(sleep=announcing(time.sleep, notice, "the API's rate limit"))
        self._secrets = Secrets()
        connections = max(parallelism, 1) + 2
        trust_env = not is_loopback(target.api_url)
        if trust_env:  # a proxy scheme httpx cannot speak: said by name here, not an error from inside httpx
            check_proxies()
        self._http = httpx.Client(
            # the system's CA store (a corporate CA) or SSL_CERT_FILE, not certifi's bundle alone
            verify=tls_context() if target.api_url.startswith("https:") else True,
            transport=transport,
            timeout=timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"Accept": "application/json", "User-Agent": "reconciler"},
            trust_env=trust_env,
        )
        self._exchange = Exchanger(
            self._http,
            stats=self.stats,
            secrets=self._secrets,
            pacer=self.pacer,
            max_retry_after=self._retry.max_retry_after,
            deadline=self._retry.deadline,
            slow=SlowRequests(notice) if notice is not None else None,
        )
        self._auth = make_auth(target, post=self._post_token, secrets=self._secrets, clock=clock)
        where = f"GENESYS_CLOUD_REGION ({target.region})" if target.region else f"{API_URL_VARIABLE} ({target.api_url})"
        self._network_advice = f"check the network and {where}"

    def request_json(
        self,
        operation: Operation,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> dict[str, Any]:
        """Another call to the same org's API (the LLM gateway) through this client's auth, pacing and retries:
        the platform counts every call against the one token's rate limit, so they share one pacer."""
        response = self._call(operation, self._url(path), expect=expect, json=json, headers=headers)
        return self._json_object(response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.target.description!r})"

    # -- plumbing --------------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.target.api_url}{path}"

    def _follow(self, next_uri: str, response: httpx.Response) -> str:
        url = urljoin(f"{self.target.api_url}/", next_uri)
        base, there = urlsplit(self.target.api_url), urlsplit(url)
        if (there.scheme, there.netloc) != (base.scheme, base.netloc):
            raise self._broken(response, f"a nextUri on another host ({there.netloc}); not following it")
        return url

    def _broken(self, response: httpx.Response | None, what: str) -> ServerError:
        return ServerError(
            f"{self.target.api_host} sent {what}: the server's paging is broken; try again later",
            status=response.status_code if response is not None else None,
            correlation_id=correlation_id(response) if response is not None else None,
        )

    def _json_object(self, response: httpx.Response) -> dict[str, Any]:
        # orjson, not the stdlib: it refuses what no JSON text holds (NaN, Infinity, half a surrogate pair), which
        # json.loads lets through into the live state, to crash the plan's rendering far from here
        why = ""
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            body, why = None, f" ({exc})"
        if not isinstance(body, dict):
            raise ServerError(
                f"{self.target.api_host} answered {response.status_code} with a body that is not a JSON object{why}",
                status=response.status_code,
                correlation_id=correlation_id(response),
            )
        return body

    def _call(
        self,
        operation: Operation,
        url: str,
        *,
        expect: tuple[int, ...],
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        response, _ = self._call_noting(operation, url, expect=expect, params=params, json=json, headers=headers)
        return response

    def _call_noting(
        self,
        operation: Operation,
        url: str,
        *,
        expect: tuple[int, ...],
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[httpx.Response, bool]:
        """`_call`, and whether an attempt before the answer returned reached the server without a final answer
        (its connection was lost after sending, or it was answered 5xx): it may have been applied."""
        refreshed = False
        unsure = False

        def attempt() -> httpx.Response:
            nonlocal refreshed, unsure
            sent_with: list[str | None] = []

            def authorize() -> str | None:  # asked after the pacer's wait: the token is fresh when it is sent
                sent_with.append(self._auth.header())
                return sent_with[-1]

            try:
                response = self._exchange.send(
                    operation,
                    url,
                    host=self.target.api_host,
                    advice=self._network_advice,
                    headers=headers or {},
                    params=params,
                    json=json,
                    authorize=authorize,
                )
            except NetworkError as exc:
                cause = exc.__cause__
                unsure = unsure or not isinstance(cause, httpx.TransportError) or was_sent(cause)
                raise
            header = sent_with[-1] if sent_with else None
            if response.status_code in expect:
                return response
            unsure = unsure or response.status_code >= 500
            error = error_for_response(
                response, operation, host=self.target.api_host, secrets=self._secrets, auth_advice=self._auth.advice
            )
            if response.status_code == 401 and self._auth.refreshable() and not refreshed:
                refreshed = True
                self._auth.invalidate(header)
                assert isinstance(error, AuthenticationError)
                raise RefreshToken(error)
            raise error

        response = call_with_retries(attempt, self._retry, describe=f"{operation.method} {operation.subject}")
        return response, unsure

    def _post_token(self, url: str, headers: dict[str, str], form: dict[str, str]) -> httpx.Response:
        """One token request; failures raise typed errors and the caller's retry loop decides."""
        operation = Operation("token", "POST", "the token request")
        host = urlsplit(url).netloc
        response = self._exchange.send(
            operation, url, host=host, advice=self._network_advice, headers=headers, data=form, paced=False
        )
        if response.status_code == 200:
            return response
        raise error_for_response(response, operation, host=host, secrets=self._secrets, auth_advice=self._auth.advice)


class ToolsClient(ApiClient):
    """The Tools API contract (DESIGN §4), in the API's own JSON; `ToolsTarget` parses it into Records."""

    # -- the contract ----------------------------------------------------------------------------------------

    def list_tools(self) -> list[dict[str, Any]]:
        """Every live tool, following `next_page_token` (or Genesys-style `nextUri`) page by page."""
        return self._pages({}, "the tool list")

    def get_tool(self, tool_id: str) -> dict[str, Any]:
        response = self._call(Operation("get", "GET", f"tool {tool_id}"), self._tool_url(tool_id), expect=(200,))
        return self._json_object(response)

    def find_by_name(self, name: str) -> dict[str, Any] | None:
        for tool in self._pages({"name": name}, f"the tool list (name {name!r})"):
            if tool.get("name") == name:
                return tool
        return None

    def create_tool(self, payload: dict[str, Any]) -> ApiResult:
        operation = Operation("create", "POST", f"tool {payload.get('name')!r}")
        response = self._call(operation, self._url(TOOLS_PATH), json=payload, expect=(200, 201))
        return ApiResult(self._json_object(response), response.status_code, correlation_id(response))

    def update_tool(self, tool_id: str, payload: dict[str, Any], version: int) -> ApiResult:
        operation = Operation("update", "PUT", f"tool {payload.get('name')!r} ({tool_id})")
        body = {**payload, "version": version}
        response = self._call(operation, self._tool_url(tool_id), json=body, expect=(200,))
        return ApiResult(self._json_object(response), response.status_code, correlation_id(response))

    def delete_tool(self, tool_id: str) -> ApiResult:
        """Deletes the tool; a 404 means it is already gone and is returned as `status=404`, not raised."""
        operation = Operation("delete", "DELETE", f"tool {tool_id}")
        response, resent = self._call_noting(operation, self._tool_url(tool_id), expect=(200, 202, 204, 404))
        return ApiResult(None, response.status_code, correlation_id(response), resent=resent)

    # -- plumbing of this API --------------------------------------------------------------------------------

    def _tool_url(self, tool_id: str) -> str:
        return self._url(f"{TOOLS_PATH}/{quote(tool_id, safe='')}")

    def _pages(self, filters: Mapping[str, str], subject: str) -> list[dict[str, Any]]:
        """Every page of the list, read again from the first when it shifted while it was read: numbered pages
        (`nextUri`) move when a tool is created or deleted meanwhile, and a tool would be missed, or seen twice.
        Told by a page whose `total` differs from the first page's, or an id seen twice."""
        for _ in range(LIST_ATTEMPTS):
            first = self._listing(filters, subject)
            if first is None:
                continue
            tools, numbered = first
            if not numbered:  # one page, or pages by token (the name after which the next starts): no shift
                return tools
            # a create and a delete together keep `total` and still shift a numbered page: a second read agrees
            second = self._listing(filters, subject)
            if second is not None and [t.get("id") for t in second[0]] == [t.get("id") for t in tools]:
                return second[0]
        raise ServerError(
            f"the tool list of {self.target.api_host} changed while it was read, {LIST_ATTEMPTS} times in a row "
            "(another writer at work?); try again when it is done"
        )

    def _listing(self, filters: Mapping[str, str], subject: str) -> tuple[list[dict[str, Any]], bool] | None:
        """One read of the whole list, and whether it followed numbered pages (`nextUri`); None when it shifted
        under the reader."""
        operation = Operation("list", "GET", subject)
        url = self._url(TOOLS_PATH)
        params: dict[str, Any] | None = {"page_size": PAGE_SIZE, **filters}
        seen: set[str] = set()
        ids: set[Any] = set()
        tools: list[dict[str, Any]] = []
        total: Any = None
        for number in range(MAX_PAGES):
            response = self._call(operation, url, params=params, expect=(200,))
            body = self._json_object(response)
            entities = body.get("entities")
            if not isinstance(entities, list) or not all(isinstance(item, dict) for item in entities):
                raise self._broken(response, "a list page without an `entities` list of tools")
            if number == 0:
                total = body.get("total")
            elif body.get("total") != total:
                return None
            for tool in entities:
                ident = tool.get("id")
                if isinstance(ident, str) and ident in ids:
                    return None
                ids.add(ident)
            tools.extend(entities)
            token = body.get("next_page_token")
            next_uri = body.get("nextUri")
            if token:
                key = f"token {token}"
                params = {"page_size": PAGE_SIZE, **filters, "next_page_token": str(token)}
            elif next_uri:
                url = self._follow(str(next_uri), response)
                key = f"nextUri {url}"
                params = None
            else:
                return tools, any(key.startswith("nextUri ") for key in seen)
            if key in seen:
                raise self._broken(response, f"the same page twice ({key}); stopped instead of looping forever")
            seen.add(key)
        raise self._broken(None, f"more than {MAX_PAGES} pages of tools; stopped")


__all__ = ["PAGE_SIZE", "TOOLS_PATH", "ApiClient", "ApiResult", "ToolsClient"]
