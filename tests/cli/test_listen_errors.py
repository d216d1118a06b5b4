"""`serve` and `emulator` that cannot listen say why: a host that is no name or no address here is not a port
that is taken, and the advice names the flag to change."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TOOL = "name: t\ndescription: T.\nendpoint: https://tools.example.com/t\n"


@pytest.fixture
def tools(repo: Path) -> Path:
    (repo / "tools.d" / "t.yaml").write_text(TOOL, encoding="utf-8")
    return repo


@pytest.mark.parametrize("command", [("serve", "--allow-unauthenticated"), ("emulator", "--allow-remote")])
def test_a_host_that_cannot_be_resolved_says_so_and_not_to_change_the_port(
    tools: Path, run: Callable[..., Any], command: tuple[str, ...]
) -> None:
    result = run(*command, "--host", "nosuchhost.invalid", "--port", "0")

    assert result.code == 1
    assert "cannot listen on nosuchhost.invalid:0: the host 'nosuchhost.invalid' cannot be resolved" in result.err
    assert "pass --host a name or address of this machine (127.0.0.1, or 0.0.0.0 for every one)" in result.err
    assert "--port" not in result.err.split("cannot be resolved", 1)[1]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [("serve", "--allow-unauthenticated"), ("emulator", "--allow-remote")])
def test_an_address_of_another_machine_says_it_is_not_this_machines(
    tools: Path, run: Callable[..., Any], command: tuple[str, ...]
) -> None:
    result = run(*command, "--host", "192.0.2.1", "--port", "0")  # TEST-NET-1: never an address of ours

    assert result.code == 1
    assert "cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine" in result.err
    assert "choose another --port" not in result.err


@pytest.mark.parametrize("command", [("serve",), ("emulator",)])
def test_a_port_in_use_still_says_to_choose_another_port(
    tools: Path, run: Callable[..., Any], command: tuple[str, ...]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run(*command, "--host", "127.0.0.1", "--port", str(port))

    assert result.code == 1
    assert f"cannot listen on 127.0.0.1:{port}:" in result.err
    assert "choose another --port" in result.err
