"""Binding conformance over the shared corpus: for tools of every OpenAPI 3.x description, generated arguments
(hostile strings first) become requests that openapi-core accepts for the original operation, carrying the
values unchanged. Swagger 2.0 descriptions, which openapi-core does not read, are checked for the values only,
as werkzeug's parser reads the request.

Bounded for CI (RECONCILER_CONFORMANCE_TOOLS tools a description, default 20, spread over the description;
0: every tool); the counts per description are printed (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import os
import warnings

import pytest

from tests.runtime.conformance import CORPUS, SPECS, SWAGGER, check_spec, check_swagger
from tests.runtime.conftest import Upstream

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.slow,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}"),
]
TOOLS = int(os.environ.get("RECONCILER_CONFORMANCE_TOOLS", "20"))


@pytest.mark.parametrize("name", list(SPECS))
def test_generated_calls_conform_to_the_original_operation(name: str, upstream: Upstream) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openapi-core warns about the security schemes it does not check
        report = asyncio.run(check_spec(name, SPECS[name], upstream, TOOLS, 3))
    print(report.line())
    for text, number in report.known.items():
        print(f"    refused by the description or openapi-core, not the binding: {number} x {text}")
    assert report.failures == []
    assert report.requests > 0 and report.values_checked > 0
    assert report.conform + sum(report.known.values()) == report.requests


@pytest.mark.parametrize("name", list(SWAGGER))
def test_swagger_calls_carry_the_values_unchanged(name: str, upstream: Upstream) -> None:
    report = asyncio.run(check_swagger(name, SWAGGER[name], upstream, TOOLS, 3))
    print(report.line().replace(" accepted by openapi-core", " answered (openapi-core reads 3.x only)"))
    assert report.failures == []
    assert report.requests > 0 and report.values_checked > 0
