"""Every corpus description compiles to exactly what it compiled to when its digest was recorded.

Work on the compiler's speed must not change a byte of what it emits: each description of the shared corpus
is compiled the way plan and apply compile it (success answers included) and the way `render --format openai`
does (without them), and the sha256 of everything the compile returns (tools with every field, places of
their security requirements included, skipped operations, diagnostics, contested names), as sorted JSON, must
equal the one recorded in corpus_digests.json. After a deliberate change of the compiler's output, record the
new digests and say in the commit what changed and why:

    RECONCILER_RECORD_DIGESTS=1 .venv/bin/pytest tests/compile/openapi/test_openapi_corpus_output.py
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from reconciler.compile.openapi import compile_openapi
from reconciler.config import Limits
from reconciler.load import read_documents
from reconciler.model import Secret
from tests.compile.openapi.test_openapi_corpus import CORPUS, REPOSITORY, descriptions

DIGESTS = Path(__file__).with_name("corpus_digests.json")
RECORD = os.environ.get("RECONCILER_RECORD_DIGESTS") == "1"
MODES = {"plan": True, "openai": False}
"""Each mode: whether success answers are converted (`output_schemas`)."""

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}"),
]


def _corpus_prefixes() -> tuple[str, ...]:
    """How places name the corpus from the repository: as written (`../shared/corpus`) and with links resolved
    (a place in a file that a reference reached). Both depend on where the corpus lives on this machine."""
    return tuple(os.path.relpath(folder, REPOSITORY) + os.sep for folder in {CORPUS.resolve(), CORPUS.absolute()})


def plain(value: Any, prefixes: tuple[str, ...] = ()) -> Any:
    """`value` as JSON: records by their fields (and a security requirement's place, found on first use), with
    the corpus's place on this machine written as `<corpus>/`."""
    if prefixes == ():
        prefixes = _corpus_prefixes()
    if isinstance(value, Secret):
        return {"__secret__": str(value)}
    if isinstance(value, str):
        for prefix in prefixes:
            if value.startswith(prefix):
                return "<corpus>/" + value[len(prefix) :]
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: plain(getattr(value, field.name), prefixes) for field in dataclasses.fields(value)}
        if "written" in fields:  # Security: how its place is found is no output; the place is
            del fields["written"]
            fields["location"] = plain(value.location, prefixes)  # type: ignore[attr-defined]
        return {"__record__": type(value).__name__, **fields}
    if isinstance(value, dict):
        return {str(key): plain(item, prefixes) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, prefixes) for item in value]
    return value


def digest(relative: str, output_schemas: bool) -> str:
    path = CORPUS / relative
    result = compile_openapi(
        read_documents(path)[0],
        source={"openapi": path.name, "endpoint_base": "https://api.example.com"},
        source_document=None,
        root=CORPUS,
        limits=Limits(),
        output_schemas=output_schemas,
    )
    return hashlib.sha256(orjson.dumps(plain(result), option=orjson.OPT_SORT_KEYS)).hexdigest()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("relative", descriptions())
def test_the_compiled_output_is_the_recorded_one(relative: str, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPOSITORY)  # places are written relative to the current directory, as a user reads them
    found = digest(relative, MODES[mode])
    recorded: dict[str, str] = json.loads(DIGESTS.read_text()) if DIGESTS.is_file() else {}
    key = f"{relative} {mode}"
    if RECORD:
        recorded[key] = found
        DIGESTS.write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")
        return
    assert key in recorded, f"no digest recorded for {key}: see this module's docstring"
    assert found == recorded[key], (
        f"compiling {relative} ({mode}) gives other output than recorded: if that is on purpose, record the new "
        "digests (see this module's docstring)"
    )
