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

from compile_corpus import CORPUS, bare_parse, compile_description, descriptions

DEFAULT = ["discord", "box", "twilio"]  # the three nearest the target; openai's 3 MB of YAML takes 4 minutes
_TOTAL = re.compile(r"refs:\s+([\d,]+)")


def child(side: str, name: str, repetitions: int) -> None:
    path = CORPUS / name
    for _ in range(repetitions):
        if side == "parse":
            bare_parse(path)
        else:
            gc.disable()
            compile_description(path)
            gc.enable()


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
    header = f"{'description':40} {'parse Minstr':>12} {'compile Minstr':>14} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name in chosen:
        parse, compiled = per_run("parse", name), per_run("compile", name)
        ratio = compiled / parse
        worst = max(worst, ratio)
        print(f"{name:40} {parse / 1e6:12.1f} {compiled / 1e6:14.1f} {ratio:6.2f}")
    print(f"\nworst ratio {worst:.2f} (target: at most 2.00, judged on wall time by compile_corpus.py)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
