"""The package's build: pyproject.toml says everything but one thing, the OpenAPI compiler's modules compiled to C.

`reconciler/compile/openapi/*.py` is compiled with mypyc (it ships inside mypy; black and mypy ship this way):
the same source, type-checked as CI checks it, run as C. Compiling a description takes about two thirds of
the time (`bench/compile_corpus.py` prints which build it measured). The pure-Python package is built instead
when `RECONCILER_PURE_PYTHON=1`, on Windows, or where no C compiler or no mypy is found; it gives the same
output byte for byte (tests/compile/test_build.py checks it on the corpus).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import setup

COMPILED = sorted(str(path.as_posix()) for path in Path("reconciler/compile/openapi").glob("*.py"))
PURE = "RECONCILER_PURE_PYTHON"


def _why_pure() -> str | None:
    """Why this build is the pure-Python package (None: it compiles)."""
    if os.environ.get(PURE, "").strip() not in ("", "0"):
        return f"{PURE} is set"
    if sys.platform == "win32" or sys.implementation.name != "cpython":
        return "mypyc is used on CPython outside Windows only"
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    if not compiler or shutil.which(compiler[0]) is None:
        return f"no C compiler ({' '.join(compiler) or 'CC'}) on PATH"
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        return "mypy (mypyc) is not installed where the build runs"
    return None


def extensions() -> list[object]:
    why = _why_pure()
    if why is not None:
        print(f"reconciler: building the pure-Python package ({why})", file=sys.stderr)
        # an editable install of a compiled build left its modules beside the sources, where Python would still
        # import them first: the pure package is the sources alone
        for built in [*Path("reconciler/compile/openapi").glob("*.so"), *Path(".").glob("*__mypyc.*.so")]:
            built.unlink()
        return []
    from mypyc.build import mypycify

    # follow-imports=silent: the modules the compiled ones import (the loader, config, model…) are read for their
    # types only; a build environment without the dependencies' type stubs must not fail on them
    return mypycify(
        ["--follow-imports=silent", "--ignore-missing-imports", *COMPILED],
        opt_level="3",
    )


setup(ext_modules=extensions())
