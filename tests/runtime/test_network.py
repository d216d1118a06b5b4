"""The upstream pools behind a corporate proxy and CA, over real loopback: a SOCKS5 proxy named by ALL_PROXY is
used (not gone around, nor a failure of every call), a proxy scheme nothing here speaks stops the start naming
its variable, and the certificate authorities trusted are SSL_CERT_FILE's or the system store's, not certifi's
alone."""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reconciler import network
from reconciler.model import SourceLocation, Tool
from reconciler.runtime import Invocation, Outcome, Runtime
from tests.runtime.conftest import Upstream

SCHEMA = {"type": "object", "properties": {"sku": {"type": "string"}}}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    network._context.cache_clear()
    yield
    network._context.cache_clear()


def call(endpoint: str) -> Outcome:
    tool = Tool("check", "d", endpoint, SCHEMA, SourceLocation("t.yaml"))

    async def go() -> Outcome:
        async with Runtime([tool]) as runtime:
            return await runtime.invoke(Invocation("check", {"sku": "A"}))

    return asyncio.run(go())


class Socks5:
    """A SOCKS5 proxy (no authentication, CONNECT only) that records where it was asked to connect."""

    def __init__(self) -> None:
        self.targets: list[tuple[str, int]] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"socks5://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            _, methods = client.recv(2)
            client.recv(methods)
            client.sendall(b"\x05\x00")
            kind = client.recv(4)[3]  # version, command (CONNECT), reserved, address type
            host = socket.inet_ntoa(client.recv(4)) if kind == 1 else client.recv(client.recv(1)[0]).decode()
            (port,) = struct.unpack("!H", client.recv(2))
            self.targets.append((host, port))
            upstream = socket.create_connection((host, port))
            client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", 0))
            with upstream:
                pair = {client: upstream, upstream: client}
                while True:
                    ready, _, _ = select.select(list(pair), [], [], 10)
                    if not ready:
                        return
                    for side in ready:
                        data = side.recv(65536)
                        if not data:
                            return
                        pair[side].sendall(data)

    def close(self) -> None:
        self.server.close()


@pytest.mark.parametrize("variable", ["ALL_PROXY", "http_proxy"])
def test_a_socks5_proxy_the_environment_names_carries_every_call(
    upstream: Upstream, each_client: str, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # http1 and aiohttp went around it (straight to the upstream: past a corporate egress rule), httpx failed
    # every call for want of socksio
    proxy = Socks5()
    try:
        monkeypatch.setenv(variable, proxy.url)
        outcome = call(upstream.url + "/check")
    finally:
        proxy.close()
    assert (outcome.status, outcome.output) == ("success", {"ok": True}), outcome
    assert proxy.targets == [("127.0.0.1", int(upstream.url.rsplit(":", 1)[1]))]
    assert len(upstream.received) == 1


def test_a_proxy_scheme_nothing_here_speaks_is_refused_by_its_variable_without_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reconciler.errors import ConfigurationError

    monkeypatch.setenv("all_proxy", "socks4://corp:hunter2@proxy.example:1080")
    with pytest.raises(ConfigurationError) as refused:
        Runtime([Tool("check", "d", "https://tools.example/check", SCHEMA, SourceLocation("t.yaml"))])
    message = str(refused.value)
    assert message.startswith("all_proxy names a socks4:// proxy, which reconciler cannot speak")
    assert "hunter2" not in message and "proxy.example" not in message


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate for 127.0.0.1: the corporate CA no public bundle holds."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("ca")
    files = ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", *files],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return folder


@pytest.fixture
def https_upstream(certificate: Path) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "13")
            self.end_headers()
            self.wfile.write(b'{"tls": true}')

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # a refused handshake
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_cas_of_ssl_cert_file_are_trusted_and_no_others(
    https_upstream: str, certificate: Path, each_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert call(https_upstream + "/check").error_code == "UPSTREAM_ERROR"  # not a CA anyone trusts
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate / "cert.pem"))
    network._context.cache_clear()
    outcome = call(https_upstream + "/check")
    assert (outcome.status, outcome.output) == ("success", {"tls": True}), outcome


def test_a_ca_the_system_store_holds_is_trusted(
    https_upstream: str, certificate: Path, each_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where an administrator adds the corporate CA (update-ca-certificates; the Keychain and the Windows store
    # through truststore): the httpx pool trusted certifi's bundle only. Stood in for by OpenSSL's default paths.
    if sys.platform in ("darwin", "win32"):
        pytest.skip("the system store is truststore's there")
    cafile = str(certificate / "cert.pem")

    def system_store(context: ssl.SSLContext) -> None:
        context.load_verify_locations(cafile=cafile)

    monkeypatch.setattr(ssl.SSLContext, "set_default_verify_paths", system_store)
    outcome = call(https_upstream + "/check")
    assert (outcome.status, outcome.output) == ("success", {"tls": True}), outcome


def test_an_ssl_cert_file_that_is_not_there_stops_the_start_naming_it(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "tools.d" / "t.yaml").write_text(
        "name: check\ndescription: Checks.\nendpoint: https://tools.example/check\nparameters:\n  sku: {type: string}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "serve", "--port", "0"],
        check=False,
        cwd=repo,
        env={**os.environ, "SSL_CERT_FILE": str(tmp_path / "corp-ca.pem")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"error: SSL_CERT_FILE={tmp_path / 'corp-ca.pem'}: no such file; name the certificate authorities to trust "
        "(PEM), or unset SSL_CERT_FILE to trust the system's\n"
    )


def test_plan_against_an_org_says_which_proxy_variable_it_cannot_speak(
    repo: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Genesys Cloud client reads the same variables: httpx's ValueError ended plan as "internal error"
    (repo / "tools.d" / "t.yaml").write_text(
        "name: check\ndescription: Checks.\nendpoint: https://tools.example/check\nparameters:\n  sku: {type: string}\n"
    )
    monkeypatch.setenv("GENESYS_CLOUD_API_URL", "https://api.example.invalid")
    monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "t")
    monkeypatch.setenv("HTTPS_PROXY", "socks4://corp:hunter2@proxy.example:1080")
    result = run("plan")
    assert result.code == 1
    assert result.err.startswith("error: HTTPS_PROXY names a socks4:// proxy, which reconciler cannot speak")
    assert "hunter2" not in result.output and "Traceback" not in result.output
