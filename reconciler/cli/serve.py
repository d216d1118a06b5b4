"""`reconciler serve [DIR]`: the tool service (DESIGN §9) in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from reconciler.cli.common import directory_argument, load_desired
from reconciler.cli.emulator import is_loopback, listen_failure
from reconciler.cli.output import Output
from reconciler.errors import ConfigurationError, InputError
from reconciler.words import counted

# Into the environment that runs this reconciler: there pip takes the installed one and adds its extra; in an
# empty one, the name `reconciler` on PyPI is another project.
INSTALL_HINT = f"reconciler serve needs the serve extra: {sys.executable} -m pip install 'reconciler[serve]'"


@click.command("serve")
@directory_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0 picks a free port.")
@click.option(
    "--audit-log",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append one JSON line per invocation to this file (no parameter values, only their SHA-256).",
)
@click.option("--app", "app_spec", default=None, help="module:object mapping tool names to Python handlers.")
@click.option(
    "--drain-seconds",
    type=click.FloatRange(0, 600),
    default=0,
    show_default=True,
    help="After SIGTERM, keep answering this long with /readyz at 503, then stop accepting.",
)
@click.option(
    "--allow-unauthenticated",
    is_flag=True,
    help="Serve callers without the secret on a non-loopback --host (only behind a proxy that authenticates them).",
)
@click.pass_obj
def serve_command(
    output: Output,
    directory: Path,
    host: str,
    port: int,
    audit_log: Path | None,
    app_spec: str | None,
    drain_seconds: float,
    allow_unauthenticated: bool,
) -> int:
    """Serve every tool of DIR at POST /tools/{name}, with metrics, an audit log and a registry listing.

    Callers present the secret in RECONCILER_SERVE_TOKEN, or in the file RECONCILER_SERVE_TOKEN_FILE names
    (Authorization: Bearer, or Basic with it as the password); without one, only loopback is served, unless
    --allow-unauthenticated.

    \b
    Examples:
      reconciler serve --port 8080 --audit-log audit.jsonl
      reconciler serve --app handlers:TOOLS     # tools answered by Python functions
      RECONCILER_SERVE_TOKEN_FILE=/run/secrets/serve reconciler serve --host 0.0.0.0   # callers need the secret
    """
    try:
        from reconciler.runtime import Runtime
        from reconciler.serve import AuditLog, Service, bind, load_handlers, serve
        from reconciler.serve.auth import FILE_VARIABLE, SECRET_VARIABLE, caller_auth
    except ImportError as exc:
        raise ConfigurationError(f"{INSTALL_HINT} ({exc.name} is missing)") from None
    auth = caller_auth(os.environ)
    if auth is not None:
        output.redactor.add(*(secret.decode() for secret in auth.secrets))
    if auth is None and not is_loopback(host) and not allow_unauthenticated:
        # The unsafe thing is said, not defaulted to (as the emulator's --allow-remote): every tool, with the
        # upstream credentials the service holds, for whoever reaches the port.
        raise ConfigurationError(
            f"--host {host}: set {SECRET_VARIABLE} (or {FILE_VARIABLE}) to the secret callers must present, or, "
            "only behind a proxy that authenticates them, pass --allow-unauthenticated; without either, whoever "
            "reaches the port calls every tool with the upstream credentials it holds"
        )
    from reconciler.validate import check_serve

    state = load_desired(directory)
    problems = check_serve(state.tools)
    if problems:
        raise InputError([*problems, *state.warnings])
    tools = {tool.name: tool for tool in state.tools}
    handlers = load_handlers(app_spec, set(tools)) if app_spec else {}
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise ConfigurationError(listen_failure(host, port, exc)) from exc
    service = Service(Runtime(tools, handlers=handlers), AuditLog(audit_log), auth=auth)

    def announce(url: str) -> None:
        click.echo(f"reconciler serve listening on {url}")
        sys.stdout.flush()
        forwarded = sum(1 for t in tools.values() if t.name not in handlers and t.request is None)
        output.info(
            f"{counted(len(tools), 'tool')} ({len(handlers)} with handlers, {forwarded} forwarded to their endpoint); "
            "SIGTERM or Ctrl-C stops after in-flight calls finish"
        )
        if auth is not None:
            output.info(
                f"callers must present the caller secret ({len(auth.secrets)} accepted); /healthz, "
                "/readyz and /metrics answer without it"
            )
        if auth is None and not is_loopback(host):
            output.info(
                f"warning: the tool service does not authenticate its callers (--allow-unauthenticated): whoever "
                f"reaches {host} can call every tool, with any user_id and conversation state (which context "
                "parameters trust); let only the gateway reach it (a private network, a sidecar, or a proxy that "
                f"authenticates), or set {SECRET_VARIABLE}"
            )

    try:
        serve(service, sock, announce, drain_seconds)
    finally:
        sock.close()
    return 0


__all__ = ["INSTALL_HINT", "serve_command"]
