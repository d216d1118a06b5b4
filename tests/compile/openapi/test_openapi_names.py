"""Tool names and descriptions for operations."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.compile.openapi.names import NameBook, base_name, clean, describe, fit, shorten


def test_names_of_the_fixture(oa: Any) -> None:
    result = oa.compile("names.yaml")
    long_id = "create_a_very_long_export_of_the_report_with_every_option_there_is_and_more"
    long_name = f"{long_id[:55]}_{hashlib.sha256(long_id.encode()).hexdigest()[:8]}"
    assert [t.name for t in result.tools] == [
        "reports_exports_list",  # "reports/exports#list": '/' and '#' become '_'
        long_name,  # 76 characters: 55 kept, then '_' and 8 hex digits of its sha256
        "get_reports",  # no operationId: method and path
        "get_reports_2",  # operationId "get_reports", written after the operation that generated the name
        "get_reports_reportId",
    ]
    assert len(long_name) == 64
    for tool in result.tools:
        oa.check_tool(tool)


def test_long_descriptions_are_shortened_at_a_word_with_a_warning_at_their_line(oa: Any) -> None:
    result = oa.compile("names.yaml")
    (warning,) = result.diagnostics
    assert (warning.severity, Path(warning.location.file).name, warning.location.line) == ("warning", "names.yaml", 14)
    assert "longer than 255 characters; shortened" in warning.message
    long = result.tools[1].description
    assert len(long) <= 255
    assert long.endswith("at a word boundary…")


def test_descriptions_fall_back_to_the_method_and_path(oa: Any) -> None:
    result = oa.compile("names.yaml")
    assert oa.tool(result, "get_reports_reportId").description == "GET /reports/{reportId}"
    assert oa.tool(result, "get_reports").description == "List reports."


def test_name_prefix_and_override_names(oa: Any) -> None:
    result = oa.compile(
        "names.yaml",
        {
            "openapi": "names.yaml",
            "name_prefix": "rep_",
            "overrides": {"get_reports_reportId": {"name": "get_reports"}},
        },
    )
    assert [t.name for t in result.tools] == [
        "rep_reports_exports_list",
        fit("rep_create_a_very_long_export_of_the_report_with_every_option_there_is_and_more"),
        "rep_get_reports",
        "rep_get_reports_2",
        "get_reports",  # an override name is used as written, and reserved before generated names
    ]


@pytest.mark.parametrize(
    ("operation_id", "method", "path", "expected"),
    [
        ("getOrder", "get", "/orders/{id}", "getOrder"),
        ("orders.get/v2#1", "get", "/x", "orders_get_v2_1"),
        ("  ", "get", "/orders/{id}", "get_orders_id"),
        (None, "post", "/v1/orders/{order-id}/items.json", "post_v1_orders_order-id_items_json"),
        (None, "get", "/", "get"),
        (7, "delete", "/a//b", "delete_a_b"),
    ],
)
def test_base_name(operation_id: object, method: str, path: str, expected: str) -> None:
    assert base_name(operation_id, method, path) == expected


def test_fit_and_name_book() -> None:
    assert fit("a" * 64) == "a" * 64
    assert len(fit("a" * 65)) == 64
    assert fit("a" * 65) == fit("a" * 65)
    assert fit("a" * 65) != fit("a" * 66)
    book = NameBook({"taken"})
    assert [book.give(n) for n in ("taken", "x", "x", "x", "b" * 80, "b" * 80)] == [
        "taken_2",
        "x",
        "x_2",
        "x_3",
        fit("b" * 80),
        fit("b" * 80, 62) + "_2",
    ]
    assert all(len(name) <= 64 for name in (fit("b" * 80, 62) + "_2",))


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("one two three four", 12, "one two…"),
        ("x" * 20, 10, "x" * 9 + "…"),
        ("Ends a sentence. Then more words", 20, "Ends a sentence…"),
    ],
)
def test_shorten(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit


def test_describe_prefers_a_description_that_fits_then_the_summary() -> None:
    assert describe("Sum.", "A longer\n  description.", "get", "/x", 255) == ("A longer description.", False)
    assert describe("Sum.", "y" * 300, "get", "/x", 255) == ("Sum.", False)
    text, shortened = describe(None, "word " * 100, "get", "/x", 255)
    assert shortened and len(text) <= 255
    assert describe("", None, "post", "/x", 255) == ("POST /x", False)


@pytest.mark.parametrize(
    "text",
    [
        "Lists the orders.",
        " Lists  the\norders.\t",
        "Lists\u00a0the\u2003orders\x0c.",
        "Lists the orders.\u2028",
        "\u200bzero width, not whitespace",
        "",
    ],
)
def test_clean_collapses_every_kind_of_whitespace(text: str) -> None:
    assert clean(text) == " ".join(text.split())
    assert clean(None) == ""


@given(st.text())
def test_clean_is_the_same_as_splitting_and_joining_for_any_text(text: str) -> None:
    assert clean(text) == " ".join(text.split())
