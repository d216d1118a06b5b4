"""A `source:`: where its description is, which operations it selects, and what each tool gets from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.compile.openapi import compile_openapi, description_path
from reconciler.config import Limits
from reconciler.errors import InputError
from reconciler.load import read_documents
from reconciler.model import RateLimit


def compile_source(oa: Any, name: str = "sources/orders-source.yaml") -> Any:
    source_document = oa.load(oa.fixtures / name)
    path = description_path(source_document, oa.fixtures)
    return compile_openapi(
        read_documents(path)[0],
        source=source_document.content["source"],
        source_document=source_document,
        root=oa.fixtures,
        limits=Limits(),
    )


def test_description_path_is_relative_to_the_source_file(oa: Any) -> None:
    source_document = oa.load(oa.fixtures / "sources/orders-source.yaml")
    assert description_path(source_document, oa.fixtures) == oa.fixtures / "orders.yaml"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("../../outside.yaml", "source.openapi '../../outside.yaml' leaves the repository root"),
        ("../specs/missing.yaml", "source.openapi '../specs/missing.yaml': no such file"),
        ("https://example.com/openapi.yaml", "is a URL; descriptions are not fetched"),
    ],
)
def test_description_path_refuses_what_it_cannot_use_at_the_openapi_key(
    tmp_path: Path, value: str, message: str
) -> None:
    (tmp_path / "repo" / "tools.d").mkdir(parents=True)
    source = tmp_path / "repo" / "tools.d" / "source.yaml"
    source.write_text(f"# orders\nsource:\n  name_prefix: x_\n  openapi: {value}\n")
    with pytest.raises(InputError) as caught:
        description_path(read_documents(source)[0], tmp_path / "repo")
    (diagnostic,) = caught.value.diagnostics
    assert (Path(diagnostic.location.file).resolve(), diagnostic.location.line, diagnostic.location.column) == (
        source.resolve(),
        4,
        3,
    )
    assert message in diagnostic.message


def test_selection_overrides_and_defaults(oa: Any) -> None:
    result = compile_source(oa)

    assert [d for d in result.diagnostics if d.severity == "error"] == []
    assert sorted(t.name for t in result.tools) == [
        "get_order",
        "orders_createOrder",
        "orders_listOrders",
        "orders_put_orders_id_status",
    ]
    skipped = {s.operation: s.reason for s in result.skipped}
    assert skipped == {
        "DELETE /orders/{id} (deleteOrder)": "excluded by source.exclude.operations",
        "GET /admin/stats (getStats)": "not selected by source.include.tags",
    }

    order = oa.tool(result, "get_order")
    assert order.description == "Look up one order."
    assert order.endpoint == "https://orders.example.com/v1/orders/{id}"
    assert order.context == {"tenant": "conversation.tenant_id", "session_token": "conversation.session_token"}
    assert order.schema == {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
    assert order.request == {
        "method": "GET",
        "url": "https://orders.example.com/v1/orders/{id}",
        "parameters": {"id": {"in": "path", "name": "id"}, "session_token": {"in": "header", "name": "session_token"}},
    }
    assert order.rate_limit == RateLimit(requests_per_minute=10, burst_size=10)
    assert order.labels == {"team": "orders", "tier": "gold"}
    assert order.protected is True
    assert order.ignore_changes == ("rate_limit",)
    assert Path(order.location_of("description").file).name == "orders-source.yaml"
    assert Path(order.location.file).name == "orders.yaml"

    listing = oa.tool(result, "orders_listOrders")
    assert listing.rate_limit == RateLimit(requests_per_minute=120, burst_size=10)
    assert listing.labels == {"team": "orders"}
    assert listing.protected is False
    assert oa.tool(result, "orders_put_orders_id_status").description == "Change the status of an order."
    for tool in result.tools:
        oa.check_tool(tool)


@pytest.mark.parametrize(
    ("include", "exclude", "selected"),
    [
        ({"operations": ["get*"]}, None, {"getOrderById", "getStats"}),
        ({"methods": ["POST", "put"]}, None, {"createOrder", "put_orders_id_status"}),
        ({"tags": ["orders"], "methods": ["get"]}, None, {"listOrders", "getOrderById"}),
        (
            None,
            {"deprecated": True},
            {"listOrders", "createOrder", "getOrderById", "deleteOrder", "put_orders_id_status"},
        ),
        (None, {"tags": ["orders"]}, {"getStats"}),
        ({"operations": ["*Order*"]}, {"methods": ["delete"]}, {"listOrders", "createOrder", "getOrderById"}),
    ],
)
def test_include_and_exclude(oa: Any, include: Any, exclude: Any, selected: set[str]) -> None:
    source: dict[str, Any] = {"openapi": "orders.yaml"}
    if include is not None:
        source["include"] = include
    if exclude is not None:
        source["exclude"] = exclude
    result = oa.compile("orders.yaml", source)
    assert {t.name for t in result.tools} == selected
    assert len(result.tools) + len(result.skipped) == 6


def test_an_override_for_no_operation_is_an_error_that_suggests_the_closest(tmp_path: Path, oa: Any) -> None:
    (tmp_path / "orders.yaml").write_text((oa.fixtures / "orders.yaml").read_text())
    source = tmp_path / "source.yaml"
    source.write_text("source:\n  openapi: orders.yaml\n  overrides:\n    getOrderByID: {name: get_order}\n")
    document = read_documents(source)[0]
    result = compile_openapi(
        read_documents(tmp_path / "orders.yaml")[0],
        source=document.content["source"],
        source_document=document,
        root=tmp_path,
        limits=Limits(),
    )
    (error,) = [d for d in result.diagnostics if d.severity == "error"]
    assert (error.location.line, error.location.column) == (4, 5)
    assert error.message.endswith("did you mean 'getOrderById'?")


def test_endpoint_base_replaces_the_servers_and_is_required_without_them(tmp_path: Path) -> None:
    description = tmp_path / "api.yaml"
    description.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: {operationId: a}\n")
    source = tmp_path / "source.yaml"
    source.write_text("source:\n  openapi: api.yaml\n")
    document = read_documents(source)[0]
    without = compile_openapi(
        read_documents(description)[0],
        source=document.content["source"],
        source_document=document,
        root=tmp_path,
        limits=Limits(),
    )
    (error,) = without.diagnostics
    assert (error.severity, error.code, error.location.line, error.location.column) == ("error", "endpoint-base", 2, 3)
    assert "set source.endpoint_base" in error.message
    assert without.tools == [] and len(without.skipped) == 1

    with_base = compile_openapi(
        read_documents(description)[0],
        source={"openapi": "api.yaml", "endpoint_base": "https://a.example.com/x/"},
        source_document=document,
        root=tmp_path,
        limits=Limits(),
    )
    assert [t.endpoint for t in with_base.tools] == ["https://a.example.com/x/a"]


def test_a_webhooks_only_description_gives_no_tool_and_no_error(oa: Any) -> None:
    """Valid OpenAPI 3.1; a warning (not an error) says that no tool comes from it (a file that looks like it
    counts and does not must not be silent)."""
    result = oa.compile("webhooks.yaml")
    assert (result.tools, result.skipped) == ([], [])
    assert [(d.severity, d.message) for d in result.diagnostics] == [
        ("warning", "this OpenAPI description has no paths: no tool comes from it")
    ]


def test_a_context_entry_that_names_a_parameter_hides_it_from_the_model(oa: Any) -> None:
    result = oa.compile(
        "orders.yaml",
        {"openapi": "orders.yaml", "overrides": {"createOrder": {"context": {"customer": "conversation.customer_id"}}}},
    )
    create = oa.tool(result, "createOrder")
    assert "customer" not in create.schema["properties"]
    assert create.schema["required"] == ["sku"]
    assert create.request["parameters"]["customer"] == {"in": "body", "name": "customer"}
    assert create.context == {"customer": "conversation.customer_id"}


def test_an_override_context_entry_that_names_no_parameter_is_warned_about(oa: Any) -> None:
    result = oa.compile(
        "orders.yaml",
        {"openapi": "orders.yaml", "overrides": {"getOrderById": {"context": {"sesion_token": "conversation.token"}}}},
    )
    (warning,) = result.diagnostics
    assert warning.severity == "warning"
    assert warning.message == (
        "context entry 'sesion_token' of getOrderById names none of its parameters (id, session_token)"
    )
    assert oa.tool(result, "getOrderById").context == {"sesion_token": "conversation.token"}


def test_the_public_names_do_not_drift() -> None:
    import reconciler.compile.openapi as package

    assert package.__all__ == ["OpenApiResult", "compile_openapi", "description_path"]
    fields = [f.name for f in package.OpenApiResult.__dataclass_fields__.values()]
    assert fields == ["tools", "skipped", "diagnostics", "contested"]
