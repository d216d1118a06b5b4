"""A Plan shown three ways: text for terminals and logs, markdown for pull-request comments, JSON for machines.

Each renderer takes the plan and the secret strings to hide, and returns a string; none prints or reads
anything. `redact` holds the values of sensitive variables: every occurrence in anything rendered becomes
`(sensitive)`.
"""

from __future__ import annotations

from reconciler.plan.render._redact import redact, secret_pattern
from reconciler.plan.render.json_format import plan_to_json, render_json
from reconciler.plan.render.markdown import COMMENT_LIMIT, MARKER, render_markdown
from reconciler.plan.render.text import render_text
from reconciler.redaction import REDACTED

__all__ = [
    "COMMENT_LIMIT",
    "MARKER",
    "REDACTED",
    "plan_to_json",
    "redact",
    "render_json",
    "render_markdown",
    "render_text",
    "secret_pattern",
]
