"""All benchmarks, one after the other, each printing its table. Run: .venv/bin/python bench/run_all.py"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "validate_files.py",
    "hostile_documents.py",
    "compile_corpus.py",
    "compile_instructions.py",
    "plan_requests.py",
    "plan_changes.py",
    "apply_rate.py",
    "apply_paced.py",
    "local_registry.py",
    "startup.py",
    "render_encoder.py",
    "conversation_turn.py",
    "serve_invoke.py",
]


def main() -> int:
    failed = 0
    for script in SCRIPTS:
        print(f"\n=== {script}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / script)])
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
