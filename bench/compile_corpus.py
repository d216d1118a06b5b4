"""How long compiling each corpus description takes, next to a bare parse of the same files.

    .venv/bin/python bench/compile_corpus.py [--runs N] [--profile NAME] [--only NAME] [--no-output-schemas]

For each description in ../shared/corpus/openapi (next to the repository), the median of N runs (3N for the
ones that compile in under 0.1 s) of
(a) a bare parse: yaml.load with CSafeLoader, or json.load; for DigitalOcean, of every .yml/.yaml file under
its specification/ folder, since its references reach them; and (b) reading it with our loader
(reconciler.load.read_documents) and compiling it (compile_openapi) the way `reconciler` runs them: with the
cyclic garbage collector paused (reconciler.desired.build_desired_state pauses it while it loads and compiles).
They take turns, and the ratio is the median of each round's (b)/(a). The target is (b) at most 2x (a).
Beside it, "same GC": the ratio to the bare parse with the collector paused too, the floor it would have if
it borrowed the same setting.
`--profile NAME` runs cProfile over one compile of the description whose path contains NAME; `--only NAME`
measures only the descriptions whose path contains NAME. The compile is the one plan, apply and validate run
for either target, which converts each operation's success answer (`outputSchema`, `successSchema`);
`--no-output-schemas` measures the compile `render --format openai` runs, which has no place for them.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.machinery
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

import reconciler.compile.openapi.schemas  # noqa: E402
from reconciler.compile.openapi import OpenApiResult, compile_openapi  # noqa: E402
from reconciler.config import Limits  # noqa: E402
from reconciler.load import read_documents  # noqa: E402

CORPUS = REPOSITORY.parent / "shared" / "corpus" / "openapi"


def descriptions() -> list[str]:
    """Every OpenAPI description of the corpus (the files that other files' references reach are left out)."""
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


BASE = "https://api.example.com"
COMPILED = reconciler.compile.openapi.schemas.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
BUILD = "compiled by mypyc (setup.py)" if COMPILED else "pure Python"
"""Which build of the OpenAPI compiler this interpreter imports (RECONCILER_PURE_PYTHON=1 builds the pure one)."""


def gc_paused(function: Callable[[], object]) -> Callable[[], object]:
    def paused() -> object:
        gc.disable()
        try:
            return function()
        finally:
            gc.enable()

    return paused


def bare_parse(path: Path) -> None:
    if "digitalocean" in path.parts or "petstore-separate" in path.parts:
        # references reach the other files of these descriptions: parse the whole folder they live in
        folder = path.parent if "digitalocean" in path.parts else path.parent.parent
        files = sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml"))
    else:
        files = [path]
    for file in files:
        with file.open("rb") as stream:
            if file.suffix == ".json":
                json.load(stream)
            else:
                yaml.load(stream, Loader=yaml.CSafeLoader)


OUTPUT_SCHEMAS = True


def compile_description(path: Path) -> OpenApiResult:
    document = read_documents(path)[0]
    return compile_openapi(
        document,
        source={"openapi": path.name, "endpoint_base": BASE},
        source_document=None,
        root=CORPUS,
        limits=Limits(),
        output_schemas=OUTPUT_SCHEMAS,
    )


def timed_ms(runs: int, *functions: Callable[[], object]) -> list[list[float]]:
    """Times of `functions` (ms), run in turns so that a busy machine slows them alike."""
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(runs):
        for function, samples in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            samples.append((time.perf_counter() - start) * 1000)
    return times


def count_operations(result: OpenApiResult) -> int:
    return len(result.tools) + len(result.skipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", metavar="NAME")
    parser.add_argument("--only", metavar="NAME", default="")
    parser.add_argument("--no-output-schemas", action="store_true", help="leave success answers out (openai form)")
    args = parser.parse_args(argv)
    global OUTPUT_SCHEMAS  # noqa: PLW0603 - a setting of this script's one run
    OUTPUT_SCHEMAS = not args.no_output_schemas
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 1
    if args.profile:
        path = next(CORPUS / d for d in descriptions() if args.profile in d)
        compile_description(path)
        profile = cProfile.Profile()
        profile.runcall(compile_description, path)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        return 0
    print(f"OpenAPI compiler: {BUILD} ({reconciler.compile.openapi.schemas.__file__})\n")
    header = (
        f"{'description':58} {'ops':>5} {'tools':>5} {'skip':>5} {'parse ms':>9} {'compile ms':>10} {'ratio':>6}"
        f" {'same GC':>7} {'read ms':>8} {'share':>6}"
    )
    print(header)
    print("-" * len(header))
    worst = worst_alike = 0.0
    for name in (d for d in descriptions() if args.only in d):
        path = CORPUS / name
        started = time.perf_counter()
        result = compile_description(path)
        # quick ones get more runs: their times are the most exposed to a neighbour's noise
        runs = args.runs * 3 if time.perf_counter() - started < 0.1 else args.runs
        parses, parses_paused, compiles, reads = timed_ms(
            runs,
            lambda path=path: bare_parse(path),
            gc_paused(lambda path=path: bare_parse(path)),
            gc_paused(lambda path=path: compile_description(path)),
            gc_paused(lambda path=path: read_documents(path)),
        )
        parse, compiled, read = (statistics.median(samples) for samples in (parses, compiles, reads))
        # the median of each round's ratio: a slow spell of the machine slows both sides of a round alike
        ratio = statistics.median(c / p for c, p in zip(compiles, parses, strict=True) if p)
        alike = statistics.median(c / p for c, p in zip(compiles, parses_paused, strict=True) if p)
        worst, worst_alike = max(worst, ratio), max(worst_alike, alike)
        print(
            f"{name:58} {count_operations(result):5} {len(result.tools):5} {len(result.skipped):5} "
            f"{parse:9.1f} {compiled:10.1f} {ratio:6.2f} {alike:7.2f} {read:8.1f} {read / parse if parse else 0.0:6.2f}"
        )
    print(f"\nworst ratio {worst:.2f} (target: at most 2.00); with the same GC setting on both sides {worst_alike:.2f}")
    print(
        "compile ms = read_documents + compile_openapi, GC paused as reconciler runs them; "
        "read ms = read_documents alone (share: of the bare parse)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
