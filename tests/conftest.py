from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from reconciler.cli import main
from reconciler.emulator import EmulatorConfig, RunningEmulator, run_emulator

# Property tests assert behaviour, never speed, and CI refuses a submission for one failing test. On a loaded
# 2-core machine one example can take longer than Hypothesis's 200 ms deadline, or its first draws longer than
# the too_slow health check allows: both failed the run, though nothing was wrong. The examples are drawn from a
# seed derived from each test, as Hypothesis's own `ci` profile does, so every run checks the same ones.
# HYPOTHESIS_PROFILE=explore draws new examples each run (.github/workflows/explore.yml, weekly), keeps failures in
# .hypothesis/ to replay them, and prints the `@reproduce_failure` line that replays one elsewhere.
settings.register_profile(
    "deterministic",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
    print_blob=True,
)
# explore's parent is Hypothesis's own default, named: with CI set (every CI system, the weekly workflow's
# runner too), Hypothesis makes its `ci` profile the default, which derandomizes and keeps no database.
settings.register_profile(
    "explore",
    parent=settings.get_profile("default"),
    derandomize=False,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

# A shell ignores Ctrl-C in what it starts in the background (`pytest &`, a CI agent's non-interactive shell), and
# an ignored signal stays ignored across exec: every command a test started then ignored the Ctrl-C the test sent
# it, as the commands mean to (a background job's Ctrl-C is not its own), and `_thread.interrupt_main` did
# nothing. The tests that press Ctrl-C need it heard as from a terminal: a handler, unlike SIG_IGN, is reset to
# the default when a child starts.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real org, whatever the developer's shell exports."""
    for name in list(os.environ):
        if name.startswith(("GENESYS_CLOUD_", "GENESYSCLOUD_", "TOOLS_BASE_URL", "RECONCILER_ALLOW_INSECURE_HTTP")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    # the suite runs in CI too, where plan, apply and export refuse the local registry unless it is asked for
    # (tests/e2e/test_ci_without_org.py takes this away)
    monkeypatch.setenv("RECONCILER_ALLOW_LOCAL_REGISTRY", "1")


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
