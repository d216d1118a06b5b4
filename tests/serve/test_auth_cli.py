"""`reconciler serve` and its caller secret as a user runs it: the secret comes from RECONCILER_SERVE_TOKEN, a
non-loopback --host without one is refused unless --allow-unauthenticated says so, and the secret is printed
nowhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler.serve.auth import FILE_VARIABLE, SECRET_VARIABLE
from tests.conftest import Run

SECRET = "s3cr3t-caller-token-0123456789abcdef"
TOOL = (
    "name: check\ndescription: Checks.\nendpoint: https://tools.example.com/check\nparameters:\n  sku: {type: string}\n"
)
HANDLERS = "async def check(arguments):\n    return {'handled': arguments['sku']}\nTOOLS = {'check': check}\n"


def start(repo: Path, *args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "serve", "--port", "0", *args],
        cwd=repo,
        env={**{k: v for k, v in os.environ.items() if k not in (SECRET_VARIABLE, FILE_VARIABLE)}, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("reconciler serve listening on http://"), line + process.stderr.read()
    return process, "http://127.0.0.1:" + line.rsplit(":", 1)[1].strip()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
def test_a_non_loopback_host_without_a_secret_is_refused_before_anything_is_bound(
    repo: Path, run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    monkeypatch.delenv(FILE_VARIABLE, raising=False)
    (repo / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")

    result = run("serve", "--host", host, "--port", "0")

    assert result.code == 1
    assert result.out == ""
    assert f"--host {host}: set {SECRET_VARIABLE}" in result.err
    assert "--allow-unauthenticated" in result.err
    assert "Traceback" not in result.err


def test_a_secret_too_short_is_refused_naming_the_variable_and_not_the_value(
    repo: Path, run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, "hunter2hunter")
    (repo / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")

    result = run("serve", "--port", "0")

    assert result.code == 1
    assert f"{SECRET_VARIABLE} is shorter than 16 characters" in result.err
    assert "hunter2hunter" not in result.output and "Traceback" not in result.err


def test_with_the_secret_any_host_serves_only_callers_that_present_it(repo: Path) -> None:
    (repo / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")
    (repo / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    process, url = start(repo, "--host", "0.0.0.0", "--app", "handlers:TOOLS", env={SECRET_VARIABLE: SECRET})
    try:
        refused = httpx.post(url + "/tools/check", json={"parameters": {"sku": "x"}})
        served = httpx.post(
            url + "/tools/check", json={"parameters": {"sku": "x"}}, headers={"Authorization": f"Bearer {SECRET}"}
        )
        ready = httpx.get(url + "/readyz")
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        process.kill()
        out, err = process.communicate()
    assert refused.status_code == 401
    assert served.json()["output"] == {"handled": "x"}
    assert ready.status_code == 200
    assert "does not authenticate" not in err
    assert "callers must present the caller secret (1 accepted)" in err
    assert SECRET not in out + err


def test_allow_unauthenticated_starts_on_any_host_and_says_what_it_means(repo: Path) -> None:
    (repo / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")
    process, url = start(repo, "--host", "0.0.0.0", "--allow-unauthenticated", env={})
    try:
        listed = httpx.get(url + "/api/v1/tools/registry")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert listed.status_code == 200
    assert "does not authenticate its callers (--allow-unauthenticated)" in err


def test_the_secret_can_come_from_a_file_as_docker_and_kubernetes_mount_it(repo: Path, tmp_path: Path) -> None:
    (repo / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")
    (repo / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    secret_file = tmp_path / "serve-token"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")  # as `echo` and editors write it
    process, url = start(repo, "--app", "handlers:TOOLS", env={FILE_VARIABLE: str(secret_file)})
    try:
        refused = httpx.post(url + "/tools/check", json={"parameters": {"sku": "x"}})
        served = httpx.post(
            url + "/tools/check", json={"parameters": {"sku": "x"}}, headers={"Authorization": f"Bearer {SECRET}"}
        )
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert (refused.status_code, served.status_code) == (401, 200)
    assert SECRET not in out + err


@pytest.mark.parametrize(
    ("setup", "said"),
    [
        ("missing", "cannot be read: No such file or directory"),
        ("empty", "is empty: write the secret into it"),
        ("both", f"{SECRET_VARIABLE} and {FILE_VARIABLE} are both set: keep one"),
        ("short", "is shorter than 16 characters"),
    ],
)
def test_a_secret_file_that_gives_no_usable_secret_stops_the_start_and_is_never_served_open(
    repo: Path, tmp_path: Path, run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, setup: str, said: str
) -> None:
    (repo / "tools.d" / "a.yaml").write_text(TOOL, encoding="utf-8")
    secret_file = tmp_path / "serve-token"
    if setup != "missing":
        secret_file.write_text({"empty": "\n", "short": "hunter2hunter\n"}.get(setup, SECRET), encoding="utf-8")
    monkeypatch.setenv(FILE_VARIABLE, str(secret_file))
    if setup == "both":
        monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    else:
        monkeypatch.delenv(SECRET_VARIABLE, raising=False)

    result = run("serve", "--port", "0")  # loopback: with no secret meant, it would serve open

    assert result.code == 1 and result.out == ""
    assert said in result.err and FILE_VARIABLE in result.err
    assert SECRET not in result.err and "hunter2hunter" not in result.err and "Traceback" not in result.err
