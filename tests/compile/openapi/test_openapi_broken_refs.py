"""Broken references a user meets through `reconciler validate`: each is an error at the `$ref` that is broken,
never a tool that silently lost what the description says (an output schema, a security scheme)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.load import read_documents

OPENAPI = """\
openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.example.com'}]
"""
SECRET = "sk-live-not-a-response-0123456789"


def _errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": error: " in line]


def _line(text: str, needle: str) -> int:
    return 1 + next(number for number, line in enumerate(text.splitlines()) if needle in line)


@pytest.mark.parametrize(
    ("reference", "said"),
    [
        ("'#/components/responses/Missing'", "points at nothing"),
        ("'../secrets.yaml#/KEY'", "points at a string, not a response"),
        ("'#/components/responses/Ok/description'", "points at a string, not a response"),
    ],
    ids=["missing", "secret", "string"],
)
def test_a_success_response_reference_that_is_broken_is_an_error_at_its_line(
    repo: Path, run: Any, reference: str, said: str
) -> None:
    """The success answer's `$ref` that leads nowhere gave the tool no output schema, and no word of why: the
    tool went out without the answer's shape the description meant to give it."""
    (repo / "secrets.yaml").write_text(f"KEY: {SECRET}\n")
    text = OPENAPI + (
        "paths:\n  /a:\n    get:\n      operationId: getA\n      responses:\n"
        f"        '200': {{$ref: {reference}}}\n"
        "  /b:\n    get:\n      operationId: getB\n      responses: {'200': {$ref: '#/components/responses/Ok'}}\n"
        "components:\n  responses:\n    Ok:\n      description: ok\n"
        "      content: {application/json: {schema: {type: object, properties: {id: {type: integer}}}}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code == 1, result.output
    errors = _errors(result.output)
    assert len(errors) == 1, result.output
    assert errors[0].startswith(f"tools.d/api.yaml:{_line(text, reference)}:"), errors
    assert said in errors[0], errors
    assert "invalid: 1 tool, 1 error" in result.output  # getA is left out; getB still compiles
    assert "Traceback" not in result.output and SECRET not in result.output


def test_a_success_response_reference_that_holds_gives_the_output_schema(repo: Path, run: Any) -> None:
    (repo / "tools.d" / "api.yaml").write_text(
        OPENAPI + "paths:\n  /b:\n    get:\n      operationId: getB\n"
        "      responses: {'200': {$ref: '#/components/responses/Ok'}}\n"
        "components:\n  responses:\n    Ok:\n      description: ok\n"
        "      content: {application/json: {schema: {type: object, properties: {id: {type: integer}}}}}\n"
    )
    result = run("render")
    assert result.code == 0, result.output
    (tool,) = json.loads(result.out)
    assert tool["outputSchema"]["properties"] == {"id": {"type": "integer"}}


@pytest.mark.parametrize(
    ("reference", "said"),
    [
        ("'#/components/securitySchemes/Missing'", "points at nothing"),
        ("'../secrets.yaml#/KEY'", "points at a string, not a security scheme"),
    ],
    ids=["missing", "secret"],
)
def test_a_security_scheme_reference_that_is_broken_is_an_error_at_its_line(
    repo: Path, run: Any, reference: str, said: str
) -> None:
    """A security scheme's `$ref` that leads nowhere was read as a scheme the tool service cannot fill: `validate`
    said nothing, and `validate --serve` asked to exclude every operation that needs it, for a typo."""
    (repo / "secrets.yaml").write_text(f"KEY: {SECRET}\n")
    (repo / "specs").mkdir()
    text = OPENAPI + (
        "security: [{key: []}]\n"
        "paths:\n  /a:\n    get:\n      operationId: getA\n      responses: {'200': {description: ok}}\n"
        f"components:\n  securitySchemes:\n    key: {{$ref: {reference}}}\n"
    )
    (repo / "specs" / "api.yaml").write_text(text)
    (repo / "tools.d" / "api.yaml").write_text(
        "source:\n  openapi: ../specs/api.yaml\n  credentials: {key: '${KEY:-}'}\n"
    )
    for argv in (("validate",), ("validate", "--serve")):
        result = run(*argv)
        assert result.code == 1, result.output
        errors = _errors(result.output)
        assert len(errors) == 1, result.output
        assert errors[0].startswith(f"specs/api.yaml:{_line(text, reference)}:"), errors
        assert said in errors[0], errors
        assert ": warning: " not in result.output  # (not "credentials name a scheme api.yaml does not define")
        assert "Traceback" not in result.output and SECRET not in result.output


@pytest.mark.parametrize(
    ("schema", "yaml_line", "json_line", "said"),
    [
        ("{type: object, properties: {a: string, b: {type: integer}}}", "a: string", '"a": "string"', "a string"),
        ("{type: object, properties: {b: {type: integer}, a: }}", "a: }", '"a": null', "an empty value"),
        ("{type: array, items: string}", "items: string", '"items": "string"', "a string"),
        ("{oneOf: [{type: integer}, 5]}", "oneOf", "5", "a number"),
        ("{type: object, additionalProperties: [string]}", "additionalProperties", '"additionalProperties"', "a list"),
    ],
    ids=["property-string", "property-empty", "items-string", "oneOf-number", "additional-list"],
)
@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_an_inline_value_that_is_not_a_schema_is_an_error_at_its_line(
    repo: Path, run: Any, schema: str, yaml_line: str, json_line: str, said: str, suffix: str
) -> None:
    """`properties: {a: string}` (a shorthand some write by hand) was read as `{}`, which accepts anything: the
    tool took any value for `a`, and validate said "valid", as a `$ref` to a string did before it was refused."""
    text = OPENAPI + (
        "paths:\n  /a:\n    post:\n      operationId: postA\n      requestBody:\n        content:\n"
        f"          application/json:\n            schema: {{type: object, properties: {{q: {schema}}}}}\n"
        "      responses: {'200': {description: ok}}\n"
        "  /b:\n    get:\n      operationId: getB\n      responses: {'200': {description: ok}}\n"
    )
    needle = yaml_line
    if suffix == "json":  # the same description as JSON, one value a line
        (repo / "api.yaml").write_text(text)
        text = json.dumps(read_documents(repo / "api.yaml")[0].content, indent=1)
        (repo / "api.yaml").unlink()
        needle = json_line
    (repo / "tools.d" / f"api.{suffix}").write_text(text)
    result = run("validate")
    assert result.code == 1, result.output
    errors = _errors(result.output)
    assert len(errors) == 1, result.output
    lines = text.splitlines()
    line = 1 + next(number for number, written in enumerate(lines) if needle in written and written.strip() != "{")
    if needle == "5":
        line = 1 + next(number for number, written in enumerate(lines) if written.strip() == "5")
    assert errors[0].startswith(f"tools.d/api.{suffix}:{line}:"), (errors, text)
    assert f"is {said}, not a schema" in errors[0], errors
    assert "invalid: 1 tool, 1 error" in result.output  # postA is left out; getB still compiles


def test_a_request_body_property_that_is_not_a_schema_is_an_error_at_its_line(repo: Path, run: Any) -> None:
    """The body's own properties become the tool's parameters: `a: string` there was a parameter that took
    anything."""
    text = OPENAPI + (
        "paths:\n  /a:\n    post:\n      operationId: postA\n      requestBody:\n        content:\n"
        "          application/json:\n            schema:\n              type: object\n              properties:\n"
        "                b: {type: integer}\n                a: string\n"
        "      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code == 1, result.output
    assert _errors(result.output) == [
        f"tools.d/api.yaml:{_line(text, 'a: string')}:17: error: property 'a' is a string, not a schema; a schema "
        "is a mapping (such as {type: string}) or true/false"
    ], result.output


def test_a_properties_mapping_written_as_a_reference_is_the_mapping_it_names(repo: Path, run: Any) -> None:
    """DigitalOcean writes `properties: {$ref: 'attributes.yml#/load_balancer_droplet_ids'}` for a mapping of
    properties kept in another file. It was read as one property named `$ref` (a parameter the model was asked
    for, which took anything); it is the mapping the reference names, in the body and inside a schema."""
    (repo / "specs").mkdir()
    (repo / "specs" / "attributes.yml").write_text(
        "droplet_ids:\n  droplet_ids:\n    type: array\n    items: {type: integer}\n"
        "  tag: {$ref: '#/tag_name'}\ntag_name: {type: string, maxLength: 5}\n"
    )
    (repo / "specs" / "api.yaml").write_text(
        OPENAPI + "paths:\n  /lb:\n    post:\n      operationId: createLb\n      requestBody:\n        content:\n"
        "          application/json:\n            schema:\n              allOf:\n"
        "                - {type: object, properties: {$ref: 'attributes.yml#/droplet_ids'}}\n"
        "                - {type: object, properties: {name: {type: string}}}\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json:\n"
        "              schema: {type: object, properties: {$ref: 'attributes.yml#/droplet_ids'}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text("source:\n  openapi: ../specs/api.yaml\n")
    result = run("render")
    assert result.code == 0, result.output
    (tool,) = json.loads(result.out)
    assert tool["schema"]["properties"] == {
        "droplet_ids": {"type": "array", "items": {"type": "integer"}},
        "tag": {"type": "string", "maxLength": 5},
        "name": {"type": "string"},
    }
    assert tool["outputSchema"]["properties"] == {
        "droplet_ids": {"type": "array", "items": {"type": "integer"}},
        "tag": {"type": "string", "maxLength": 5},
    }


HEAD_31 = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nservers: [{url: 'https://api.example.com'}]\n"


def test_a_dynamic_reference_to_the_one_schema_with_its_dynamic_anchor_is_followed(repo: Path, run: Any) -> None:
    """OpenAPI 3.1 (JSON Schema 2020-12): `$dynamicRef: '#node'` names the schema with `$dynamicAnchor: node`.
    It was dropped, so `children` took anything. With one such anchor in the file, the dynamic scope can name no
    other schema: it is that schema, as a `$ref` would be."""
    (repo / "tools.d" / "api.yaml").write_text(
        HEAD_31 + "paths:\n  /tree:\n    post:\n      operationId: putTree\n      requestBody:\n        content:\n"
        "          application/json: {schema: {$ref: '#/components/schemas/Node'}}\n"
        "      responses: {'200': {description: ok}}\n"
        "components:\n  schemas:\n    Node:\n      $dynamicAnchor: node\n      type: object\n      properties:\n"
        "        name: {type: string}\n        children: {type: array, items: {$dynamicRef: '#node'}}\n"
    )
    result = run("render")
    assert result.code == 0, result.output
    (tool,) = json.loads(result.out)
    children = tool["schema"]["properties"]["children"]
    reference = children["items"]["$ref"]
    node = tool["schema"]["$defs"][reference.rsplit("/", 1)[1]]
    assert node["properties"]["children"] == children
    assert node["properties"]["name"] == {"type": "string"}


def test_a_dynamic_reference_that_names_nothing_is_an_error_at_its_line(repo: Path, run: Any) -> None:
    text = HEAD_31 + (
        "paths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n"
        "        - {name: q, in: query, schema: {type: array, items: {$dynamicRef: '#missing'}}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code == 1, result.output
    errors = _errors(result.output)
    assert len(errors) == 1 and errors[0].startswith(f"tools.d/api.yaml:{_line(text, '$dynamicRef')}:"), errors
    assert "no $anchor 'missing'" in errors[0], errors


def test_a_relative_reference_inside_a_schema_with_an_id_names_a_file_and_the_error_says_how_to_name_the_schema(
    repo: Path, run: Any
) -> None:
    """Decision: a relative `$ref` is a file, even inside a schema with an `$id` (JSON Schema would read `tag`
    there against the `$id`). Descriptions are bundled with pointers (none of the corpus writes one); the error
    said only "no such file", which left a 3.1 author guessing."""
    text = HEAD_31 + (
        "paths:\n  /pets:\n    post:\n      operationId: addPet\n      requestBody:\n        content:\n"
        "          application/json: {schema: {$ref: 'https://example.com/schemas/pet'}}\n"
        "      responses: {'200': {description: ok}}\n"
        "components:\n  schemas:\n    Pet:\n      $id: https://example.com/schemas/pet\n      type: object\n"
        "      properties: {tag: {$ref: tag}}\n"
        "    Tag: {$id: https://example.com/schemas/tag, type: string}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code == 1, result.output
    errors = _errors(result.output)
    assert len(errors) == 1 and errors[0].startswith(f"tools.d/api.yaml:{_line(text, '{$ref: tag}')}:"), errors
    assert "no such file" in errors[0] and "write its $id in full" in errors[0], errors
    (repo / "tools.d" / "api.yaml").write_text(text.replace("{$ref: tag}", "{$ref: 'https://example.com/schemas/tag'}"))
    assert run("validate").code == 0


@pytest.mark.parametrize(
    ("response", "needle"),
    [
        ("{$ref: '#/components/responses/Missing'}", "Missing"),
        (
            "{description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Missing'}}}}",
            "Missing",
        ),
    ],
    ids=["response-ref", "schema-ref"],
)
def test_every_command_that_compiles_refuses_a_broken_success_answer_with_one_message(
    repo: Path, run: Any, response: str, needle: str
) -> None:
    """`render --format openai` did not read answers (the function form has no output), so a broken success `$ref`
    that validate, plan and the other renders refuse went out as if the description were sound: one description,
    two verdicts, depending on the command."""
    text = OPENAPI + (
        f"paths:\n  /a:\n    get:\n      operationId: getA\n      responses:\n        '200': {response}\n"
        "  /b:\n    get:\n      operationId: getB\n      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    said = []
    for argv in (("validate",), ("render",), ("render", "--format", "openai"), ("render", "--format", "data-actions")):
        result = run(*argv)
        assert result.code == 1, (argv, result.output)
        errors = _errors(result.output)
        assert len(errors) == 1 and errors[0].startswith(f"tools.d/api.yaml:{_line(text, needle)}:"), (argv, errors)
        assert "Traceback" not in result.output and not result.out.lstrip().startswith("["), argv  # nothing rendered
        said.append(errors[0])
    assert len(set(said)) == 1, said


SWAGGER = """\
swagger: '2.0'
info: {title: t, version: '1'}
host: api.example.com
"""


@pytest.mark.parametrize(
    ("head", "operation", "said"),
    [
        (OPENAPI, "parameters: [{name: q, in: query, schema: string}]", "the parameter's `schema` is a string"),
        (OPENAPI, "parameters: [{name: q, in: query, schema: }]", "the parameter's `schema` is an empty value"),
        (
            OPENAPI,
            "parameters: [{name: q, in: query, content: {application/json: {schema: string}}}]",
            "the parameter's `schema` is a string",
        ),
        (OPENAPI, "requestBody: {content: {application/json: {schema: string}}}", "the request body's `schema` is"),
        (OPENAPI, "requestBody: {content: {application/json: {schema: [string]}}}", "the request body's `schema` is"),
        (
            OPENAPI,
            "responses: {'200': {description: ok, content: {application/json: {schema: string}}}}",
            "the response's `schema` is a string",
        ),
        (SWAGGER, "parameters: [{name: b, in: body, schema: string}]", "the request body's `schema` is a string"),
        (SWAGGER, "responses: {'200': {description: ok, schema: string}}", "the response's `schema` is a string"),
    ],
    ids=["param", "param-empty", "param-content", "body", "body-list", "response", "swagger-body", "swagger-response"],
)
def test_an_own_schema_that_is_not_a_schema_is_an_error_at_its_line(
    repo: Path, run: Any, head: str, operation: str, said: str
) -> None:
    """A parameter's, request body's or response's own `schema: string` was read as `{}`: a parameter, body or
    answer that takes anything, and validate said "valid", as it did for `properties: {a: string}` before."""
    responses = "" if operation.startswith("responses") else "      responses: {'200': {description: ok}}\n"
    text = head + (
        f"paths:\n  /a:\n    post:\n      operationId: postA\n      {operation}\n{responses}"
        "  /b:\n    get:\n      operationId: getB\n      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    for argv in (("validate",), ("render", "--format", "openai")):
        result = run(*argv)
        assert result.code == 1, (argv, result.output)
        errors = _errors(result.output)
        assert len(errors) == 1, result.output
        assert errors[0].startswith(f"tools.d/api.yaml:{_line(text, 'postA') + 1}:"), errors
        assert said in errors[0] and "not a schema" in errors[0], errors
        assert "Traceback" not in result.output
    assert "invalid: 1 tool, 1 error" in run("validate").output  # postA is left out; getB still compiles


DYNAMIC_DIRECTIONS = HEAD_31 + (
    "paths:\n  /users:\n    post:\n      operationId: addUser\n      requestBody:\n        content:\n"
    "          application/json: {schema: {$dynamicRef: '#user'}}\n"
    "      responses:\n        '200':\n          description: ok\n"
    "          content: {application/json: {schema: {$dynamicRef: '#user'}}}\n"
    "components:\n  schemas:\n"
    "    User:\n      $dynamicAnchor: user\n      type: object\n      properties:\n"
    "        id: {$dynamicRef: '#rid'}\n        name: {type: string}\n        password: {$dynamicRef: '#secret'}\n"
    "        owner: {type: object, properties: {id: {$dynamicRef: '#rid'}, name: {type: string}}}\n"
    "    Id:\n      $dynamicAnchor: rid\n      type: string\n      readOnly: true\n"
    "    Secret:\n      $dynamicAnchor: secret\n      type: string\n      writeOnly: true\n"
)


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_a_dynamic_reference_is_followed_for_the_body_s_properties_and_their_directions(
    repo: Path, run: Any, suffix: str
) -> None:
    """A request body written as `$dynamicRef` was sent whole, as one parameter `body` (a `$ref` is split into
    its properties), and a property whose `$dynamicRef` names a `readOnly` schema was asked of the model (an id
    the server sets), a `writeOnly` one promised in the answer (a password)."""
    (repo / "api.yaml").write_text(DYNAMIC_DIRECTIONS)
    text = DYNAMIC_DIRECTIONS
    if suffix == "json":
        text = json.dumps(read_documents(repo / "api.yaml")[0].content, indent=1)
    (repo / "api.yaml").unlink()
    (repo / "tools.d" / f"api.{suffix}").write_text(text)
    result = run("render")
    assert result.code == 0, result.output
    (tool,) = json.loads(result.out)
    assert sorted(tool["schema"]["properties"]) == ["name", "owner", "password"]
    assert list(tool["schema"]["properties"]["owner"]["properties"]) == ["name"]
    assert tool["request"]["parameters"]["name"] == {"in": "body", "name": "name"}
    answer = tool["outputSchema"]
    assert sorted(answer["properties"]) == ["id", "name", "owner"]
    assert list(answer["properties"]["owner"]["properties"]) == ["id", "name"]


def test_a_swagger_parameter_s_items_that_is_not_a_schema_is_an_error_at_its_line(repo: Path, run: Any) -> None:
    """Swagger 2.0 writes a parameter's schema keywords on the parameter itself; the error for its `items:
    string` was put at line 1 of the file (the schema made of the parameter is in no file)."""
    text = SWAGGER + (
        "paths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n"
        "        - name: q\n          in: query\n          type: array\n          items: string\n"
        "      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code == 1, result.output
    assert _errors(result.output) == [
        f"tools.d/api.yaml:{_line(text, 'items: string')}:11: error: the parameter's `items` is a string, not a "
        "schema; a schema is a mapping (such as {type: string}) or true/false"
    ], result.output


def test_a_swagger_body_parameter_without_a_schema_is_an_error_at_its_line(repo: Path, run: Any) -> None:
    """Swagger 2.0 requires a body parameter's `schema`; without one the tool's `body` took anything."""
    text = SWAGGER + (
        "paths:\n  /b:\n    post:\n      operationId: postB\n      parameters:\n"
        "        - name: body\n          in: body\n"
        "      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code == 1, result.output
    assert _errors(result.output) == [
        f"tools.d/api.yaml:{_line(text, 'name: body')}:11: error: a body parameter needs a `schema` (Swagger 2.0 "
        "requires one): write the body's schema"
    ], result.output
