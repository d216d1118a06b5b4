"""`http://` to a host other than this machine carries the bearer token (every call) or the client secret (the
token request) in clear text: refused with the variable, the host and the opt-in named, before anything is sent;
loopback needs no opt-in, `RECONCILER_ALLOW_INSECURE_HTTP=1` allows a remote emulator on a trusted network."""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.api import resolve_target
from reconciler.emulator import RunningEmulator
from reconciler.errors import ConfigurationError

Start = Callable[..., RunningEmulator]
REMOTE = "http://192.0.2.10:8765"
"""A documentation address (RFC 5737): never this machine, never answers."""


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Every request any httpx client would send (none is: a refused setting must stop the command first)."""
    requests: list[httpx.Request] = []

    def refuse(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        requests.append(request)
        raise httpx.ConnectError("not sent in this test", request=request)

    monkeypatch.setattr(httpx.Client, "send", refuse)
    return requests


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"GENESYS_CLOUD_API_URL": REMOTE, "GENESYS_CLOUD_ACCESS_TOKEN": "very-secret-token"}, "GENESYS_CLOUD_API_URL"),
        (
            {
                "GENESYS_CLOUD_API_URL": REMOTE,
                "GENESYS_CLOUD_CLIENT_ID": "the-id",
                "GENESYS_CLOUD_CLIENT_SECRET": "very-secret-value",
            },
            "GENESYS_CLOUD_API_URL",
        ),
        (
            {
                "GENESYS_CLOUD_API_URL": "https://tools.example.test",
                "GENESYS_CLOUD_LOGIN_URL": REMOTE,
                "GENESYS_CLOUD_CLIENT_ID": "the-id",
                "GENESYS_CLOUD_CLIENT_SECRET": "very-secret-value",
            },
            "GENESYS_CLOUD_LOGIN_URL",
        ),
        (
            {
                "GENESYS_CLOUD_REGION": "eu-central-1",
                "GENESYS_CLOUD_LOGIN_URL": "http://sso.example.test/",
                "GENESYS_CLOUD_CLIENT_ID": "the-id",
                "GENESYS_CLOUD_CLIENT_SECRET": "very-secret-value",
            },
            "GENESYS_CLOUD_LOGIN_URL",
        ),
    ],
)
@pytest.mark.parametrize("command", [("plan",), ("chat", "-m", "hi")])
def test_plain_http_to_another_host_is_refused_before_anything_is_sent(
    repo: Path,
    run: Any,
    monkeypatch: pytest.MonkeyPatch,
    sent: list[httpx.Request],
    settings: dict[str, str],
    variable: str,
    command: tuple[str, ...],
) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    host = settings[variable].removeprefix("http://").rstrip("/")

    result = run(*command)

    assert result.code == 1, result.output
    assert f"{variable} is http:// to {host}, which is not this machine" in result.err
    assert "set RECONCILER_ALLOW_INSECURE_HTTP=1" in result.err
    assert "Traceback" not in result.output
    assert "very-secret" not in result.output
    assert sent == []


def test_loopback_needs_no_opt_in() -> None:
    for url in ("http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765", "http://127.9.9.9"):
        target = resolve_target({"GENESYS_CLOUD_API_URL": url, "GENESYS_CLOUD_ACCESS_TOKEN": "t"})
        assert target is not None and target.api_url == url


def test_the_opt_in_takes_1_and_not_0() -> None:
    settings = {"GENESYS_CLOUD_API_URL": REMOTE, "GENESYS_CLOUD_ACCESS_TOKEN": "t"}
    target = resolve_target({**settings, "RECONCILER_ALLOW_INSECURE_HTTP": "1"})
    assert target is not None and target.api_url == REMOTE
    for off in ("0", "", "no", "false"):
        with pytest.raises(ConfigurationError, match="RECONCILER_ALLOW_INSECURE_HTTP=1"):
            resolve_target({**settings, "RECONCILER_ALLOW_INSECURE_HTTP": off})


def test_the_opt_in_never_covers_a_genesys_cloud_host() -> None:
    """The org speaks https only: the opt-in is for a remote emulator, not for a slip when copying the org's URL."""
    with pytest.raises(ConfigurationError, match="must use https for a Genesys Cloud host"):
        resolve_target(
            {
                "GENESYS_CLOUD_API_URL": "http://api.mypurecloud.de",
                "GENESYS_CLOUD_ACCESS_TOKEN": "t",
                "RECONCILER_ALLOW_INSECURE_HTTP": "1",
            }
        )


def _address_of_this_machine() -> str | None:
    """This machine's address on its outgoing interface (a UDP connect sends nothing), if it has one."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))
        address: str = probe.getsockname()[0]
        return None if address.startswith("127.") or address == "0.0.0.0" else address
    return None


def test_a_remote_emulator_works_with_the_opt_in_and_is_refused_without(
    repo: Path, run: Any, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = _address_of_this_machine()
    if address is None:
        pytest.skip("this machine has no address other than loopback")
    running = start(host=address, client_id="remote-id", client_secret="remote-s3cret")
    url = f"http://{address}:{running.url.rsplit(':', 1)[1]}"
    for proxy in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", url)
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_ID", "remote-id")
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_SECRET", "remote-s3cret")

    refused = run("plan")
    assert refused.code == 1
    assert f"GENESYS_CLOUD_API_URL is http:// to {address}:" in refused.err
    assert running.tokens.issued == 0

    monkeypatch.setenv("RECONCILER_ALLOW_INSECURE_HTTP", "1")
    allowed = run("plan")
    assert allowed.code == 0, allowed.output
    assert allowed.err.splitlines()[0] == f"target: {url}"
    assert running.tokens.issued == 1
    assert "remote-s3cret" not in allowed.output


def test_the_line_a_remote_emulator_prints_works_as_printed(
    repo: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reconciler emulator --allow-remote` says which variables point the CLI at it: the opt-in among them."""
    address = _address_of_this_machine()
    if address is None:
        pytest.skip("this machine has no address other than loopback")
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--allow-remote", "--host", address],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = ""
        while "point the CLI at it: " not in line:
            ready, _, _ = select.select([process.stderr], [], [], 20)
            assert ready, "the emulator did not say how to reach it"
            line = process.stderr.readline()
            assert line, "the emulator ended before saying how to reach it"
        words = shlex.split(line.split("point the CLI at it: ", 1)[1])
        assert words[0] == "RECONCILER_ALLOW_INSECURE_HTTP=1"
        assert words[-2:] == ["reconciler", "plan"]
        for proxy in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
            monkeypatch.delenv(proxy, raising=False)
        for word in words[:-2]:
            monkeypatch.setenv(*word.split("=", 1))
        result = run("plan")
        assert result.code == 0, result.output
        assert result.err.splitlines()[0] == f"target: http://{address}:" + words[1].rsplit(":", 1)[1]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
