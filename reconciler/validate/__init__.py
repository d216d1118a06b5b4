"""Stage 3: documents and Tools → errors and warnings, all of them, sorted by place."""

from __future__ import annotations

from reconciler.validate.document_format import check_document, file_format_schema
from reconciler.validate.serve_rules import check_serve
from reconciler.validate.tool_rules import check_tools

__all__ = ["check_document", "check_serve", "check_tools", "file_format_schema"]
