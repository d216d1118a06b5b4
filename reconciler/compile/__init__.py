"""Stage 2: documents → Tools.

Tool definitions compile one to one (`tool_definition`); OpenAPI sources and bare descriptions compile one
tool per selected operation (`openapi/`). `payload` derives what leaves the process from a Tool.
"""

from __future__ import annotations

from reconciler.compile.payload import canonical_json, digest, openai_function, owned_tool_input, tool_input
from reconciler.compile.tool_definition import compile_tool_definition, parameters_schema

__all__ = [
    "canonical_json",
    "compile_tool_definition",
    "digest",
    "openai_function",
    "owned_tool_input",
    "parameters_schema",
    "tool_input",
]
