from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real org, whatever the developer's shell exports."""
    for name in list(os.environ):
        if name.startswith(("GENESYS_CLOUD_", "GENESYSCLOUD_", "TOOLS_BASE_URL", "RECONCILER_ALLOW_INSECURE_HTTP")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def start() -> Iterator[Callable[..., RunningEmulator]]:
    """Starts loopback emulators (port 0, settings as EmulatorConfig's) that stop at the end of the test."""
    with contextlib.ExitStack() as stack:

        def _start(**settings: Any) -> RunningEmulator:
            return stack.enter_context(run_emulator(EmulatorConfig(**settings)))

        yield _start


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty repository with a tools.d/, as the current directory."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "tools.d").mkdir()
    monkeypatch.chdir(tmp_path)
    yield tmp_path


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def output(self) -> str:
        return self.out + self.err


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def _run(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return _run
