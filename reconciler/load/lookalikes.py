"""Files in the desired-state folder that look like desired state but are not read: a warning, not silence.

Only `.yaml`, `.yml` and `.json` count (exactly, as the loader matches them). `orders.ymal` or `orders.jsn` is
most likely meant to count, and a user who sees no tool come from it deserves to be told why. (Another case,
`orders.YAML`, is reported by `discover` as it walks.)
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from reconciler.errors import Diagnostic
from reconciler.load.files import DOCUMENT_SUFFIXES, display_path
from reconciler.model import SourceLocation

_SUFFIXES = [suffix[1:] for suffix in DOCUMENT_SUFFIXES]
_OTHER_FORMATS = frozenset({"jsonl", "ndjson"})
"""Near misses by spelling that are formats of their own."""


def ignored_lookalikes(directory: Path) -> list[Diagnostic]:
    """A warning for each file below `directory` whose suffix is a near miss of a document suffix."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            # the loader's own test first: almost every file is read, and this walk must cost next to nothing
            if name.endswith((*DOCUMENT_SUFFIXES, "~")) or name.startswith("."):
                continue  # read; or hidden, or an editor's backup: meant to be left out
            stem, dot, suffix = name.rpartition(".")
            meant = _meant(suffix) if dot and stem else None
            if meant is not None:
                found.append(
                    Diagnostic(
                        "warning",
                        SourceLocation(display_path(Path(root, name))),
                        f"ignored: only files ending in .yaml, .yml or .json are read; rename it to "
                        f"{stem}.{meant} if it is desired state",
                        "ignored-file",
                    )
                )
    return found


def _meant(suffix: str) -> str | None:
    lowered = suffix.lower()
    if lowered in _OTHER_FORMATS:
        return None
    if lowered in _SUFFIXES:
        return None  # another case (orders.YAML): `discover` warns about those itself
    swapped = [known for known in _SUFFIXES if sorted(known) == sorted(lowered)]  # .ymal: letters swapped
    if swapped:
        return swapped[0]
    close = difflib.get_close_matches(lowered, _SUFFIXES, n=1, cutoff=0.7)
    return close[0] if close else None


__all__ = ["ignored_lookalikes"]


MAX_ENTRIES_SEARCHED = 20_000
"""A repository larger than this is not searched to the end for a file a path missed: the hint is a courtesy."""


def files_named(root: Path, name: str, *, limit: int = 3) -> list[Path]:
    """Files called `name` below `root` (hidden folders skipped), for the hint "write ../specs/orders.yaml"
    when a path written relative to the wrong folder names nothing."""
    found: list[Path] = []
    seen = 0
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith(".") and f != "node_modules")
        seen += len(folders) + len(files)
        if name in files:
            found.append(Path(folder) / name)
        if len(found) >= limit or seen > MAX_ENTRIES_SEARCHED:
            break
    return found
