"""Tools → Genesys Cloud Data Actions (DESIGN §8): the `PostActionInput` body of each tool.

    action_input     a Tool → the exact `PostActionInput` JSON (raises InputError with file:line when the tool
                     cannot be an action)
    compile_action   the same, as data: the body or the diagnostics, and warnings worth showing
    check_profile    the Data Actions profile of the capability matrix, for `validate` (target: data-actions)

One idea per module: `dialect` turns the tool's 2020-12 schemas into the contract's draft-04 dialect,
`velocity` holds the rules of the templates (escaping, references, presence), `request` builds
`config.request` from the tool's request binding, `response` the output contract and `config.response`, and
`action` puts them together.
"""

from __future__ import annotations

from reconciler.compile.data_actions.action import CompiledAction, action_input, compile_action
from reconciler.compile.data_actions.dialect import DRAFT_04, Unexpressible
from reconciler.compile.data_actions.profile import (
    GUIDE_INPUTS,
    MAX_CATEGORY,
    MAX_NAME,
    MAX_NESTING,
    check_profile,
    nesting,
)

__all__ = [
    "DRAFT_04",
    "GUIDE_INPUTS",
    "MAX_CATEGORY",
    "MAX_NAME",
    "MAX_NESTING",
    "CompiledAction",
    "Unexpressible",
    "action_input",
    "check_profile",
    "compile_action",
    "nesting",
]
