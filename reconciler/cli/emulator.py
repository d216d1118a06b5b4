"""`reconciler emulator`: serve the local Tools API in the foreground until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import errno
import ipaddress
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from reconciler.api.target import ACCESS_TOKEN_VARIABLES, API_URL_VARIABLE, INSECURE_HTTP_VARIABLE
from reconciler.cli.output import Output
from reconciler.errors import ConfigurationError

if TYPE_CHECKING:
    from reconciler.emulator import EmulatorServer

PROBABILITY = click.FloatRange(0.0, 1.0)
PASSWORD_VARIABLE = "RECONCILER_EMULATOR_INTEGRATION_PASSWORD"
"""The password of `--integration-user`: from the environment only."""


def listen_failure(host: str, port: int, exc: OSError) -> str:
    """Why `serve` or `emulator` cannot listen, and which flag to change: a host that is no name, or no address
    of this machine, is not fixed by another port."""
    where = f"cannot listen on {host}:{port}"
    if isinstance(exc, socket.gaierror):
        return (
            f"{where}: the host {host!r} cannot be resolved ({exc.strerror or exc}); pass --host a name or address "
            "of this machine (127.0.0.1, or 0.0.0.0 for every one)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{where}: {host} is not an address of this machine; pass --host one of its addresses (127.0.0.1, or "
            "0.0.0.0 for every one)"
        )
    return f"{where}: {exc.strerror or exc}; choose another --port"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command("emulator")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on; loopback unless --allow-remote."
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host that is not loopback: the emulator has no TLS, and other machines could reach it (the CLI"
    " there needs RECONCILER_ALLOW_INSECURE_HTTP=1).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Persist the registry in this SQLite file (shared with other processes; an old JSON state is migrated)."
    " Default: in memory.",
)
@click.option("--rate-limit", type=click.IntRange(min=1), default=None, help="Requests per second; 429 beyond.")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, help="Milliseconds added to every request.")
@click.option("--fault-429", type=PROBABILITY, default=0.0, help="Probability of an injected 429.")
@click.option("--fault-5xx", type=PROBABILITY, default=0.0, help="Probability of an injected 502/503/504.")
@click.option(
    "--fault-drop-after-commit",
    type=PROBABILITY,
    default=0.0,
    help="Probability that a write is committed and its answer lost (connection closed).",
)
@click.option(
    "--paging",
    type=click.Choice(["token", "nexturi"]),
    default="token",
    show_default=True,
    help="How list pages link on: a next_page_token, or a nextUri with pageNumber (both are in the wild).",
)
@click.option("--client-id", default=None, help="Require this OAuth client at /oauth/token.")
@click.option(
    "--client-secret",
    default=None,
    envvar="RECONCILER_EMULATOR_CLIENT_SECRET",
    help="The client's secret (or RECONCILER_EMULATOR_CLIENT_SECRET).",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Grant only the ai:tool:read scope: every write is answered 403, as for a pull-request job's client.",
)
@click.option("--token-lifetime", type=click.FloatRange(min=1), default=86400.0, show_default=True, help="Seconds.")
@click.option("--seed", type=int, default=None, help="Seed for the fault dice.")
@click.option(
    "--integration",
    "integrations",
    multiple=True,
    metavar="NAME",
    help="A Web Services Data Actions integration to serve (repeatable), for `target: data-actions`.",
)
@click.option(
    "--integration-user",
    metavar="USER",
    default=None,
    help=f"Give each --integration Basic Auth credentials: this user name, the password from {PASSWORD_VARIABLE} "
    "(sent with every request its actions make, as the platform does; e.g. to a `reconciler serve`).",
)
@click.pass_obj
def emulator(
    output: Output,
    host: str,
    allow_remote: bool,
    port: int,
    state: Path | None,
    rate_limit: int | None,
    latency: float,
    fault_429: float,
    fault_5xx: float,
    fault_drop_after_commit: float,
    paging: str,
    client_id: str | None,
    client_secret: str | None,
    read_only: bool,
    token_lifetime: float,
    seed: int | None,
    integrations: tuple[str, ...],
    integration_user: str | None,
) -> int:
    """Serve the Tools API contract locally: auth, paging, errors, rate limits and injected faults.

    \b
    Examples:
      reconciler emulator --port 8765           # prints the line that points the CLI at it
      reconciler emulator --read-only           # every write answered 403, as for a read-only client
      reconciler emulator --fault-429 0.2 --seed 7
    """
    from reconciler.emulator import EmulatorConfig, create_server
    from reconciler.emulator.config import READ_SCOPE, WRITE_SCOPE

    if (client_id is None) != (client_secret is None):
        raise click.UsageError("--client-id and --client-secret go together")
    basic_auth = _basic_auth(integration_user, integrations)
    if not allow_remote and not is_loopback(host):
        raise click.UsageError(
            f"--host {host} is not a loopback address; pass --allow-remote to listen where other machines can "
            "reach it (no TLS), or use --host 127.0.0.1"
        )
    config = EmulatorConfig(
        host=host,
        port=port,
        state_file=state,
        rate_limit=rate_limit,
        latency_ms=latency,
        fault_429=fault_429,
        fault_5xx=fault_5xx,
        fault_drop_after_commit=fault_drop_after_commit,
        paging="nexturi" if paging == "nexturi" else "token",
        client_id=client_id,
        client_secret=client_secret,
        require_token=True,
        token_lifetime=token_lifetime,
        scopes=(READ_SCOPE,) if read_only else (READ_SCOPE, WRITE_SCOPE),
        seed=seed,
    )
    try:
        server = create_server(config)
    except OSError as exc:
        raise ConfigurationError(listen_failure(host, port, exc)) from exc
    for name in integrations:
        server.actions.add_integration(name, basic_auth=basic_auth)
        if basic_auth is not None:
            output.info(f"integration {name!r}: Basic Auth user {basic_auth[0]!r}, password from {PASSWORD_VARIABLE}")
    # SIGTERM stops it cleanly from the moment it says it listens: a script that reads that line and stops it at
    # once got the default action (killed by the signal) while the handler was not yet in place
    previous = (
        signal.signal(signal.SIGTERM, _interrupt) if threading.current_thread() is threading.main_thread() else None
    )
    try:
        _announce_and_serve(
            server, output, state=state, read_only=read_only, host=host, client_id=client_id, strict=config.strict_auth
        )
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _basic_auth(user: str | None, integrations: tuple[str, ...]) -> tuple[str, str] | None:
    """`--integration-user` and the password from the environment (never a command-line argument, which every
    user of the machine can read), or None without it."""
    if user is None:
        return None
    if not integrations:
        raise ConfigurationError("--integration-user gives the credentials of each --integration; name one too")
    password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        raise ConfigurationError(
            f"--integration-user needs the password in {PASSWORD_VARIABLE} (for a `reconciler serve`, its caller "
            "secret: docs/serve.md)"
        )
    return user, password


def _announce_and_serve(
    server: EmulatorServer,
    output: Output,
    *,
    state: Path | None,
    read_only: bool,
    host: str,
    client_id: str | None,
    strict: bool,
) -> None:
    click.echo(f"reconciler emulator listening on {server.url}")
    sys.stdout.flush()
    where = f"state {state}" if state else "state in memory"
    if strict:
        auth = "client credentials required"
        use = f"{API_URL_VARIABLE}={server.url} GENESYS_CLOUD_CLIENT_ID={client_id} GENESYS_CLOUD_CLIENT_SECRET=…"
    else:
        auth = "any bearer token accepted"
        use = f"{API_URL_VARIABLE}={server.url} {ACCESS_TOKEN_VARIABLES[0]}=local"
    if read_only:
        auth += ", read only"
    if not is_loopback(host):  # the CLI refuses http:// to another host without it (the token is sent in clear)
        use = f"{INSECURE_HTTP_VARIABLE}=1 {use}"
    output.info(f"point the CLI at it: {use} reconciler plan")
    output.info(f"{where}; {auth}; Ctrl-C stops")
    server.serve_forever(poll_interval=0.2)


__all__ = ["emulator"]
