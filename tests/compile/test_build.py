"""The OpenAPI compiler as built: its modules compiled to C by mypyc (setup.py, the default), or pure Python.

Both builds must emit the same bytes. The suite runs on whichever build is installed, and its corpus digests
(tests/compile/openapi/test_openapi_corpus_output.py) pin that build's output; on a compiled build, the test
below compiles the corpus again in a pure-Python interpreter against the same recorded digests, so CI (which
runs the compiled build) keeps the pure one tested too.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
PACKAGE = REPOSITORY / "reconciler" / "compile" / "openapi"
CORPUS = REPOSITORY.parent / "shared" / "corpus" / "openapi"
HANG_GUARD = 600  # seconds: a hang guard only (the pure compile of the corpus takes well under a minute)


def _origin(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return spec.origin


def _compiled() -> bool:
    return _origin("reconciler.compile.openapi.schemas").endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def _pure_copy(destination: Path) -> Path:
    """The package's Python files alone (no compiled module), as RECONCILER_PURE_PYTHON=1 installs them."""
    ignored = shutil.ignore_patterns("*.so", "*.pyd", "__pycache__")
    shutil.copytree(REPOSITORY / "reconciler", destination / "reconciler", ignore=ignored)
    return destination


_PURE_DIGESTS = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import reconciler.compile.openapi.schemas as schemas
assert schemas.__file__.endswith(".py"), schemas.__file__
from tests.compile.openapi.test_openapi_corpus_output import DIGESTS, MODES, digest
from tests.compile.openapi.test_openapi_corpus import descriptions
recorded = json.loads(DIGESTS.read_text())
found = {f"{path} {mode}": digest(path, output) for path in descriptions() for mode, output in MODES.items()}
differing = {key: value for key, value in found.items() if recorded.get(key) != value}
print(json.dumps({"compared": len(found), "differing": differing}))
"""


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
def test_the_pure_python_compiler_emits_what_the_compiled_one_does(tmp_path: Path) -> None:
    if not _compiled():
        pytest.skip("this build is pure Python: the corpus digests test it directly")
    pure = _pure_copy(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-c", _PURE_DIGESTS, str(pure), str(REPOSITORY)],
        cwd=REPOSITORY,  # places are written relative to the current directory, as the digests were recorded
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["compared"] >= 40  # every corpus description, both modes
    assert outcome["differing"] == {}, (
        f"the pure-Python build compiles these differently from the recorded digests: {outcome['differing']}"
    )


def test_a_compiled_build_is_of_the_source_as_it_is_now() -> None:
    """An editable install compiles the modules in place: after a change to one of them (an edit, a rebase), the
    interpreter still imports the compiled old version. This fails then, and says what to do."""
    if not _compiled():
        pytest.skip("this build is pure Python: it always runs the source as it is")
    stale = []
    for source in sorted(PACKAGE.glob("*.py")):
        module = "reconciler.compile.openapi" + ("" if source.stem == "__init__" else f".{source.stem}")
        built = Path(_origin(module))
        if built.suffix == ".py" or built.stat().st_mtime < source.stat().st_mtime:
            stale.append(source.name)
    assert stale == [], (
        f"reconciler/compile/openapi/{', '.join(stale)} changed after the compiled build: build it again with "
        "`.venv/bin/pip install --no-deps --no-build-isolation -e .` (or RECONCILER_PURE_PYTHON=1 for the "
        "pure-Python package)"
    )


def test_no_compiled_module_is_committed() -> None:
    """A compiled module committed by mistake (an in-place build's shims, 6f84415) is imported before the .py
    beside it in every checkout, where the shared library it loads is missing: every import of the OpenAPI
    compiler failed there with ModuleNotFoundError. .gitignore keeps them out; this catches a forced add."""
    if shutil.which("git") is None or not (REPOSITORY / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "-C", str(REPOSITORY), "ls-files", "--", "*.so", "*.pyd", "*.dylib"],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=True,
    )
    assert listed.stdout.split() == [], "compiled modules are committed: git rm --cached them"


@pytest.mark.slow
def test_reconciler_pure_python_builds_a_package_with_no_compiled_module(tmp_path: Path) -> None:
    """The opt-out: RECONCILER_PURE_PYTHON=1 builds the pure-Python package (a wheel, from a copy of the
    repository's build files, with the setuptools of this environment: nothing is downloaded)."""
    source = _pure_copy(tmp_path / "source")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPOSITORY / name, source / name)
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."],
        cwd=source,
        env={**os.environ, "RECONCILER_PURE_PYTHON": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "building the pure-Python package (RECONCILER_PURE_PYTHON is set)" in completed.stderr
    (wheel,) = tmp_path.glob("reconciler-*.whl")
    assert "-py3-none-any.whl" in wheel.name  # a pure wheel: for any platform
    names = zipfile.ZipFile(wheel).namelist()
    assert "reconciler/compile/openapi/schemas.py" in names
    assert [name for name in names if name.endswith((".so", ".pyd"))] == []
