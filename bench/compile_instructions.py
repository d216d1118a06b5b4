"""Compile against bare parse in CPU instructions (callgrind), a figure a busy machine cannot move.

    .venv/bin/python bench/compile_instructions.py [NAME ...]

The same two sides as compile_corpus.py, for the descriptions whose path contains a NAME (default: the
three JSON descriptions nearest the target): (a) the bare parse, with the collector as Python sets it, and
(b) read_documents + compile_openapi with the cyclic GC paused, as `reconciler` runs them. Each side runs in
its own interpreter under `valgrind --tool=callgrind`, once with 1 repetition and once with 3; the
difference over 2 is one run, with interpreter start, imports and the first (warm-up) run taken out.
With string hashing seeded (PYTHONHASHSEED=0), the counts repeat to the last digit shown on the same
machine and Python build; wall time on a shared VM can drift by half between minutes, which is why this
script exists beside compile_corpus.py. Instructions
are not seconds (a cache miss costs more than an add), so the wall-clock ratio of compile_corpus.py stays
the figure the target is judged by.

`--floors` splits (b) to show what the target leaves room for, each part as a share of the bare parse:
`read`, read_documents alone; `copy`, a bare copy of every schema under `components/schemas` (`definitions`
in Swagger 2.0) that keeps the keywords the converter keeps and rewrites `$ref`s, with no check at all, the least a
conversion of the tree written in Python pays; `operations`, compile_openapi run again with the converter of
a first run, so that every schema is already converted: today's work per operation (parameters, names,
descriptions, bindings, security, the tools). `rest` is everything but read and copy (the operations, and
the conversion's work above a bare copy); `room` is what the target leaves it (2 - read - copy); `cut` is
how many times smaller `rest` must become.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from compile_corpus import BASE, BUILD, COMPILED, CORPUS, bare_parse, compile_description, descriptions

import reconciler.compile.openapi as openapi_compiler
from reconciler.compile.openapi.keywords import KINDS
from reconciler.config import Limits
from reconciler.load import read_documents

DEFAULT = ["discord", "box", "twilio"]  # the three nearest the target; openai's 3 MB of YAML takes 4 minutes
_TOTAL = re.compile(r"refs:\s+([\d,]+)")


def child(side: str, name: str, repetitions: int) -> None:
    path = CORPUS / name
    run = _floor(side, path) if side in FLOORS else (lambda: compile_description(path))
    for _ in range(repetitions):
        if side == "parse":
            bare_parse(path)
        else:
            gc.disable()
            run()
            gc.enable()


FLOORS = ("read", "copy", "operations")
_KEYWORDS = frozenset(KINDS)  # every keyword the converter keeps


def _floor(side: str, path: Path) -> Callable[[], object]:
    if side == "read":
        return lambda: read_documents(path)
    if side == "copy":
        content = orjson.loads(path.read_bytes())
        schemas = content.get("components", {}).get("schemas") or content.get("definitions") or {}
        return lambda: {name: _copy(schema) for name, schema in schemas.items()}
    document = read_documents(path)[0]
    made: dict[str, Any] = {}

    # one converter per direction (inputs, answers) for every run: the second run converts nothing
    def remembered(files: Any, **options: Any) -> Any:
        hidden = str(options.get("hidden", "readOnly"))
        if hidden not in made:
            made[hidden] = converter_class(files, **options)
        made[hidden].files = files
        return made[hidden]

    converter_class = openapi_compiler.SchemaConverter
    openapi_compiler.SchemaConverter = remembered  # type: ignore[assignment,misc]

    def operations() -> object:
        source = {"openapi": path.name, "endpoint_base": BASE}
        return openapi_compiler.compile_openapi(
            document, source=source, source_document=None, root=CORPUS, limits=Limits()
        )

    operations()
    return operations


def _copy(node: Any) -> Any:
    if node.__class__ is dict:
        if len(node) == 1 and "$ref" in node:
            return {"$ref": "#/$defs/" + str(node["$ref"]).rpartition("/")[2]}
        copied = {}
        for key, value in node.items():
            if key in _KEYWORDS:
                if key == "properties" and value.__class__ is dict:
                    copied[key] = {name: _copy(schema) for name, schema in value.items()}
                else:
                    copied[key] = _copy(value) if value.__class__ in (dict, list) else value
        return copied
    if node.__class__ is list:
        return [_copy(item) for item in node]
    return node


def instructions(side: str, name: str, repetitions: int) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        completed = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={os.path.join(scratch, 'out')}",
                sys.executable,
                __file__,
                "--child",
                side,
                name,
                str(repetitions),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},  # string hashes decide set and dict probing: fix them
        )
    found = _TOTAL.search(completed.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total for {side} {name}:\n{completed.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_run(side: str, name: str) -> float:
    return (instructions(side, name, 3) - instructions(side, name, 1)) / 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=DEFAULT)
    parser.add_argument("--floors", action="store_true", help="also count read, copy and operations (see above)")
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "NAME", "REPETITIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        side, name, repetitions = args.child
        child(side, name, int(repetitions))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: no instruction counts (apt-get install valgrind)", file=sys.stderr)
        return 1
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 1
    chosen = [d for d in descriptions() if any(name in d for name in args.names)]
    print(f"OpenAPI compiler: {BUILD}\n")
    floors = [side for side in FLOORS if side != "operations" or not COMPILED]
    header = f"{'description':40} {'parse Minstr':>12} {'compile Minstr':>14} {'ratio':>6}"
    if args.floors:
        header += "".join(f" {side:>10}" for side in floors) + f" {'rest':>6} {'room':>6} {'cut':>6}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name in chosen:
        parse, compiled = per_run("parse", name), per_run("compile", name)
        ratio = compiled / parse
        worst = max(worst, ratio)
        line = f"{name:40} {parse / 1e6:12.1f} {compiled / 1e6:14.1f} {ratio:6.2f}"
        if args.floors:
            shares = {side: per_run(side, name) / parse for side in floors}
            rest, room = ratio - shares["read"] - shares["copy"], 2 - shares["read"] - shares["copy"]
            line += "".join(f" {share:10.2f}" for share in shares.values()) + f" {rest:6.2f} {room:6.2f}"
            line += f" {rest / room:6.2f}" if rest > room else f" {'-':>6}"
        print(line)
    print(f"\nworst ratio {worst:.2f} (target: at most 2.00, judged on wall time by compile_corpus.py)")
    if args.floors and COMPILED:
        print("(no `operations` floor on a compiled build: mypyc binds the converter class when it builds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
