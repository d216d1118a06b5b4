"""One state type for both sides (as decK's engine has): every target's live entities and the desired tools
become `Record`s, and the diff compares two of those.

A target's *form* (`Form`) is the pure half of a target: how a tool becomes that API's payload, where the
ownership marker and the digest live in it, and how a live entity is parsed, once, at the client's edge, into a
`Record`. The network half (list, create, update, delete) is the matching adapter in `reconciler.api`.
"""

from __future__ import annotations

from reconciler.state.data_actions import DataActionsForm, action_marker, parse_marker
from reconciler.state.form import DesiredTool, Form, broken_entity
from reconciler.state.record import Record
from reconciler.state.tools import TOOLS_FORM, ToolsForm, tool_record

__all__ = [
    "TOOLS_FORM",
    "DataActionsForm",
    "DesiredTool",
    "Form",
    "Record",
    "ToolsForm",
    "action_marker",
    "broken_entity",
    "parse_marker",
    "tool_record",
]
