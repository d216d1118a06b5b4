"""Stage 2: documents → Tools.

Tool definitions compile one to one (`tool_definition`); OpenAPI sources and bare descriptions compile one
tool per selected operation (`openapi/`). `payload` derives what leaves the process from a Tool.
"""

from __future__ import annotations

from reconciler.compile.payload import (
    DIGEST_LABEL,
    IGNORED_LABEL,
    OWNER_LABEL,
    OWNERSHIP_LABELS,
    PERMISSIVE_OUTPUT,
    PROTECTED_LABEL,
    SCHEMA_FIELDS,
    SCHEMA_MAPS,
    SOURCE_LABEL,
    TOOL_INPUT_FIELDS,
    canonical_bytes,
    canonical_json,
    digest,
    indented_json,
    openai_function,
    orjson_as_standard,
    orjson_floats_differ,
    owned_tool_input,
    sort_required,
    tool_input,
    with_ownership,
)
from reconciler.compile.tool_definition import compile_tool_definition, parameters_schema

__all__ = [
    "DIGEST_LABEL",
    "IGNORED_LABEL",
    "OWNERSHIP_LABELS",
    "OWNER_LABEL",
    "PERMISSIVE_OUTPUT",
    "PROTECTED_LABEL",
    "SCHEMA_FIELDS",
    "SCHEMA_MAPS",
    "SOURCE_LABEL",
    "TOOL_INPUT_FIELDS",
    "canonical_bytes",
    "canonical_json",
    "compile_tool_definition",
    "digest",
    "indented_json",
    "openai_function",
    "orjson_as_standard",
    "orjson_floats_differ",
    "owned_tool_input",
    "parameters_schema",
    "sort_required",
    "tool_input",
    "with_ownership",
]
