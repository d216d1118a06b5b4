"""Targets from the environment (DESIGN §4): regions, credentials in order, CX-as-Code names, URL overrides."""

from __future__ import annotations

from typing import Any

import pytest

import reconciler.api as api
from reconciler.api import REGIONS, Credentials, Target, api_url, login_url, resolve_target
from reconciler.errors import ConfigurationError


def test_the_public_surface_does_not_drift() -> None:
    assert set(api.__all__) == {
        "PAGE_SIZE",
        "REGIONS",
        "TOOLS_PATH",
        "ApiClient",
        "ApiResult",
        "ClientStats",
        "DataActionsClient",
        "DataActionsTarget",
        "Credentials",
        "Operation",
        "Pacer",
        "RetryPolicy",
        "Target",
        "TargetClient",
        "ToolsClient",
        "ToolsTarget",
        "WriteResult",
        "api_url",
        "is_loopback",
        "login_url",
        "region_domain",
        "resolve_integration",
        "resolve_target",
    }
    assert all(hasattr(api, name) for name in api.__all__)


def test_all_seventeen_regions() -> None:
    assert len(REGIONS) == 17
    assert REGIONS["us-east-1"] == "mypurecloud.com"
    assert REGIONS["ap-southeast-2"] == "mypurecloud.com.au"
    assert REGIONS["mx-central-1"] == "mxc1.pure.cloud"


def test_eu_central_1_resolves_to_mypurecloud_de() -> None:
    assert api_url("eu-central-1") == "https://api.mypurecloud.de"
    assert login_url("eu-central-1") == "https://login.mypurecloud.de"
    target = resolve_target(
        {"GENESYS_CLOUD_REGION": "eu-central-1", "GENESYS_CLOUD_CLIENT_ID": "id", "GENESYS_CLOUD_CLIENT_SECRET": "s"}
    )
    assert target == Target(
        api_url="https://api.mypurecloud.de",
        login_url="https://login.mypurecloud.de",
        description="region eu-central-1 (api.mypurecloud.de)",
        credentials=Credentials(client_id="id", client_secret="s"),
        region="eu-central-1",
    )


def test_an_unknown_region_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_target({"GENESYS_CLOUD_REGION": "eu-middle-9", "GENESYS_CLOUD_ACCESS_TOKEN": "t"})
    message = str(caught.value)
    assert message.startswith("GENESYS_CLOUD_REGION='eu-middle-9' is not a Genesys Cloud region; use one of: ")
    assert all(region in message for region in REGIONS)


def test_nothing_configured_means_no_target() -> None:
    assert resolve_target({}) is None
    assert resolve_target({"GENESYS_CLOUD_REGION": "eu-central-1"}) is None


def test_the_region_defaults_to_us_east_1() -> None:
    target = resolve_target({"GENESYS_CLOUD_ACCESS_TOKEN": "t"})
    assert target is not None
    assert target.api_url == "https://api.mypurecloud.com"
    assert target.description == "region us-east-1 (api.mypurecloud.com)"


def test_an_access_token_wins_over_client_credentials() -> None:
    target = resolve_target(
        {"GENESYS_CLOUD_ACCESS_TOKEN": "tok", "GENESYS_CLOUD_CLIENT_ID": "id", "GENESYS_CLOUD_CLIENT_SECRET": "s"}
    )
    assert target is not None
    assert target.credentials == Credentials(access_token="tok")


def test_cx_as_code_names_are_accepted() -> None:
    target = resolve_target(
        {
            "GENESYSCLOUD_OAUTHCLIENT_ID": "id",
            "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s",
            "GENESYSCLOUD_REGION": "ap-northeast-1",
        }
    )
    assert target is not None
    assert target.api_url == "https://api.mypurecloud.jp"
    assert target.credentials == Credentials(
        client_id="id",
        client_secret="s",
        id_variable="GENESYSCLOUD_OAUTHCLIENT_ID",
        secret_variable="GENESYSCLOUD_OAUTHCLIENT_SECRET",
    )
    token = resolve_target({"GENESYSCLOUD_ACCESS_TOKEN": "tok"})
    assert token is not None
    assert token.credentials == Credentials(access_token="tok", token_variable="GENESYSCLOUD_ACCESS_TOKEN")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GENESYS_CLOUD_CLIENT_ID": "id"}, "GENESYS_CLOUD_CLIENT_ID is set but GENESYS_CLOUD_CLIENT_SECRET is not"),
        ({"GENESYS_CLOUD_CLIENT_SECRET": "s"}, "GENESYS_CLOUD_CLIENT_SECRET is set but GENESYS_CLOUD_CLIENT_ID is not"),
        (
            {"GENESYSCLOUD_OAUTHCLIENT_ID": "id"},
            "GENESYSCLOUD_OAUTHCLIENT_ID is set but GENESYSCLOUD_OAUTHCLIENT_SECRET is not",
        ),
    ],
)
def test_half_given_client_credentials_are_an_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        resolve_target(environ)


def test_the_login_url_defaults_to_the_api_url_override() -> None:
    target = resolve_target({"GENESYS_CLOUD_API_URL": "http://127.0.0.1:8080/", "GENESYS_CLOUD_REGION": "nowhere"})
    assert target == Target(
        api_url="http://127.0.0.1:8080",
        login_url="http://127.0.0.1:8080",
        description="http://127.0.0.1:8080",
        credentials=None,
    )


def test_both_url_overrides() -> None:
    target = resolve_target(
        {
            "GENESYS_CLOUD_API_URL": "https://api.example.test",
            "GENESYS_CLOUD_LOGIN_URL": "https://login.example.test",
            "GENESYS_CLOUD_ACCESS_TOKEN": "t",
        }
    )
    assert target is not None
    assert (target.api_url, target.login_url, target.description) == (
        "https://api.example.test",
        "https://login.example.test",
        "https://api.example.test",
    )


def test_a_login_override_alone_keeps_the_regions_api() -> None:
    target = resolve_target(
        {"GENESYS_CLOUD_LOGIN_URL": "https://login.example.test", "GENESYS_CLOUD_REGION": "eu-west-1"}
    )
    assert target is not None
    assert (target.api_url, target.login_url) == ("https://api.mypurecloud.ie", "https://login.example.test")


@pytest.mark.parametrize("url", ["api.mypurecloud.de", "ftp://x.example", "https://user:pw@api.example.test"])
def test_a_malformed_url_override_is_an_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="GENESYS_CLOUD_API_URL"):
        resolve_target({"GENESYS_CLOUD_API_URL": url})


def test_no_secret_in_repr_or_str() -> None:
    target = resolve_target({"GENESYS_CLOUD_CLIENT_ID": "the-id", "GENESYS_CLOUD_CLIENT_SECRET": "very-secret-value"})
    token_target = resolve_target({"GENESYS_CLOUD_ACCESS_TOKEN": "very-secret-token"})
    shown = " ".join([repr(target), str(target), repr(token_target), str(token_target)])
    assert "very-secret-value" not in shown
    assert "very-secret-token" not in shown
    assert "the-id" in shown


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("GENESYS_CLOUD_API_URL", "http://api.mypurecloud.de"),
        ("GENESYS_CLOUD_API_URL", "http://API.usw2.pure.cloud/"),
        ("GENESYS_CLOUD_LOGIN_URL", "http://login.mypurecloud.com"),
    ],
)
def test_plain_http_to_a_genesys_cloud_host_is_refused_before_a_secret_travels(
    repo: object, run: Any, monkeypatch: pytest.MonkeyPatch, variable: str, url: str
) -> None:
    """The org's hosts speak https only: an `http://` override (a slip when copying the URL) sent the client
    secret (Basic) or the token in clear text before any answer could say so."""
    monkeypatch.setenv(variable, url)
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_ID", "the-id")
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_SECRET", "very-secret-value")
    monkeypatch.setenv("GENESYS_CLOUD_REGION", "eu-central-1")
    sent: list[str] = []
    monkeypatch.setattr("httpx.Client.send", lambda self, request, **kw: sent.append(str(request.url)))

    result = run("plan")

    assert result.code == 1, result.output
    assert f"{variable} must use https" in result.err
    assert "very-secret-value" not in result.output
    assert sent == []


def test_plain_http_to_another_host_such_as_a_remote_emulator_takes_the_opt_in() -> None:
    settings = {"GENESYS_CLOUD_API_URL": "http://emulator:8765", "GENESYS_CLOUD_ACCESS_TOKEN": "t"}
    with pytest.raises(ConfigurationError, match="GENESYS_CLOUD_API_URL is http:// to emulator:8765"):
        resolve_target(settings)
    target = resolve_target({**settings, "RECONCILER_ALLOW_INSECURE_HTTP": "1"})
    assert target is not None and target.api_url == "http://emulator:8765"
