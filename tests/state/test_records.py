"""Live entities become Records once, at the client's edge, and a broken one is refused there, clearly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.api import Target, ToolsClient, ToolsTarget
from reconciler.compile import OWNER_LABEL
from reconciler.errors import ServerError
from reconciler.state import TOOLS_FORM, DataActionsForm, action_marker, parse_marker
from reconciler.state.data_actions import IGNORED_PATHS


def tool(**fields: Any) -> dict[str, Any]:
    return {"id": "t-1", "name": "lookup", "description": "d", "version": 3, **fields}


def test_a_tool_with_the_ownership_label_and_no_id_is_refused_at_the_edge() -> None:
    """Over real HTTP (a mock transport stands in for a server that breaks the contract): the listing is
    refused with the host, the tool and what to do, instead of an AssertionError at apply time."""
    broken = {"name": "lookup", "labels": {OWNER_LABEL: "reconciler"}}

    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"entities": [tool(), broken], "next_page_token": None})

    target = Target(
        api_url="https://api.example.test", login_url="https://api.example.test", description="t", credentials=None
    )
    with ToolsClient(target, transport=httpx.MockTransport(serve)) as client, pytest.raises(ServerError) as caught:
        ToolsTarget(client).list()
    text = str(caught.value)
    assert "api.example.test sent a tool 'lookup' with the ownership label but no id" in text
    assert "stopped before changing anything" in text


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ([], r"that is not a JSON object \(list\)"),
        (tool(name=""), "without a name"),
        (tool(id=None), "'lookup' without an id"),
        (tool(labels={"team": 3}), "labels are not a map of strings"),
    ],
)
def test_broken_tools_are_named(raw: Any, words: str) -> None:
    with pytest.raises(ServerError, match=words):
        TOOLS_FORM.parse(raw, host="h")


def test_a_tool_record_carries_what_the_labels_say() -> None:
    labels = {OWNER_LABEL: "team-a", "reconciler-source": "tools.d/a.yaml", "reconciler-protected": "true"}
    record = TOOLS_FORM.parse(tool(labels={**labels, "reconciler-digest": "sha256:00"}), host="h")
    assert (record.id, record.version, record.owner, record.source, record.protected) == (
        "t-1",
        3,
        "team-a",
        "tools.d/a.yaml",
        True,
    )
    assert record.drifted  # the digest written is not the digest of what is there
    assert "id" not in record.content and "version" not in record.content


@given(
    owner=st.text(min_size=1, max_size=20),
    source=st.none() | st.text(max_size=40),
    protected=st.booleans(),
    digest=st.from_regex(r"sha256:[0-9a-f]{64}", fullmatch=True),
    ignored=st.lists(st.sampled_from(sorted({p for paths in IGNORED_PATHS.values() for p in paths})), unique=True),
)
def test_the_action_marker_round_trips(
    owner: str, source: str | None, protected: bool, digest: str, ignored: list[str]
) -> None:
    parsed = parse_marker(action_marker(owner, digest, source, protected, sorted(ignored)))
    assert parsed == (owner, digest, source or None, protected, tuple(sorted(ignored)))


def action(**fields: Any) -> dict[str, Any]:
    return {
        "id": "a-1",
        "name": "lookup",
        "integrationId": "i-1",
        "category": "Tools",
        "version": 2,
        "secure": False,
        "contract": {"input": {"inputSchema": {"type": "object"}}, "output": {"successSchema": {"type": "object"}}},
        **fields,
    }


FORM = DataActionsForm(integration_id="i-1", category="Tools")


def test_an_action_without_a_marker_is_unmanaged() -> None:
    record = FORM.parse(action(), host="h")
    assert (record.owner, record.digest, record.drifted) == (None, None, False)


def test_a_damaged_marker_is_refused_not_taken_for_unmanaged() -> None:
    raw = action(contract={"input": {"inputSchema": {"type": "object", "id": "urn:reconciler:x:md5:1"}}})
    with pytest.raises(ServerError, match=r"'lookup' whose ownership marker \(contract.input.inputSchema.id\) is"):
        FORM.parse(raw, host="h")


def test_an_action_with_the_marker_and_no_id_is_refused() -> None:
    marker = action_marker("reconciler", "sha256:" + "0" * 64, None, False)
    raw = action(id=None, contract={"input": {"inputSchema": {"type": "object", "id": marker}}})
    with pytest.raises(ServerError, match="'lookup' with the ownership marker but no id"):
        FORM.parse(raw, host="h")
