"""Every sensitive value in play stays out of every output: values only the registry holds, diagnostics that
quote them, servers that echo them back, short values in export, and a property over random secrets.

Each case is run as a user meets it: the real CLI (`main`) against the local registry or a loopback server.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.redaction import encodings

Run = Callable[..., Any]
KEY = "pk_live_Abc123SensitiveValue"
CONFIG = "sensitive_variables: [PARTNER_KEY]\n"


def _partner(endpoint: str = "https://partner.example.com/lookup?key=${PARTNER_KEY}") -> str:
    return f"name: partner\ndescription: Looks up a partner.\nendpoint: {endpoint}\n"


OTHER = "name: other\ndescription: Something else.\nendpoint: https://other.example.com/x\n"


def _assert_hidden(secret: str, *texts: str) -> None:
    for text in texts:
        for form in encodings(secret):
            assert form not in text, f"{form!r} leaked in:\n{text}"


@pytest.fixture
def partner_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (repo / "reconciler.yaml").write_text(CONFIG, encoding="utf-8")
    (repo / "tools.d" / "partner.yaml").write_text(_partner(), encoding="utf-8")
    (repo / "tools.d" / "other.yaml").write_text(OTHER, encoding="utf-8")
    monkeypatch.setenv("PARTNER_KEY", KEY)
    return repo


@pytest.mark.parametrize("key_still_set", [True, False], ids=["variable-set", "variable-gone"])
def test_a_pruned_tool_shows_its_key_in_no_plan_form_nor_in_the_saved_plan(
    partner_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, key_still_set: bool
) -> None:
    assert run("apply", "--auto-approve").code == 0
    (partner_repo / "tools.d" / "partner.yaml").unlink()  # the tool leaves tools.d: nothing reads PARTNER_KEY now
    if not key_still_set:  # the secret is only in the registry
        monkeypatch.delenv("PARTNER_KEY")
    shown = [run("plan", "--format", form) for form in ("text", "json", "markdown")]
    saved = run("plan", "--out", "plan.json")

    assert all(result.code == 0 for result in [*shown, saved])
    document = json.loads(shown[1].out)
    [change] = document["changes"]
    assert change["action"] == "delete"
    assert change["before"]["executionEndpoint"] == "https://partner.example.com/lookup?key=(sensitive)"
    plan_file = (partner_repo / "plan.json").read_text()
    _assert_hidden(KEY, *(r.output for r in shown), saved.output, plan_file)
    applied = run("apply", "plan.json", "--allow-mass-delete")
    assert applied.code == 0, applied.output
    _assert_hidden(KEY, applied.output)


@pytest.mark.parametrize(
    "argv",
    [
        ["validate"],
        ["validate", "--format", "json"],
        ["validate", "--format", "github"],
        ["--debug", "validate"],
        ["render"],
        ["plan"],
        ["plan", "--format", "json"],
        ["apply", "--auto-approve"],
        ["--debug", "apply", "--auto-approve"],
    ],
)
def test_a_diagnostic_that_quotes_an_invalid_endpoint_hides_the_key(
    partner_repo: Path, run: Run, argv: list[str]
) -> None:
    (partner_repo / "tools.d" / "partner.yaml").write_text(_partner("http://host/x?key=${PARTNER_KEY}"))

    result = run(*argv)

    assert result.code == 1
    assert "tools.d/partner.yaml" in result.output
    assert "http://host/x?key=(sensitive)" in result.output
    _assert_hidden(KEY, result.output)


class _EchoingServer(BaseHTTPRequestHandler):
    """A Tools API that lists nothing and answers every write 422, quoting the payload in its message."""

    def do_GET(self) -> None:
        self._answer(200, {"entities": [], "next_page_token": None})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        self._answer(422, {"message": f"invalid tool: {body}", "code": "bad.request", "status": 422})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _echoing_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "debug"])
def test_a_server_echoing_the_payload_in_a_422_leaks_nothing(
    partner_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, debug: list[str]
) -> None:
    (partner_repo / "tools.d" / "other.yaml").unlink()
    with _echoing_server() as url:
        monkeypatch.setenv("GENESYS_CLOUD_API_URL", url)
        monkeypatch.setenv("GENESYS_CLOUD_ACCESS_TOKEN", "static-token-value-1234")
        result = run(*debug, "apply", "--auto-approve", "--audit-log", "audit.jsonl")

    assert result.code == 1
    assert "rejected tool 'partner' (422): invalid tool:" in result.err
    assert "key=(sensitive)" in result.err
    audit = (partner_repo / "audit.jsonl").read_text()
    assert "(422)" in audit
    _assert_hidden(KEY, result.output, audit)
    _assert_hidden("static-token-value-1234", result.output, audit)


def _export(run: Run, repo: Path) -> tuple[Any, dict[str, str]]:
    result = run("export", "--out", "exported", "--force")
    files = {p.name: p.read_text() for p in (repo / "exported").iterdir()} if (repo / "exported").is_dir() else {}
    return result, files


@pytest.mark.parametrize("value", ["x7", "ab1", "q=1&z", "pk_live"])
def test_export_names_a_short_sensitive_value_by_its_variable_and_plan_reads_it_back(
    partner_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PARTNER_KEY", value)
    assert run("apply", "--auto-approve").code == 0

    result, files = _export(run, partner_repo)

    assert result.code == 0, result.output
    assert "${PARTNER_KEY}" in files["partner.yaml"]
    _assert_hidden(value, result.output, files["partner.yaml"].split("\n", 1)[1])
    for name in list((partner_repo / "tools.d").iterdir()):
        name.unlink()
    for name, text in files.items():
        (partner_repo / "tools.d" / name).write_text(text)
    again = run("plan", "--detailed-exitcode")
    assert again.code == 0, again.output  # the round trip is exact: ${PARTNER_KEY} loads back as the value


def test_export_refuses_a_sensitive_value_that_only_a_name_or_number_could_hold(
    partner_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    (partner_repo / "tools.d" / "other.yaml").write_text(
        OTHER + "parameters:\n  q: {type: string, description: Query}\n"
    )
    assert run("apply", "--auto-approve").code == 0
    monkeypatch.setenv("PARTNER_KEY", "q")  # the value now also names a parameter

    result, files = _export(run, partner_repo)

    assert result.code == 1
    assert "PARTNER_KEY occurs in a name the tool defines" in result.err
    assert files == {}


def test_export_gives_a_credential_only_the_registry_holds_a_variable_of_its_own(
    partner_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("apply", "--auto-approve").code == 0
    monkeypatch.delenv("PARTNER_KEY")

    result, files = _export(run, partner_repo)

    assert result.code == 0
    assert "lookup?key=${PARTNER_SECRET}" in files["partner.yaml"]
    assert "${PARTNER_SECRET}" in result.err
    _assert_hidden(KEY, result.output, *files.values())
    monkeypatch.setenv("PARTNER_SECRET", KEY)
    (partner_repo / "tools.d" / "partner.yaml").write_text(files["partner.yaml"])
    assert run("plan", "--detailed-exitcode").code == 0


# -- the law: any sensitive value, anywhere in tools.d or the registry, appears in no output of any command --

# Hypothesis also draws strings from the constants of the code under test ("format_ver" of "format_version"):
# a value that is our own program's or this fixture's text cannot be told apart from it in any output, and no
# real secret is one, so such values are left out.
_OWN_TEXT = "\n".join(
    path.read_text(encoding="utf-8")
    for path in [*Path(__file__).parents[2].joinpath("reconciler").rglob("*.py"), Path(__file__)]
)
SECRETS = (
    st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S"), exclude_characters="\x85"),
        min_size=10,
        max_size=24,
    )
    .filter(lambda s: sum(c.isalnum() for c in s) >= 6)
    .filter(lambda s: s not in _OWN_TEXT)
)
PLACES = st.sampled_from(["endpoint-query", "description", "label", "endpoint-userinfo", "pruned"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(listed=SECRETS, named=SECRETS, place=PLACES)
def test_no_sensitive_value_reaches_any_output(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    listed: str,
    named: str,
    place: str,
) -> None:
    repo = tmp_path_factory.mktemp("repo")
    (repo / ".git").mkdir()
    (repo / "tools.d").mkdir()
    (repo / "reconciler.yaml").write_text(CONFIG)
    secret_text = {
        "endpoint-query": "endpoint: https://p.example.com/x?key=${PARTNER_KEY}&t=${ORDERS_API_TOKEN}\n",
        "description": "description: Uses ${PARTNER_KEY} and ${ORDERS_API_TOKEN}.\n",
        "label": "labels: {a: '${PARTNER_KEY}', b: '${ORDERS_API_TOKEN}'}\n",
        "endpoint-userinfo": "endpoint: https://u:${PARTNER_KEY}@p.example.com/${ORDERS_API_TOKEN}\n",
        "pruned": "endpoint: https://p.example.com/x?key=${PARTNER_KEY}&token=${ORDERS_API_TOKEN}\n",
    }[place]
    tool = {"name": "t", "description": "d.", "endpoint": "https://p.example.com/x"}
    fields = yaml.safe_load(secret_text)
    text = "".join(f"{k}: {v}\n" for k, v in tool.items() if k not in fields) + secret_text
    (repo / "tools.d" / "t.yaml").write_text(text)
    (repo / "tools.d" / "o.yaml").write_text(OTHER)
    environ = {"PARTNER_KEY": listed, "ORDERS_API_TOKEN": named}
    outputs: list[str] = []
    previous = Path.cwd()
    os.chdir(repo)
    try:
        with _environment(environ):
            main(["apply", "--auto-approve"])
            if place == "pruned":
                (repo / "tools.d" / "t.yaml").unlink()
            capsys.readouterr()
            for argv in (
                ["validate"],
                ["validate", "--format", "json"],
                ["validate", "--format", "github"],
                ["render"],
                ["render", "--format", "openai"],
                ["plan"],
                ["plan", "--format", "json"],
                ["plan", "--format", "markdown"],
                ["--debug", "plan", "--out", "plan.json"],
                ["show", "plan.json"],
                ["show", "plan.json", "--format", "json"],
                ["--debug", "apply", "plan.json", "--audit-log", "audit.jsonl", "--allow-mass-delete"],
                ["export", "--out", "exported"],
                ["export", "--format", "json"],
            ):
                main(argv)
                captured = capsys.readouterr()
                outputs.append(captured.out + captured.err)
    finally:
        os.chdir(previous)
    files = [p.read_text() for p in repo.rglob("*") if p.is_file() and ".reconciler" not in p.parts]
    assert any("audit" in p.name for p in repo.iterdir()) or place != "pruned"
    for secret in (listed, named):
        _assert_hidden(secret, *outputs, *files)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_a_plan_that_would_send_back_a_registry_only_credential_is_not_saved(
    partner_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("apply", "--auto-approve").code == 0
    monkeypatch.delenv("PARTNER_KEY")
    (partner_repo / "tools.d" / "partner.yaml").write_text(
        "name: partner\ndescription: Looks up a partner, now better.\nendpoint: https://partner.example.com/lookup\n"
        "ignore_changes: [endpoint]\n"  # the live endpoint, key and all, is what the update sends back
    )

    shown, saved = run("plan", "--format", "json"), run("plan", "--out", "plan.json")

    assert shown.code == 0
    assert "key=(sensitive)" in shown.out
    assert saved.code == 1
    assert "partner: the plan would send back a credential that only the registry holds" in saved.err
    assert not (partner_repo / "plan.json").exists()
    _assert_hidden(KEY, shown.output, saved.output)
