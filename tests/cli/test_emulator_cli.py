"""`reconciler emulator` as a process, and how commands pick their target (cli/target.open_client)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from reconciler.api import Credentials, RetryPolicy, Target, ToolsClient
from reconciler.cli import cli
from reconciler.cli.target import open_client
from reconciler.emulator import EmulatorConfig, Registry, run_emulator
from reconciler.errors import AuthenticationError, PermissionDeniedError

LISTENING = "reconciler emulator listening on "


def tool_input(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"Does {name}.",
        "schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        "executionEndpoint": f"https://tools.example.com/{name}",
    }


def names_in(state: Path) -> list[str]:
    registry = Registry(state)
    try:
        return [tool["name"] for tool in registry.all_tools()]
    finally:
        registry.close()


class EmulatorProcess:
    def __init__(self, cwd: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "emulator", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        assert ready, "the emulator did not announce itself"
        self.first_line = self.process.stdout.readline().rstrip("\n")
        assert self.first_line.startswith(LISTENING), self.first_line
        self.url = self.first_line.removeprefix(LISTENING)

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=20)
        return self.process.returncode, err


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[list[EmulatorProcess]]:
    started: list[EmulatorProcess] = []
    yield started
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.communicate(timeout=20)


def local(url: str, credentials: Credentials | None = None) -> ToolsClient:
    """A client of an emulator; `reconciler emulator` wants a bearer token even without --client-id."""
    credentials = credentials or Credentials(access_token="local")
    return ToolsClient(Target(url, url, url, credentials), retry=RetryPolicy(max_attempts=2, backoff_initial=0.01))


def test_the_emulator_process_serves_persists_and_stops_cleanly(
    tmp_path: Path, emulator_process: list[EmulatorProcess]
) -> None:
    state = tmp_path / "state" / "registry.db"
    first = EmulatorProcess(tmp_path, "--port", "0", "--state", str(state))
    emulator_process.append(first)
    assert first.url.startswith("http://127.0.0.1:")
    with local(first.url) as client:
        client.create_tool(tool_input("persisted"))
    code, err = first.stop()
    assert code == 0
    assert "Traceback" not in err
    assert names_in(state) == ["persisted"]

    second = EmulatorProcess(tmp_path, "--state", str(state), "--paging", "nexturi")
    emulator_process.append(second)
    with local(second.url) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["persisted"]
    assert second.stop()[0] == 0


def test_sigterm_as_soon_as_the_emulator_says_it_listens_stops_it_cleanly(tmp_path: Path) -> None:
    """A script that reads the listening line and stops the emulator at once: its handler is already in place.
    The emulator's stderr is a pipe the test has filled, so the emulator waits on its next line there, right
    after announcing itself (where the handler used to be installed only later: the signal killed it)."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write_end, b"x" * 65536)
    os.set_blocking(write_end, True)
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--port", "0"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=write_end,
        text=True,
    )
    os.close(write_end)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready and process.stdout.readline().startswith(LISTENING)
        process.send_signal(signal.SIGTERM)
        with os.fdopen(read_end, "rb") as stderr:  # let it say the rest, and end
            err = stderr.read().lstrip(b"x").decode()
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    assert code == 0, err
    assert "Traceback" not in err


def test_a_write_survives_the_emulator_process_being_killed(
    tmp_path: Path, emulator_process: list[EmulatorProcess]
) -> None:
    state = tmp_path / "registry.db"
    victim = EmulatorProcess(tmp_path, "--state", str(state))
    emulator_process.append(victim)
    with local(victim.url) as client:
        client.create_tool(tool_input("answered"))
    victim.process.kill()  # SIGKILL: no handler, no flush, no close
    victim.process.communicate(timeout=20)
    assert names_in(state) == ["answered"]


def test_two_emulators_on_one_state_file_see_each_others_writes(tmp_path: Path) -> None:
    state = tmp_path / "registry.db"
    with run_emulator(EmulatorConfig(state_file=state)) as one, run_emulator(EmulatorConfig(state_file=state)) as two:
        with local(one.url) as client:
            created = client.create_tool(tool_input("shared")).tool
        assert created is not None
        with local(two.url) as client:
            assert client.get_tool(created["id"]) == created
            client.update_tool(created["id"], tool_input("shared"), version=1)
        assert one.registry.get(created["id"])["version"] == 2  # type: ignore[index]


def test_the_emulator_process_requires_its_client_credentials(
    tmp_path: Path, emulator_process: list[EmulatorProcess]
) -> None:
    strict = EmulatorProcess(
        tmp_path, "--client-id", "ci-client", "--client-secret", "ci-secret", "--token-lifetime", "60"
    )
    emulator_process.append(strict)
    with local(strict.url, Credentials(client_id="ci-client", client_secret="ci-secret")) as client:
        assert client.list_tools() == []
    for wrong in (Credentials(client_id="ci-client", client_secret="nope"), Credentials(access_token="made-up")):
        with local(strict.url, wrong) as client, pytest.raises(AuthenticationError):
            client.list_tools()
    assert strict.stop()[0] == 0


def test_a_read_only_emulator_process_lists_and_refuses_writes(
    tmp_path: Path, emulator_process: list[EmulatorProcess]
) -> None:
    read_only = EmulatorProcess(tmp_path, "--read-only")
    emulator_process.append(read_only)
    with local(read_only.url) as client:
        assert client.list_tools() == []
        with pytest.raises(PermissionDeniedError, match="`ai:tool:write` scope"):
            client.create_tool(tool_input("refused"))
        assert client.list_tools() == []
    code, err = read_only.stop()
    assert code == 0
    assert "read only" in err


def test_a_busy_port_is_a_plain_error(run: Any) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("emulator", "--port", str(port))
    assert result.code == 1
    assert result.err.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in result.err


def test_client_id_needs_a_secret(run: Any) -> None:
    result = run("emulator", "--client-id", "x")
    assert result.code == 1
    assert "--client-id and --client-secret go together" in result.err


# -- targets ----------------------------------------------------------------------------------------------------


def test_without_credentials_commands_use_the_local_registry(tmp_path: Path) -> None:
    with open_client({}, tmp_path, debug=False) as (client, info):
        assert info.description == "local registry (.reconciler/registry.db)"
        assert info.is_local is True
        client.create_tool(tool_input("local_one"))
    assert names_in(tmp_path / ".reconciler" / "registry.db") == ["local_one"]
    assert (tmp_path / ".reconciler" / ".gitignore").read_text().endswith("*\n")
    with open_client({}, tmp_path, debug=False) as (client, _):
        assert [tool["name"] for tool in client.list_tools()] == ["local_one"]


def test_the_local_registry_of_an_earlier_version_is_migrated_once(tmp_path: Path) -> None:
    legacy = tmp_path / ".reconciler" / "registry.json"
    legacy.parent.mkdir()
    tool = {**tool_input("from_json"), "id": "kept-id", "version": 3}
    legacy.write_text(json.dumps({"format": 1, "tools": [tool]}))
    with open_client({}, tmp_path, debug=False) as (client, _):
        assert [(t["id"], t["version"]) for t in client.list_tools()] == [("kept-id", 3)]
        client.create_tool(tool_input("after"))
    assert not legacy.exists()
    assert json.loads((legacy.parent / "registry.json.migrated").read_text())["tools"] == [tool]
    assert names_in(tmp_path / ".reconciler" / "registry.db") == ["after", "from_json"]


def test_with_credentials_commands_name_the_region_and_never_the_secret(tmp_path: Path) -> None:
    environ = {
        "GENESYS_CLOUD_REGION": "eu-central-1",
        "GENESYS_CLOUD_CLIENT_ID": "id",
        "GENESYS_CLOUD_CLIENT_SECRET": "the-secret-value",
    }
    with open_client(environ, tmp_path, debug=False) as (client, info):  # no request is sent
        assert info.description == "region eu-central-1 (api.mypurecloud.de)"
        assert info.is_local is False
        assert client.target.api_url == "https://api.mypurecloud.de"
        assert "the-secret-value" not in repr(info) + repr(client) + repr(client.target)
    assert not (tmp_path / ".reconciler").exists()


def test_a_url_override_is_the_target_description(tmp_path: Path) -> None:
    with open_client(
        {"GENESYS_CLOUD_API_URL": "http://127.0.0.1:9", "GENESYS_CLOUD_ACCESS_TOKEN": "t"}, tmp_path, debug=False
    ) as (_, info):
        assert info.description == "http://127.0.0.1:9"


@click.command("probe-target")
def _probe() -> int:
    """Lists the tools of the configured target, the way plan and apply do."""
    with open_client(os.environ, Path.cwd(), debug=False, retry=RetryPolicy(max_attempts=2)) as (client, info):
        click.echo(f"target: {info.description}", err=True)
        click.echo(len(client.list_tools()))
    return 0


@pytest.fixture
def probe_command() -> Iterator[None]:
    cli.add_command(_probe)
    yield
    cli.commands.pop("probe-target", None)


def test_wrong_credentials_end_in_a_message_not_a_traceback(
    run: Any, repo: Path, monkeypatch: pytest.MonkeyPatch, probe_command: None
) -> None:
    with run_emulator(EmulatorConfig(client_id="ci-client", client_secret="right")) as running:
        monkeypatch.setenv("GENESYS_CLOUD_API_URL", running.url)
        monkeypatch.setenv("GENESYS_CLOUD_CLIENT_ID", "ci-client")
        monkeypatch.setenv("GENESYS_CLOUD_CLIENT_SECRET", "wrong-secret-value")
        result = run("probe-target")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0] == f"target: {running.url}"
    assert lines[1].startswith(f"error: {running.url.removeprefix('http://')} refused the credentials (401)")
    assert "check GENESYS_CLOUD_CLIENT_ID and GENESYS_CLOUD_CLIENT_SECRET" in lines[1]
    assert "Traceback" not in result.err
    assert "wrong-secret-value" not in result.output


def test_wrong_credentials_in_plan(run: Any, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with run_emulator(EmulatorConfig(client_id="ci-client", client_secret="right")) as running:
        monkeypatch.setenv("GENESYS_CLOUD_API_URL", running.url)
        monkeypatch.setenv("GENESYS_CLOUD_CLIENT_ID", "ci-client")
        monkeypatch.setenv("GENESYS_CLOUD_CLIENT_SECRET", "wrong-secret-value")
        result = run("plan")
    assert result.code == 1
    assert result.err.splitlines()[0] == f"target: {running.url}"
    assert "refused the credentials (401)" in result.err
    assert "GENESYS_CLOUD_CLIENT_SECRET" in result.err
    assert "Traceback" not in result.err
    assert "wrong-secret-value" not in result.output


def test_an_unknown_region_lists_the_regions(run: Any, monkeypatch: pytest.MonkeyPatch, probe_command: None) -> None:
    monkeypatch.setenv("GENESYS_CLOUD_REGION", "mars-north-1")
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
    result = run("probe-target")
    assert result.code == 1
    assert result.err.startswith(
        "error: GENESYS_CLOUD_REGION='mars-north-1' is not a Genesys Cloud region; use one of: "
    )
    assert "eu-central-1" in result.err


def test_the_emulator_says_how_to_point_the_cli_at_it(tmp_path: Path, emulator_process: list[EmulatorProcess]) -> None:
    running = EmulatorProcess(tmp_path)
    emulator_process.append(running)
    (tmp_path / ".git").mkdir()
    (tmp_path / "tools.d").mkdir()
    (tmp_path / "tools.d" / "a.yaml").write_text(
        "name: a\ndescription: Does a.\nendpoint: https://tools.example.com/a\n", encoding="utf-8"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYS", "NO_COLOR"))}
    # what the banner says to set, set
    environment.update(GENESYS_CLOUD_API_URL=running.url, GENESYS_CLOUD_ACCESS_TOKEN="local")
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "--detailed-exitcode"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"target: {running.url}")
    code, err = running.stop()
    assert code == 0
    assert (
        f"point the CLI at it: GENESYS_CLOUD_API_URL={running.url} GENESYS_CLOUD_ACCESS_TOKEN=local reconciler plan"
        in err
    )
    assert "any bearer token accepted" in err


def test_without_client_id_the_emulator_still_wants_a_token(
    tmp_path: Path, emulator_process: list[EmulatorProcess]
) -> None:
    running = EmulatorProcess(tmp_path)
    emulator_process.append(running)
    with local(running.url, Credentials(access_token="anything")) as client:
        assert client.list_tools() == []
    with (
        ToolsClient(Target(running.url, running.url, running.url, None)) as client,
        pytest.raises(AuthenticationError, match="Bearer token is required"),
    ):
        client.list_tools()
    assert running.stop()[0] == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "tools.example.com"])
def test_a_host_other_than_loopback_needs_allow_remote(run: Any, host: str) -> None:
    result = run("emulator", "--host", host)
    assert result.code == 1
    assert f"--host {host} is not a loopback address; pass --allow-remote" in result.err
    assert "listening" not in result.out


@pytest.mark.parametrize(
    ("text", "name"),
    [("user_id: USR-1\nsession_token: tok\n", "state.yaml"), ('{"user_id": "USR-1"}', "state.json")],
    ids=["conversation-state-yaml", "json-without-tools"],
)
def test_a_state_file_that_is_no_registry_is_left_alone_and_not_called_one_to_delete(
    run: Any, tmp_path: Path, text: str, name: str
) -> None:
    """`chat --state` takes a conversation state file; `emulator --state` a registry. Given the first by mistake,
    the emulator said "cannot read the registry state state.yaml: Expecting value…; fix or delete it", advising
    to delete the user's file. It says the file is no registry state, and to name a new file."""
    state = tmp_path / name
    state.write_text(text, encoding="utf-8")
    result = run("emulator", "--state", str(state))
    assert result.code == 1
    assert f"error: {state} is not a registry state" in result.err
    assert "give --state the name of a new file" in result.err
    assert "delete" not in result.err and "Traceback" not in result.err
    assert state.read_text(encoding="utf-8") == text
