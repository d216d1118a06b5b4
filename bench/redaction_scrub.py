"""The run's redactor over a large plan text: the scrub every printed line passes through, vs a bare literal
search for the same secrets (its floor), with and without short values in play.

    .venv/bin/python bench/redaction_scrub.py [LINES]

A short value (under 6 characters) is hidden only where it stands alone; its word boundary is checked after
its first character so that the alternation keeps a literal prefix. `lookbehind first` is the same pattern
with the boundary written first, the way it was before: the engine then tries every position.
"""

from __future__ import annotations

import functools
import random
import re
import statistics
import string
import sys
import time
from collections.abc import Callable

from reconciler.redaction import Redactor, encodings

LINE = '  ~ description = "Checks real-time inventory levels for a product SKU." -> "Checks stock."\n'


def _lookbehind_first(secrets: list[str]) -> re.Pattern[str]:
    forms = sorted({form for secret in secrets for form in encodings(secret)}, key=lambda s: (-len(s), s))
    parts = []
    for form in forms:
        text = re.escape(form)
        if len(form) < 6:
            text = (
                (r"(?<!\w)" if re.match(r"\w", form[0]) else "")
                + text
                + (r"(?!\w)" if re.match(r"\w", form[-1]) else "")
            )
        parts.append(text)
    return re.compile("|".join(parts))


def _median(function: Callable[[], object], rounds: int = 5) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(lines: int = 70_000) -> None:
    random.seed(7)
    text = LINE * lines
    long = ["".join(random.choices(string.ascii_letters + string.digits, k=24)) for _ in range(10)]
    floor = re.compile("|".join(re.escape(secret) for secret in long))
    print(f"{len(text) / 1e6:.1f} MB of plan text, 10 secrets of 24 characters")
    print(f"{'case':<34} {'seconds':>8} {'x floor':>8}")
    base = _median(lambda: floor.sub("(sensitive)", text))
    print(f"{'floor: literal alternation':<34} {base:8.3f} {1.0:8.1f}")
    for label, secrets in (("redactor, long values only", long), ("redactor, + 2 short values", [*long, "ab1", "x7"])):
        redactor = Redactor(secrets)
        took = _median(functools.partial(redactor.scrub, text))
        print(f"{label:<34} {took:8.3f} {took / base:8.1f}")
    old = _lookbehind_first([*long, "ab1", "x7"])
    took = _median(lambda: old.sub("(sensitive)", text))
    print(f"{'lookbehind first, + 2 short':<34} {took:8.3f} {took / base:8.1f}")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
