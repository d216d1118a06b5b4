"""schemathesis holds the emulator to the OpenAPI description it serves at /openapi.json, over loopback.

The emulators start when this module is imported, because schemathesis builds its tests from the schema at
collection time (its lazy fixture loader does not run under this pytest); a module fixture stops them.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup

from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator
from reconciler.emulator.config import READ_SCOPE

CLIENT_ID, CLIENT_SECRET = "contract-client", "contract-secret"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


class Contract:
    """A running emulator (strict auth), a bearer token for it, and the schema it serves."""

    def __init__(self, running: RunningEmulator) -> None:
        self.running = running
        for i in range(3):
            running.registry.put_raw(
                {
                    "name": f"seeded_{i}",
                    "description": "Seeded.",
                    "schema": {"type": "object", "properties": {}},
                    "executionEndpoint": "https://tools.example.com/x",
                }
            )
        response = httpx.post(
            f"{running.url}/oauth/token", headers={"Authorization": BASIC}, data={"grant_type": "client_credentials"}
        )
        response.raise_for_status()
        self.bearer = f"Bearer {response.json()['access_token']}"
        self.schema = schemathesis.openapi.from_url(running.openapi_url)
        contract = self

        @self.schema.auth(refresh_interval=None)
        class _Auth:  # through schemathesis' hook, so it knows when it leaves credentials out on purpose
            def get(self, case: Any, context: Any) -> str:
                return BASIC if case.path == "/oauth/token" else contract.bearer

            def set(self, case: Any, data: str, context: Any) -> None:
                case.headers = {**(case.headers or {}), "Authorization": data}

        @self.schema.hook
        def filter_case(context: Any, case: Any) -> bool:
            """The description says in prose what OpenAPI cannot say without a remote `$ref`: a tool's `schema`
            is valid JSON Schema 2020-12. Valid ("positive") requests are held to that rule too."""
            meta = case.meta
            if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
                return True
            try:
                jsonschema.Draft202012Validator.check_schema(case.body.get("schema", {}))
            except jsonschema.SchemaError:
                return False
            return True

    def check(self, case: Any) -> None:
        case.call_and_validate()


_EMULATORS = contextlib.ExitStack()
TOKEN = Contract(
    _EMULATORS.enter_context(run_emulator(EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)))
)
NEXTURI = Contract(
    _EMULATORS.enter_context(
        run_emulator(EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, paging="nexturi"))
    )
)

READ_ONLY = Contract(  # every write answered 403: the answers must be the documented ones too
    _EMULATORS.enter_context(
        run_emulator(EmulatorConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=(READ_SCOPE,)))
    )
)


atexit.register(_EMULATORS.close)  # when only collected (--co), the fixture below never runs


@pytest.fixture(scope="module", autouse=True)
def _stop_emulators() -> Iterator[None]:
    yield
    _EMULATORS.close()


@TOKEN.schema.parametrize()
@FUZZ
def test_the_emulator_keeps_its_contract_token_paging(case: Any) -> None:
    TOKEN.check(case)


@NEXTURI.schema.parametrize()
@FUZZ
def test_the_emulator_keeps_its_contract_nexturi_paging(case: Any) -> None:
    NEXTURI.check(case)


@READ_ONLY.schema.parametrize()
@FUZZ
def test_the_emulator_keeps_its_contract_for_a_read_only_client(case: Any) -> None:
    READ_ONLY.check(case)


def test_the_contract_covers_every_operation() -> None:
    operations = {(op.method.upper(), op.path) for op in (r.ok() for r in TOKEN.schema.get_all_operations())}
    assert operations == {
        ("POST", "/oauth/token"),
        ("GET", "/api/v2/ai/assistant/tools"),
        ("POST", "/api/v2/ai/assistant/tools"),
        ("GET", "/api/v2/ai/assistant/tools/{toolId}"),
        ("PUT", "/api/v2/ai/assistant/tools/{toolId}"),
        ("DELETE", "/api/v2/ai/assistant/tools/{toolId}"),
    }


def test_the_contract_check_can_fail() -> None:
    """A tool that breaks the documented Tool shape (seeded behind the server's back) is caught."""
    registry = TOKEN.running.registry
    registry.put_raw({"id": "broken-tool", "name": 42})
    case = TOKEN.schema.find_operation_by_id("getTool").Case(path_parameters={"toolId": "broken-tool"})
    try:
        with pytest.raises(FailureGroup) as caught:
            case.call_and_validate(headers={"Authorization": TOKEN.bearer})
        assert "Response violates schema" in str(caught.value)
    finally:
        registry.delete("broken-tool")
