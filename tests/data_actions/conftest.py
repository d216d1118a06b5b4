"""Data Actions against the loopback emulator: a client that records every exchange, tools, SDK model checks."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from reconciler.api import DataActionsClient, DataActionsTarget, RetryPolicy, resolve_integration, resolve_target
from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
from reconciler.model import SourceLocation, Tool
from reconciler.state import DataActionsForm, DesiredTool

INTEGRATION = "Reconciler Actions"
FAST = RetryPolicy(backoff_initial=0.001, backoff_max=0.01, max_retry_after=0.01, jitter=0.001)


@dataclass
class Exchange:
    method: str
    path: str
    sent: Any
    status: int
    answer: Any


class Recording(httpx.HTTPTransport):
    """A real loopback transport that keeps every request body and answer (to check them against the SDK)."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        content = response.read()
        sent = json.loads(request.content) if request.content else None
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        answer = (json.loads(content) if is_json else content.decode()) if content else None
        self.exchanges.append(Exchange(request.method, request.url.path, sent, response.status_code, answer))
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)


def make_tool(name: str = "check_inventory", description: str = "Checks stock.", **fields: Any) -> DesiredTool:
    tool = Tool(
        name=name,
        description=description,
        endpoint=f"https://tools.example.com/{name}",
        schema={"type": "object", "properties": {"sku": {"type": "string", "description": "SKU"}}, "required": ["sku"]},
        location=SourceLocation(f"tools.d/{name}.yaml"),
        **fields,
    )
    return DesiredTool(tool, f"tools.d/{name}.yaml")


@dataclass
class Org:
    emulator: RunningEmulator
    client: DataActionsClient
    target: DataActionsTarget
    transport: Recording
    integration_id: str


@contextlib.contextmanager
def open_org(emulator: RunningEmulator, *, parallelism: int = 4) -> Iterator[Org]:
    integration = emulator.actions.add_integration(INTEGRATION)
    target = resolve_target({"GENESYS_CLOUD_API_URL": emulator.url, "GENESYS_CLOUD_ACCESS_TOKEN": "t"})
    assert target is not None
    transport = Recording()
    with DataActionsClient(target, transport=transport, retry=FAST, parallelism=parallelism) as client:
        found = resolve_integration(client, INTEGRATION)
        form = DataActionsForm(integration_id=str(found["id"]), category=INTEGRATION)
        yield Org(
            emulator, client, DataActionsTarget(client, form, parallelism=parallelism), transport, integration["id"]
        )


@pytest.fixture
def org() -> Iterator[Org]:
    with run_emulator(EmulatorConfig()) as emulator, open_org(emulator) as org:
        yield org
