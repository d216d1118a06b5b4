"""Every real-world description of the shared corpus compiles, and every tool it gives keeps its promises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.compile.openapi import OpenApiResult, compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents

REPOSITORY = Path(__file__).resolve().parents[3]
CORPUS = REPOSITORY.parent / "shared" / "corpus" / "openapi"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}"),
]


def descriptions() -> list[str]:
    if not CORPUS.is_dir():
        return []
    found = []
    for path in sorted(CORPUS.rglob("*")):
        relative = path.relative_to(CORPUS).as_posix()
        if path.suffix not in (".json", ".yaml", ".yml"):
            continue
        if relative.startswith("digitalocean/") and path.name != "DigitalOcean-public.v2.yaml":
            continue
        if "petstore-separate/" in relative and path.name != "swagger.yaml":
            continue
        found.append(relative)
    return found


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=yaml.CSafeLoader)


def count_operations(path: Path) -> int:
    """The operations of a description, counted independently of the compiler (path items may be `$ref`s)."""
    content = _parse(path)
    count = 0
    for key, written in (content.get("paths") or {}).items():
        if key.startswith("x-"):
            continue
        item = written
        if isinstance(item, dict) and "$ref" in item:
            file, _, pointer = item["$ref"].partition("#")
            item = _parse((path.parent / file).resolve()) if file else content
            for part in [p for p in pointer.split("/") if p]:
                item = item[part.replace("~1", "/").replace("~0", "~")]
        count += sum(1 for method in item if method in METHODS)
    return count


def compile_corpus(relative: str) -> OpenApiResult:
    document = read_documents(CORPUS / relative)[0]
    result = compile_openapi(document, source=None, source_document=None, root=CORPUS, limits=Limits())
    if any(d.code == "endpoint-base" for d in result.diagnostics):
        source = {"openapi": relative, "endpoint_base": "https://api.example.com"}
        result = compile_openapi(document, source=source, source_document=None, root=CORPUS, limits=Limits())
    return result


@pytest.mark.parametrize("relative", descriptions())
def test_description_compiles_into_valid_tools(relative: str, oa: Any) -> None:
    result = compile_corpus(relative)

    assert [d for d in result.diagnostics if d.severity == "error"] == []
    assert len(result.tools) + len(result.skipped) == count_operations(CORPUS / relative)
    names = [tool.name for tool in result.tools]
    assert len(names) == len(set(names))
    for tool in result.tools:
        oa.check_tool(tool)
        assert tool.location.line >= 1
        assert Path(tool.location.file).is_file()
        if relative.endswith(".json"):
            assert tool.location.line > 1, "a JSON operation is placed on its own line"
    for skipped in result.skipped:
        assert skipped.reason
    for diagnostic in result.diagnostics:
        assert Path(diagnostic.location.file).is_file()


@pytest.mark.parametrize("relative", ["twilio/twilio_api_v2010.json", "oai-examples/v3.0/uspto.yaml"])
def test_form_bodies_become_real_properties(relative: str) -> None:
    result = compile_corpus(relative)
    forms = [
        tool
        for tool in result.tools
        if tool.request and tool.request.get("content_type", "").startswith(("application/x-www-form", "multipart/"))
    ]
    assert forms
    for tool in forms:
        body = [name for name, binding in tool.request["parameters"].items() if binding["in"] == "body"]
        assert body
        assert all("name" in tool.request["parameters"][name] for name in body), tool.name
        for name in body:
            assert tool.schema["properties"][name] != {}, (tool.name, name)


def test_every_form_or_multipart_body_in_the_corpus_has_properties() -> None:
    for relative in descriptions():
        for tool in compile_corpus(relative).tools:
            content_type = (tool.request or {}).get("content_type", "")
            if not content_type.startswith(("application/x-www-form", "multipart/")):
                continue
            for name, binding in tool.request["parameters"].items():
                if binding["in"] == "body" and "name" not in binding:
                    schema = tool.schema["properties"][name]
                    assert schema.get("properties") or schema.get("type") != "object", (relative, tool.name)


def test_cross_file_swagger_description_follows_its_references() -> None:
    result = compile_corpus("oai-examples/v2.0/yaml/petstore-separate/spec/swagger.yaml")
    add_pet = next(tool for tool in result.tools if tool.name == "addPet")
    assert set(add_pet.schema["properties"]) == {"id", "name", "tag", "description"}  # Pet.yaml, then NewPet.yaml
    assert set(add_pet.schema["required"]) == {"id", "name"}
    assert add_pet.request["parameters"]["description"] == {"in": "body", "name": "description"}
    find_pets = next(tool for tool in result.tools if tool.name == "findPets")
    assert set(find_pets.schema["properties"]) == {"tags", "limit"}


def test_digitalocean_operations_live_in_their_own_files() -> None:
    result = compile_corpus("digitalocean/specification/DigitalOcean-public.v2.yaml")
    files = {Path(tool.location.file).name for tool in result.tools}
    assert "oneClicks_list.yml" in files
    assert len(files) > 100


def test_digitalocean_read_only_properties_marked_through_all_of_are_not_parameters() -> None:
    """DigitalOcean marks a pool's connections `allOf: [{$ref: database_connection.yml}, {readOnly: true}]`:
    a request that sends them does not validate against the description."""
    result = compile_corpus("digitalocean/specification/DigitalOcean-public.v2.yaml")
    tool = next(tool for tool in result.tools if tool.name == "databases_add_connectionPool")
    assert set(tool.schema["properties"]) == {"database_cluster_uuid", "name", "mode", "size", "db", "user"}
    assert set(tool.request["parameters"]) == set(tool.schema["properties"])
