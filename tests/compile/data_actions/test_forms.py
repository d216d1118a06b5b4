"""A form body a Data Action cannot write as the description says is an error at validate time, never a request
that differs from the one `reconciler serve` sends (tests/runtime/test_binding_forms.py executes both)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

JSON_FIELD = """\
openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /notes:
    post:
      operationId: addNote
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties:
                meta: {type: object, properties: {k: {type: string}}}
                note: {type: string}
            encoding:
              meta: {contentType: application/json}
      responses: {'200': {description: ok}}
"""


def test_a_form_field_its_encoding_sends_as_json_text_is_an_error_for_a_data_action(repo: Path, run: Any) -> None:
    """`serve` sends `meta={"k":…}`; a form template would have written `k=…`, another request."""
    (repo / "tools.d" / "api.yaml").write_text(JSON_FIELD)
    result = run("render", "--format", "data-actions")
    assert result.code == 1, result.output
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.output
    assert errors[0].startswith("tools.d/api.yaml:6:5: error: 'addNote' cannot become a Data Action: parameter 'meta'")
    assert "sends it as application/json text" in errors[0]
    assert "Traceback" not in result.output and not result.out.lstrip().startswith("[")


def test_a_body_no_template_can_build_is_an_error_that_says_which_can(repo: Path, run: Any) -> None:
    """It read "a application/octet-stream request body cannot be built…", and named none that can."""
    text = JSON_FIELD.replace("application/x-www-form-urlencoded:", "application/octet-stream:")
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("render", "--format", "data-actions")
    assert result.code == 1, result.output
    assert (
        "a request body of application/octet-stream cannot be built by a Data Action template (only JSON or "
        "application/x-www-form-urlencoded)" in result.output
    ), result.output
