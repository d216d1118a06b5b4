from __future__ import annotations

import reconciler.plan.render as render


def test_public_names_do_not_drift() -> None:
    assert render.__all__ == sorted(set(render.__all__))
    assert set(render.__all__) == {
        "COMMENT_LIMIT",
        "MARKER",
        "REDACTED",
        "plan_to_json",
        "redact",
        "render_json",
        "render_markdown",
        "render_text",
        "secret_pattern",
    }
    assert render.MARKER == "<!-- reconciler-plan -->"
    assert render.COMMENT_LIMIT == 65_536
