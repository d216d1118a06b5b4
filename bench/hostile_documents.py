"""Benchmark: `reconciler validate` of one file of a million tiny YAML documents (6 MB, as the red team sent)
beside one file of a thousand (the document limit): wall and peak RSS, each in a fresh process.

The reader stops at the first document past the limit, so the million should cost about what the thousand
does (before the limit: 137 s and 1.7 GB, and three million lines of errors).
Run: .venv/bin/python bench/hostile_documents.py [DOCUMENTS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import in_child, table

VALIDATE = """
import contextlib, io, os, time
from reconciler.cli import main as cli
def main(directory):
    os.chdir(directory)
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
        code = cli(['validate'])
    return {'seconds': time.perf_counter() - t, 'code': code, 'lines': out.getvalue().count(chr(10))}
"""


def repository(root: Path, documents: int) -> Path:
    (root / ".git").mkdir()
    (root / "tools.d").mkdir()
    (root / "tools.d" / "many.yaml").write_text("---\n1\n" * documents, encoding="utf-8")
    return root


def main(argv: list[str]) -> None:
    hostile = int(argv[0]) if argv else 1_000_000
    rows = []
    with tempfile.TemporaryDirectory() as small, tempfile.TemporaryDirectory() as large:
        floor, ours = repository(Path(small), 1000), repository(Path(large), hostile)
        rounds = [(in_child(VALIDATE, str(floor)), in_child(VALIDATE, str(ours))) for _ in range(3)]
    for label, index, count in (("1,000 documents (the limit)", 0, 1000), (f"{hostile:,} documents", 1, hostile)):
        results = [r[index] for r in rounds]
        rows.append(
            [
                label,
                count * 6 / 1e6,
                statistics.median(r["seconds"] for r in results) * 1000,
                max(r["peak_rss_mib"] for r in results),
                results[0]["lines"],
                results[0]["code"],
            ]
        )
    ratio = statistics.median(big["seconds"] / small["seconds"] for small, big in rounds)
    print("validate of one file of tiny documents, each in a fresh process (median of 3)")
    print(table(["file", "MB", "wall ms", "peak RSS MiB", "lines printed", "exit"], rows))
    print(f"ratio {ratio:.2f} (target: <= 2; the reader stops at the first document past the limit)")


if __name__ == "__main__":
    main(sys.argv[1:])
