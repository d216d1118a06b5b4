"""The compiler as a user meets it: `reconciler validate` and `render` on descriptions in tools.d/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SWAGGER = """\
swagger: '2.0'
info: {title: t, version: '1'}
host: api.example.com
"""

OPENAPI = """\
openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.example.com'}]
"""


def _tools(run: Any, *argv: str) -> dict[str, Any]:
    result = run("render", *argv)
    assert result.code == 0, result.output
    return {tool["name"]: tool for tool in json.loads(result.out)}


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # a parameter whose `in` is a list or a mapping is no parameter (it used to be an internal error, exit 3)
        (
            OPENAPI + "paths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n"
            "        - {name: q, in: [query], schema: {type: string}}\n"
            "        - {name: r, in: {query: 1}, schema: {type: string}}\n"
            "        - {name: s, in: query, schema: {type: string}}\n"
            "      responses: {'200': {description: ok}}\n",
            ["s"],
        ),
        # Swagger's `consumes` written as one string, or as a number, says nothing (it was iterated, or crashed)
        (
            SWAGGER + "consumes: application/x-www-form-urlencoded\npaths:\n  /a:\n    post:\n      operationId: getA\n"
            "      parameters: [{name: body, in: body, schema: {type: object, properties: {s: {type: string}}}}]\n"
            "      responses: {'200': {description: ok}}\n",
            ["s"],
        ),
        (
            SWAGGER + "consumes: 1\nproduces: 2\npaths:\n  /a:\n    post:\n      operationId: getA\n"
            "      parameters: [{name: s, in: formData, type: string}]\n"
            "      responses: {'200': {description: ok, schema: {type: object}}}\n",
            ["s"],
        ),
    ],
    ids=["parameter-in-not-a-string", "consumes-a-string", "consumes-a-number"],
)
def test_a_malformed_description_is_no_internal_error(repo: Path, run: Any, text: str, kept: list[str]) -> None:
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code in (0, 1), result.output
    assert "internal error" not in result.output
    tool = _tools(run)["getA"]
    assert sorted(tool["schema"]["properties"]) == kept
    if "consumes: application" in text:  # a string is not a list of media types: the body goes as JSON
        assert tool["request"]["content_type"] == "application/json"


def test_a_swagger_answer_is_json_only_where_the_operation_or_else_the_description_produces_json(
    repo: Path, run: Any
) -> None:
    """Swagger 2.0: an operation's `produces` overrides the description's; without its own, the description's
    holds. An XML-only API's answer is not a JSON schema the model can rely on."""
    answer = "      responses: {'200': {description: ok, schema: {type: object, properties: {x: {type: string}}}}}\n"
    (repo / "tools.d" / "api.yaml").write_text(
        SWAGGER + "produces: [application/xml]\npaths:\n"
        "  /xml:\n    get:\n      operationId: xmlOnly\n" + answer + "  /json:\n    get:\n      operationId: ownJson\n"
        "      produces: [application/json]\n" + answer
    )
    tools = _tools(run)
    assert tools["xmlOnly"]["outputSchema"] == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
    }
    assert tools["ownJson"]["outputSchema"]["properties"] == {"x": {"type": "string"}}


def test_a_wildcard_media_type_is_read_as_json_both_ways(repo: Path, run: Any) -> None:
    """springdoc-openapi (Spring Boot) writes `*/*` as the media type of every answer whose controller does not
    say `produces`: that answer's schema is the output schema, and a body under `*/*` (or `application/*`) goes
    as JSON, never with `Content-Type: */*`, which names no type."""
    schema = "{type: object, properties: {id: {type: integer}}}"
    (repo / "tools.d" / "api.yaml").write_text(
        OPENAPI + "paths:\n  /pets:\n    post:\n      operationId: addPet\n"
        f"      requestBody: {{content: {{'*/*': {{schema: {schema}}}}}}}\n"
        f"      responses: {{'200': {{description: ok, content: {{'*/*': {{schema: {schema}}}}}}}}}\n"
        "    put:\n      operationId: putPet\n"
        f"      requestBody: {{content: {{'application/*': {{schema: {schema}}}}}}}\n"
        "      responses: {'204': {description: none}}\n"
    )
    tools = _tools(run)
    assert tools["addPet"]["outputSchema"]["properties"] == {"id": {"type": "integer"}}
    assert tools["addPet"]["request"]["content_type"] == "application/json"
    assert tools["putPet"]["request"]["content_type"] == "application/json"


def test_a_parameter_that_a_credential_fills_is_not_asked_of_the_model(repo: Path, run: Any) -> None:
    """A description that lists its API key both as a security scheme and as a parameter (an old habit of
    generators) made a tool that asked the model for the key, even where the source gives `credentials` for it:
    the model made one up, and `serve` sent the made-up key beside the real one. A key the source's credentials
    fill is left out, with a warning at its line; without a credential for it, it stays (a `context` entry, or a
    Data Action's flow, may give it)."""
    (repo / "specs").mkdir()
    (repo / "specs" / "api.yaml").write_text(
        OPENAPI + "security: [{key: []}]\n"
        "components:\n  securitySchemes:\n"
        "    key: {type: apiKey, in: header, name: X-API-Key}\n"
        "    q: {type: apiKey, in: query, name: api_key}\n"
        "paths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n"
        "        - {name: x-api-key, in: header, required: true, schema: {type: string}}\n"
        "        - {name: api_key, in: query, schema: {type: string}}\n"
        "        - {name: s, in: query, schema: {type: string}}\n"
        "      responses: {'200': {description: ok}}\n"
        "    post:\n      operationId: postA\n      security: [{q: []}]\n      parameters:\n"
        "        - {name: X-API-Key, in: header, schema: {type: string}}\n"
        "        - {name: api_key, in: query, schema: {type: string}}\n"
        "      responses: {'200': {description: ok}}\n"
        "    put:\n      operationId: putA\n      security: []\n      parameters:\n"
        "        - {name: X-API-Key, in: header, schema: {type: string}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    source = repo / "tools.d" / "api.yaml"
    source.write_text("source:\n  openapi: ../specs/api.yaml\n  credentials: {key: '${KEY:-}', q: '${Q:-}'}\n")
    tools = _tools(run)
    assert sorted(tools["getA"]["schema"]["properties"]) == ["api_key", "s"]
    assert tools["getA"]["schema"].get("required") is None
    assert sorted(tools["getA"]["request"]["parameters"]) == ["api_key", "s"]
    assert sorted(tools["postA"]["schema"]["properties"]) == ["X-API-Key"]
    assert sorted(tools["putA"]["schema"]["properties"]) == ["X-API-Key"]  # this operation needs no key
    result = run("validate")
    assert result.code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "security scheme of the operation sends it" in line]
    assert [line.split(": warning")[0] for line in warnings] == ["specs/api.yaml:14:12", "specs/api.yaml:23:12"]
    assert "'x-api-key'" in warnings[0] and "'api_key'" in warnings[1]

    context = "  overrides: {getA: {context: {x-api-key: conversation.key}}}\n"
    source.write_text("source:\n  openapi: ../specs/api.yaml\n" + context)
    tools = _tools(run)
    assert sorted(tools["getA"]["schema"]["properties"]) == ["api_key", "s"]  # the context fills the key
    assert tools["getA"]["request"]["parameters"]["x-api-key"] == {"in": "header", "name": "x-api-key"}
    assert sorted(tools["postA"]["schema"]["properties"]) == ["X-API-Key", "api_key"]


def test_the_keywords_beside_a_reference_hold_when_a_reference_reaches_them(repo: Path, run: Any) -> None:
    """OpenAPI 3.1 lets a schema be a `$ref` with other keywords (`ReadOnlyId: {$ref: Id, readOnly: true}`).
    Written inline they held, but a reference to such a schema went on to the end of the chain and lost them:
    the read-only id was asked of the model and a `maxLength` vanished from both directions."""
    (repo / "tools.d" / "api.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nservers: [{url: 'https://api.example.com'}]\n"
        "paths:\n  /pets:\n    post:\n      operationId: addPet\n"
        "      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}\n"
        "      responses:\n        '200':\n          description: ok\n"
        "          content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}\n"
        "components:\n  schemas:\n"
        "    Id: {type: string}\n"
        "    ReadOnlyId: {$ref: '#/components/schemas/Id', readOnly: true}\n"
        "    Text: {type: string}\n"
        "    Note: {$ref: '#/components/schemas/Text', maxLength: 5, description: A short note}\n"
        "    Pet:\n      type: object\n      required: [id, name]\n      properties:\n"
        "        id: {$ref: '#/components/schemas/ReadOnlyId'}\n"
        "        name: {type: string}\n"
        "        note: {$ref: '#/components/schemas/Note'}\n"
    )
    tool = _tools(run)["addPet"]
    assert sorted(tool["schema"]["properties"]) == ["name", "note"]
    assert tool["schema"]["required"] == ["name"]
    assert tool["schema"]["properties"]["note"] == {"type": "string", "maxLength": 5, "description": "A short note"}
    answer = tool["outputSchema"]
    assert answer["properties"]["id"] == {"type": "string", "readOnly": True}
    assert answer["properties"]["note"] == {"type": "string", "maxLength": 5, "description": "A short note"}
    assert answer["required"] == ["id", "name"]


def test_a_yaml_description_is_read_as_yaml_1_2(repo: Path, run: Any) -> None:
    """DigitalOcean's droplet `status` is `enum: [new, active, off, archive]`: read as YAML 1.1, `off` is `false`,
    so the answer of a droplet that is off does not match the output schema (a client that validates answers
    against it refuses the droplet), and Norway's country code `NO` cannot be sent."""
    (repo / "tools.d" / "api.yaml").write_text(
        OPENAPI + "paths:\n  /d:\n    get:\n      operationId: getD\n      parameters:\n"
        "        - {name: country, in: query, schema: {type: string, enum: [NO, SE]}}\n"
        "        - {name: code, in: query, schema: {type: string, enum: [010, 12:30]}}\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json: {schema: {type: string, enum: [new, active, off, archive]}}\n"
    )
    tool = _tools(run)["getD"]
    assert tool["outputSchema"]["enum"] == ["new", "active", "off", "archive"]
    assert tool["schema"]["properties"]["country"]["enum"] == ["NO", "SE"]
    assert tool["schema"]["properties"]["code"]["enum"] == [10, "12:30"]


def test_a_relative_server_url_is_named_in_the_error_that_asks_for_endpoint_base(repo: Path, run: Any) -> None:
    """Swagger's own Petstore 3 serves `servers: [{url: /api/v3}]`. The error only asked for "the URL its paths
    are relative to", and a user who gave the host (where the description is served) called `…/pet/1`, a 404:
    the error now says the base keeps the relative path."""
    (repo / "tools.d" / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers: [{url: /api/v3/}]\n"
        "paths:\n  /pet:\n    get: {operationId: getPet, responses: {'200': {description: ok}}}\n"
    )
    result = run("validate")
    assert result.code == 1
    assert "tools.d/api.yaml:1:1: error:" in result.output
    assert "set source.endpoint_base" in result.output
    assert "e.g. https://api.example.com/api/v3\n" in result.output


def _two_operations(repo: Path, prefix: str) -> None:
    (repo / "specs").mkdir()
    (repo / "specs" / "api.yaml").write_text(
        OPENAPI + "paths:\n  /a:\n    get:\n      operationId: getA\n      responses: {'200': {description: ok}}\n"
        "  /b:\n    get:\n      operationId: getB\n      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(f"source:\n  openapi: ../specs/api.yaml\n  name_prefix: '{prefix}'\n")


def test_a_bad_name_prefix_is_one_error_at_its_line(repo: Path, run: Any) -> None:
    """A `name_prefix` with a character no tool name may hold was an error under every tool's name (hundreds of
    identical errors for a large description): it is one error, at the prefix, saying what to write."""
    _two_operations(repo, "bad prefix!")
    result = run("validate")
    assert result.code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert errors == [
        "tools.d/api.yaml:3:3: error: name_prefix 'bad prefix!' makes tool names that are not valid "
        "('bad prefix!getA', ^[a-zA-Z0-9_-]{1,64}$): use letters, digits, '_' and '-', e.g. 'bad_prefix_'"
    ]
    assert "Traceback" not in result.output


def test_a_name_prefix_is_held_to_the_name_pattern_of_reconciler_yaml(repo: Path, run: Any) -> None:
    """A repository whose `limits.name_pattern` allows a dot may prefix with one; one that does not, may not."""
    _two_operations(repo, "acme.")
    (repo / "reconciler.yaml").write_text("limits:\n  name_pattern: '^[a-zA-Z0-9_.-]{1,64}$'\n")
    assert run("validate").code == 0
    assert sorted(_tools(run)) == ["acme.getA", "acme.getB"]
    (repo / "reconciler.yaml").write_text("limits:\n  name_pattern: '^[a-zA-Z_]{1,64}$'\n")
    result = run("validate")
    assert result.code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert errors == [
        "tools.d/api.yaml:3:3: error: name_prefix 'acme.' makes tool names that are not valid "
        "('acme.getA', ^[a-zA-Z_]{1,64}$): make it fit limits.name_pattern of reconciler.yaml"
    ]


def _urls(run: Any) -> dict[str, str]:
    return {name: tool["request"]["url"] for name, tool in _tools(run).items()}


def test_relative_servers_of_an_operation_or_path_item_are_resolved_against_the_description_base(
    repo: Path, run: Any
) -> None:
    """OpenAPI 3: an operation's (or path item's) `servers` replace the description's, and a relative server URL
    is relative to where the description is (RFC 3986). A relative one was passed over, so the tool called the
    description's base: `/v2/a` went to `/v1/a`. It is resolved against the description's base (its absolute
    `servers[0]`, or the source's `endpoint_base` that replaces it)."""
    (repo / "specs").mkdir()
    (repo / "specs" / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers: [{url: 'https://api.example.com/v1'}]\npaths:\n"
        "  /a:\n    get:\n      operationId: opServer\n      servers: [{url: /v2}]\n"
        "      responses: {'200': {description: ok}}\n"
        "  /b:\n    servers: [{url: '../v3/{stage}', variables: {stage: {default: beta}}}]\n"
        "    get:\n      operationId: pathServer\n      responses: {'200': {description: ok}}\n"
        "    post:\n      operationId: bothServers\n      servers: [{url: 'https://upload.example.com/u'}]\n"
        "      responses: {'200': {description: ok}}\n"
        "  /c:\n    get:\n      operationId: documentServer\n      responses: {'200': {description: ok}}\n"
    )
    source = repo / "tools.d" / "api.yaml"
    source.write_text("source:\n  openapi: ../specs/api.yaml\n")
    assert _urls(run) == {
        "opServer": "https://api.example.com/v2/a",
        "pathServer": "https://api.example.com/v3/beta/b",
        "bothServers": "https://upload.example.com/u/b",
        "documentServer": "https://api.example.com/v1/c",
    }
    source.write_text("source:\n  openapi: ../specs/api.yaml\n  endpoint_base: https://staging.example.com/v1\n")
    assert _urls(run) == {
        "opServer": "https://staging.example.com/v2/a",
        "pathServer": "https://staging.example.com/v3/beta/b",
        "bothServers": "https://staging.example.com/v1/b",  # endpoint_base replaces every absolute server
        "documentServer": "https://staging.example.com/v1/c",
    }


def test_a_relative_operation_server_without_a_base_to_resolve_it_against_is_skipped(repo: Path, run: Any) -> None:
    (repo / "tools.d" / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n"
        "  /a:\n    get:\n      operationId: relative\n      servers: [{url: /v2}]\n"
        "      responses: {'200': {description: ok}}\n"
        "  /b:\n    get:\n      operationId: absolute\n      servers: [{url: 'https://api.example.com/v2'}]\n"
        "      responses: {'200': {description: ok}}\n"
    )
    result = run("validate")
    assert result.code == 1
    assert "gives no absolute server URL" in result.output and "set source.endpoint_base" in result.output
    (repo / "tools.d" / "source.yaml").write_text("source:\n  openapi: api.yaml\n  include: {operations: [absolute]}\n")
    assert _urls(run) == {"absolute": "https://api.example.com/v2/b"}


def test_a_swagger_operation_schemes_replace_the_description_schemes(repo: Path, run: Any) -> None:
    """Swagger 2.0: an operation's `schemes` override the description's (its URL used the description's)."""
    (repo / "tools.d" / "api.yaml").write_text(
        "swagger: '2.0'\ninfo: {title: t, version: '1'}\nhost: 127.0.0.1:8080\nbasePath: /api\nschemes: [http]\n"
        "paths:\n  /a:\n    get:\n      operationId: own\n      schemes: [https]\n"
        "      responses: {'200': {description: ok}}\n"
        "  /b:\n    get:\n      operationId: inherited\n      responses: {'200': {description: ok}}\n"
    )
    assert _urls(run) == {"own": "https://127.0.0.1:8080/api/a", "inherited": "http://127.0.0.1:8080/api/b"}


def _descriptions(run: Any, name: str) -> dict[str, Any]:
    return {key: value.get("description") for key, value in _tools(run)[name]["schema"]["properties"].items()}


DESCRIBED = """\
paths:
  /orders:
    get:
      operationId: listOrders
      parameters:
        - name: status
          in: query
          description: Only orders in this status.
          schema: {$ref: '#/components/schemas/Status'}
        - {name: limit, in: query, description: How many to return., schema: {type: integer, description: A count.}}
        - {name: 'created<', in: query, schema: {type: string, format: date-time, description: A creation time.}}
        - name: 'created>'
          in: query
          description: Orders created after it.
          schema: {type: string, description: A creation time.}
        - {name: plain, in: query, schema: {type: string, description: The schema says it.}}
      responses: {'200': {description: ok}}
components:
  schemas:
    Status: {type: string, enum: [open, shipped], description: An order status.}
"""


def test_a_parameter_description_wins_over_its_schema_description(repo: Path, run: Any) -> None:
    """A parameter's own `description` says what it means in this operation; its schema's (often a shared
    component's) says what the type is. The schema's won, so the model read "A count." for `limit`, and the two
    bounds of a range read the same ("A creation time.") without saying which one is the upper bound."""
    (repo / "tools.d" / "api.yaml").write_text(OPENAPI + DESCRIBED)
    assert _descriptions(run, "listOrders") == {
        "status": "Only orders in this status.",
        "limit": "How many to return.",
        "created_before": "Upper bound (sent as `created<`). A creation time.",
        "created_after": "Lower bound (sent as `created>`). Orders created after it.",
        "plain": "The schema says it.",
    }


REFERENCED = """\
paths:
  /pets:
    put:
      operationId: tagPets
      parameters:
        - {$ref: '#/components/parameters/Limit', description: How many pets to tag.}
        - {$ref: '#/components/parameters/Offset'}
      requestBody: {$ref: '#/components/requestBodies/Tags', description: The tags every pet gets.}
      responses: {'200': {description: ok}}
components:
  parameters:
    Limit: {name: limit, in: query, description: A page size., schema: {type: integer}}
    Offset: {name: offset, in: query, description: Where the page starts., schema: {type: integer}}
  requestBodies:
    Tags:
      description: Some tags.
      content: {application/json: {schema: {type: array, items: {type: string}}}}
"""


@pytest.mark.parametrize(("version", "overridden"), [("3.1.0", True), ("3.0.3", False)])
def test_a_description_beside_a_reference_overrides_the_referenced_one_in_3_1(
    repo: Path, run: Any, version: str, overridden: bool
) -> None:
    """OpenAPI 3.1's Reference Object: a `description` beside `$ref` overrides the referenced parameter's (or
    request body's); it was ignored, so a shared `Limit` read "A page size." wherever it was used. 3.0 says that
    anything beside a `$ref` is ignored, and so it is there."""
    head = f"openapi: {version}\ninfo: {{title: t, version: '1'}}\nservers: [{{url: 'https://api.example.com'}}]\n"
    (repo / "tools.d" / "api.yaml").write_text(head + REFERENCED)
    assert _descriptions(run, "tagPets") == {
        "limit": "How many pets to tag." if overridden else "A page size.",
        "offset": "Where the page starts.",
        "body": "The tags every pet gets." if overridden else "Some tags.",
    }


HEAD_31 = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nservers: [{url: 'https://api.example.com'}]\n"
ANCHORED = """\
paths:
  /pets/{id}:
    put:
      operationId: putPet
      parameters: [{name: id, in: path, required: true, schema: {$ref: '#petId'}}]
      requestBody: {content: {application/json: {schema: {$ref: '#pet'}}}}
      responses: {'200': {description: ok}}
  /tags:
    post:
      operationId: addTag
      requestBody: {content: {application/json: {schema: {$ref: 'https://example.com/schemas/tag'}}}}
      responses: {'200': {description: ok}}
components:
  schemas:
    PetId: {$anchor: petId, type: integer, minimum: 1}
    Pet:
      $anchor: pet
      type: object
      properties:
        name: {type: string}
        parent: {$ref: '#pet'}
        count: {$ref: '#count'}
    Count: {$anchor: count, type: integer}
    Tag:
      $id: https://example.com/schemas/tag
      type: object
      properties:
        label: {$ref: 'https://example.com/schemas/tag#label'}
        count: {$ref: '#/components/schemas/Count'}
      $defs:
        label: {$anchor: label, type: string, maxLength: 10}
"""


def test_plain_name_anchors_and_embedded_ids_of_the_description_are_resolved(repo: Path, run: Any) -> None:
    """JSON Schema 2020-12, which OpenAPI 3.1 schemas are: `$ref: '#pet'` names the schema with `$anchor: pet`,
    and `$ref: 'https://example.com/schemas/tag'` the schema whose `$id` it is, in the same document (nothing is
    fetched), with an anchor of that resource after `#`; a JSON pointer is read from the document's root. Both
    were refused ("not anchors", "remote $ref"), so the operations were skipped."""
    (repo / "tools.d" / "api.yaml").write_text(HEAD_31 + ANCHORED)
    result = run("validate")
    assert result.code == 0, result.output
    tools = _tools(run)
    put = tools["putPet"]["schema"]
    assert put["properties"]["id"] == {"type": "integer", "minimum": 1}
    assert put["properties"]["name"] == {"type": "string"}
    assert put["properties"]["count"] == {"type": "integer"}
    parent = put["properties"]["parent"]["$ref"]  # the schema refers to itself: a definition
    assert put["$defs"][parent.rsplit("/", 1)[1]]["properties"]["parent"] == {"$ref": parent}
    assert tools["addTag"]["schema"]["properties"] == {
        "label": {"type": "string", "maxLength": 10},
        "count": {"type": "integer"},
    }


@pytest.mark.parametrize(
    ("reference", "said"),
    [
        ("'#missing'", "no $anchor 'missing'"),
        ("'#label'", "'label' is the $anchor of 2 schemas"),
        ("'https://other.example.com/schemas/tag'", "remote $ref"),
    ],
    ids=["unknown-anchor", "ambiguous-anchor", "remote"],
)
def test_an_anchor_or_id_that_names_nothing_here_is_an_error_at_its_line(
    repo: Path, run: Any, reference: str, said: str
) -> None:
    text = HEAD_31 + (
        "paths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n"
        f"        - {{name: q, in: query, schema: {{$ref: {reference}}}}}\n"
        "      responses: {'200': {description: ok}}\n"
        "components:\n  schemas:\n    A: {$anchor: label, type: integer}\n    B: {$anchor: label, type: string}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.output
    assert errors[0].startswith("tools.d/api.yaml:9:"), errors
    assert said in errors[0], errors
    assert "Traceback" not in result.output


def test_an_operation_header_replaces_its_path_item_header_of_the_same_name_in_any_case(repo: Path, run: Any) -> None:
    """HTTP header names are case-insensitive, and an operation's parameter replaces its path item's of the same
    name and place. `X-Request-Id` on the path item and `x-request-id` on the operation became two tool
    parameters for one header: a model could fill both, and the request carried the header twice."""
    (repo / "tools.d" / "api.yaml").write_text(
        OPENAPI + "paths:\n  /a:\n    parameters:\n"
        "      - {name: X-Request-Id, in: header, description: path level, schema: {type: string}}\n"
        "      - {name: trace, in: query, schema: {type: string}}\n"
        "    get:\n      operationId: getA\n      parameters:\n"
        "        - {name: x-request-id, in: header, required: true, description: op level, schema: {type: string}}\n"
        "        - {name: Trace, in: query, schema: {type: integer}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    tool = _tools(run)["getA"]
    assert tool["schema"]["properties"] == {
        "trace": {"type": "string"},  # query names are case-sensitive: two parameters
        "x-request-id": {"type": "string", "description": "op level"},
        "Trace": {"type": "integer"},
    }
    assert tool["schema"]["required"] == ["x-request-id"]
    assert tool["request"]["parameters"]["x-request-id"] == {"in": "header", "name": "x-request-id"}


def test_a_parameter_example_overrides_its_schema_example(repo: Path, run: Any) -> None:
    """OpenAPI: a parameter's `example` "SHALL override the example provided by the schema". The schema's won:
    DigitalOcean's monitoring_list_sinks showed a droplet URN for a resource_id its operation documents with a
    Kubernetes one."""
    (repo / "tools.d" / "api.yaml").write_text(
        OPENAPI + "paths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n"
        "        - {name: urn, in: query, example: 'do:kubernetes:1', schema: {$ref: '#/components/schemas/Urn'}}\n"
        "        - {name: other, in: query, schema: {$ref: '#/components/schemas/Urn'}}\n"
        "      responses: {'200': {description: ok}}\n"
        "components:\n  schemas:\n    Urn: {type: string, example: 'do:droplet:1'}\n"
    )
    properties = _tools(run)["getA"]["schema"]["properties"]
    assert properties["urn"]["examples"] == ["do:kubernetes:1"]
    assert properties["other"]["examples"] == ["do:droplet:1"]


def test_a_path_parameter_the_path_does_not_hold_is_left_out_with_a_warning_at_its_line(repo: Path, run: Any) -> None:
    """OpenAPI: a path parameter's name MUST be one of its path's `{…}`. One that is not (`orderId` on
    `/orders/{order_id}`, a renamed variable) was a required tool parameter whose value went nowhere: the model
    had to make one up, beside the `order_id` the URL needs."""
    (repo / "tools.d" / "api.yaml").write_text(
        OPENAPI + "paths:\n  /orders/{order_id}:\n    get:\n      operationId: getOrder\n      parameters:\n"
        "        - {name: orderId, in: path, required: true, schema: {type: string}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    result = run("validate")
    assert result.code == 0
    assert (
        "tools.d/api.yaml:9:12: warning: GET /orders/{order_id} (getOrder): path parameter 'orderId' is left out of "
        "the tool: the path has no {orderId} to put it in" in result.output
    ), result.output
    tool = _tools(run)["getOrder"]
    assert tool["schema"]["properties"] == {"order_id": {"type": "string"}}
    assert tool["request"]["parameters"] == {"order_id": {"in": "path", "name": "order_id"}}


@pytest.mark.parametrize(("host", "base_path"), [("api.example.com/", "/v1"), ("api.example.com", "v1")])
def test_a_swagger_host_with_a_slash_or_a_base_path_without_one_still_gives_the_api_url(
    repo: Path, run: Any, host: str, base_path: str
) -> None:
    """Swagger 2.0 says `host` is the host alone and `basePath` starts with '/'. A description that slips
    (`host: api.example.com/`, `basePath: v1`) called `https://api.example.com//v1/a`, or another host
    altogether (`https://api.example.comv1/a`)."""
    (repo / "tools.d" / "api.yaml").write_text(
        f"swagger: '2.0'\ninfo: {{title: t, version: '1'}}\nhost: {host}\nbasePath: {base_path}\n"
        "paths:\n  /a:\n    get:\n      operationId: getA\n      responses: {'200': {description: ok}}\n"
    )
    assert _urls(run) == {"getA": "https://api.example.com/v1/a"}


SECRET = "sk-live-not-a-schema-0123456789"


@pytest.mark.parametrize(
    ("head", "where", "reference", "said"),
    [
        # a secrets file next to the description: its value must not become `{}` (anything), nor reach output
        (OPENAPI, "requestBody", "'../secrets.yaml#/KEY'", "a string"),
        (OPENAPI, "requestBody", "'#/info/title'", "a string"),
        (OPENAPI, "requestBody", "'#/info/x-limits'", "a list"),
        (HEAD_31, "requestBody", "'#/info/x-count'", "a number"),
        (OPENAPI, "parameter", "'#/info/x-count'", "a number"),
        (OPENAPI, "property", "'#/info/title'", "a string"),
        (SWAGGER, "body", "'#/info/title'", "a string"),
        (SWAGGER, "property", "'../secrets.yaml#/KEY'", "a string"),
    ],
    ids=[
        "3.0-secret",
        "3.0-title",
        "3.0-list",
        "3.1-number",
        "3.0-parameter",
        "3.0-property",
        "2.0-body",
        "2.0-secret",
    ],
)
def test_a_schema_reference_to_a_value_that_is_not_a_schema_is_an_error_at_its_line(
    repo: Path, run: Any, head: str, where: str, reference: str, said: str
) -> None:
    (repo / "secrets.yaml").write_text(f"KEY: {SECRET}\n")
    info = "  x-limits: [1, 2]\n  x-count: 3\n"
    schema = f"{{$ref: {reference}}}"
    if where == "property":
        schema = f"{{type: object, properties: {{q: {schema}}}}}"
    if where == "parameter":
        operation = f"      parameters:\n        - {{name: q, in: query, schema: {schema}}}\n"
    elif head is SWAGGER:
        operation = f"      parameters:\n        - {{name: body, in: body, schema: {schema}}}\n"
    else:
        operation = f"      requestBody:\n        content: {{application/json: {{schema: {schema}}}}}\n"
    text = (
        head.replace("info: {title: t, version: '1'}\n", f"info:\n  title: t\n  version: '1'\n{info}")
        + "paths:\n  /a:\n    post:\n      operationId: postA\n"
        + operation
        + "      responses: {'200': {description: ok}}\n"
        + "  /b:\n    get:\n      operationId: getB\n      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    line = 1 + text.splitlines().index(next(x for x in text.splitlines() if "$ref" in x))
    result = run("validate")
    assert result.code == 1, result.output
    errors = [x for x in result.output.splitlines() if ": error: " in x]
    assert len(errors) == 1, result.output
    assert errors[0].startswith(f"tools.d/api.yaml:{line}:"), errors
    assert reference.strip("'") in errors[0] and f"points at {said}, not a schema" in errors[0], errors
    assert "Traceback" not in result.output and SECRET not in result.output


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_reference_to_a_boolean_schema_stays_that_schema_in_3_1(repo: Path, run: Any, value: str) -> None:
    text = HEAD_31 + (
        "paths:\n  /a:\n    post:\n      operationId: postA\n"
        "      requestBody:\n        content: {application/json: {schema: {type: object, properties: "
        "{q: {$ref: '#/components/schemas/Flag'}}}}}\n"
        "      responses: {'200': {description: ok}}\n"
        f"components:\n  schemas:\n    Flag: {value}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    tools = _tools(run)
    # (rendered as the schemas Genesys Cloud takes: `true` accepts anything, `false` nothing)
    assert tools["postA"]["schema"]["properties"]["q"] == ({} if value == "true" else {"not": {}})


@pytest.mark.parametrize(
    ("head", "operation", "said"),
    [
        (OPENAPI, "      parameters:\n        - $ref: '../secrets.yaml#/KEY'\n", "a string, not a parameter"),
        (SWAGGER, "      parameters:\n        - $ref: '#/info/x-limits'\n", "a list, not a parameter"),
        (OPENAPI, "      requestBody: {$ref: '#/info/title'}\n", "a string, not a request body"),
    ],
    ids=["3.0-parameter", "2.0-parameter", "3.0-request-body"],
)
def test_a_parameter_or_body_reference_to_a_value_that_is_no_mapping_is_an_error_at_its_line(
    repo: Path, run: Any, head: str, operation: str, said: str
) -> None:
    # (it was read as an empty mapping: the parameter or the body was left out of the tool, silently)
    (repo / "secrets.yaml").write_text(f"KEY: {SECRET}\n")
    text = (
        head.replace("info: {title: t, version: '1'}\n", "info:\n  title: t\n  version: '1'\n  x-limits: [1]\n")
        + "paths:\n  /a:\n    post:\n      operationId: postA\n"
        + operation
        + "      responses: {'200': {description: ok}}\n"
        + "  /b:\n    get:\n      operationId: getB\n      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    line = 1 + text.splitlines().index(next(x for x in text.splitlines() if "$ref" in x))
    result = run("validate")
    assert result.code == 1, result.output
    errors = [x for x in result.output.splitlines() if ": error: " in x]
    assert len(errors) == 1 and errors[0].startswith(f"tools.d/api.yaml:{line}:"), result.output
    assert f"points at {said}" in errors[0], errors
    assert "Traceback" not in result.output and SECRET not in result.output
    assert "invalid: 1 tool, 1 error" in result.output  # the operation is left out; getB still compiles


def test_an_operation_or_path_item_reference_to_a_value_that_is_no_mapping_is_an_error_that_never_quotes_it(
    repo: Path, run: Any
) -> None:
    # the operation's error quoted the value it landed on (a secret, here) at the target's file; the path item
    # was read as an empty one, silently
    (repo / "secrets.yaml").write_text(f"KEY: {SECRET}\n")
    text = OPENAPI + (
        "paths:\n  /a:\n    get: {$ref: '../secrets.yaml#/KEY'}\n  /b:\n    $ref: '../secrets.yaml#/KEY'\n"
        "  /c:\n    get:\n      operationId: getC\n      responses: {'200': {description: ok}}\n"
    )
    (repo / "tools.d" / "api.yaml").write_text(text)
    result = run("validate")
    assert result.code == 1, result.output
    errors = [x for x in result.output.splitlines() if ": error: " in x]
    assert errors == [
        "tools.d/api.yaml:6:11: error: $ref '../secrets.yaml#/KEY' points at a string, not an operation "
        "(secrets.yaml has a string at #/KEY); an operation is a mapping with `responses`: point the $ref at one",
        "tools.d/api.yaml:8:5: error: $ref '../secrets.yaml#/KEY' points at a string, not a path item "
        "(secrets.yaml has a string at #/KEY); a path item is a mapping of operations: point the $ref at one",
    ], result.output
    assert SECRET not in result.output and "invalid: 1 tool, 2 errors" in result.output
