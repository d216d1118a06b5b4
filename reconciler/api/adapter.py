"""Targets as adapters: one interface that plan, apply and export use, whatever API is behind it.

An adapter lists, reads, finds by name, creates, updates and deletes, always in Records: every live entity is
parsed once, here at the client's edge, by the target's form (`reconciler.state`), and a broken one is refused
with a clear error before anything is planned. A third target is one more adapter and one more form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.api.client import ApiResult, ToolsClient
from reconciler.api.exchange import ClientStats
from reconciler.state import TOOLS_FORM, Form, Record


@dataclass(frozen=True)
class WriteResult:
    """The answer to a write: the entity as it now is (None after a delete), the status, the correlation id."""

    record: Record | None
    status: int
    correlation_id: str | None
    resent: bool = False
    """The call was sent again after an attempt whose answer was lost: a 404 to a delete may be its own."""


class TargetClient(Protocol):
    """What plan, apply and export need of a target."""

    form: Form
    stats: ClientStats

    def list(self) -> list[Record]: ...
    def get(self, record_id: str) -> Record: ...
    def find_by_name(self, name: str) -> Record | None: ...
    def create(self, payload: Mapping[str, Any]) -> WriteResult: ...
    def update(self, record_id: str, payload: Mapping[str, Any], version: int) -> WriteResult: ...
    def delete(self, record_id: str) -> WriteResult: ...


class ToolsTarget:
    """The Tools API (DESIGN §4) as a target."""

    form: Form = TOOLS_FORM

    def __init__(self, client: ToolsClient) -> None:
        self.client = client
        self.stats = client.stats
        self._host = client.target.api_host

    def _record(self, raw: Any) -> Record:
        return self.form.parse(raw, host=self._host)

    def _result(self, result: ApiResult) -> WriteResult:
        record = self._record(result.tool) if result.tool is not None else None
        return WriteResult(record, result.status, result.correlation_id, result.resent)

    def list(self) -> list[Record]:
        return [self._record(raw) for raw in self.client.list_tools()]

    def get(self, record_id: str) -> Record:
        return self._record(self.client.get_tool(record_id))

    def find_by_name(self, name: str) -> Record | None:
        raw = self.client.find_by_name(name)
        return self._record(raw) if raw is not None else None

    def create(self, payload: Mapping[str, Any]) -> WriteResult:
        return self._result(self.client.create_tool(dict(payload)))

    def update(self, record_id: str, payload: Mapping[str, Any], version: int) -> WriteResult:
        return self._result(self.client.update_tool(record_id, dict(payload), version))

    def delete(self, record_id: str) -> WriteResult:
        return self._result(self.client.delete_tool(record_id))

    def __repr__(self) -> str:
        return f"ToolsTarget({self.client.target.description!r})"


__all__ = ["TargetClient", "ToolsTarget", "WriteResult"]
