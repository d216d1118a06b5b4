"""Injected failures: random ones by probability (the CLI knobs), and scripted ones for exact tests.

Kinds: "429" (answered 429 with Retry-After), "502"/"503"/"504" (answered without processing),
"drop_after_commit" (a write is committed, then the connection is closed without an answer),
"drop" (the connection is closed without processing the request).
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["429", "502", "503", "504", "drop_after_commit", "drop"]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class _Scripted:
    kind: FaultKind
    methods: frozenset[str] | None
    remaining: int


class Faults:
    def __init__(
        self, *, p_429: float = 0.0, p_5xx: float = 0.0, p_drop_after_commit: float = 0.0, seed: int | None = None
    ) -> None:
        self._p_429 = p_429
        self._p_5xx = p_5xx
        self._p_drop = p_drop_after_commit
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._script: deque[_Scripted] = deque()

    def inject(self, kind: FaultKind, *, times: int = 1, methods: tuple[str, ...] | None = None) -> None:
        """The next `times` API requests (of `methods`, when given) meet `kind`, in the order injected."""
        with self._lock:
            wanted = frozenset(m.upper() for m in methods) if methods else None
            self._script.append(_Scripted(kind, wanted, times))

    def clear(self) -> None:
        with self._lock:
            self._script.clear()

    def before(self, method: str) -> FaultKind | None:
        """A failure to answer with instead of handling the request, if any."""
        with self._lock:
            for entry in self._script:
                if entry.kind == "drop_after_commit" or (entry.methods and method not in entry.methods):
                    continue
                return self._take(entry)
            if self._p_429 and self._random.random() < self._p_429:
                return "429"
            if self._p_5xx and self._random.random() < self._p_5xx:
                return self._random.choice(("502", "503", "504"))
        return None

    def drop_after_commit(self, method: str) -> bool:
        """True when this committed write's answer is to be lost."""
        if method not in WRITE_METHODS:
            return False
        with self._lock:
            for entry in self._script:
                if entry.kind == "drop_after_commit" and (not entry.methods or method in entry.methods):
                    self._take(entry)
                    return True
            return bool(self._p_drop) and self._random.random() < self._p_drop

    def _take(self, entry: _Scripted) -> FaultKind:
        entry.remaining -= 1
        if entry.remaining <= 0:
            self._script.remove(entry)
        return entry.kind


__all__ = ["FaultKind", "Faults"]
