"""Genesys Cloud regions and their hosts (DESIGN §4): region `R` has a domain `D`; API `https://api.D`,
login `https://login.D`."""

from __future__ import annotations

from reconciler.errors import ConfigurationError

REGIONS: dict[str, str] = {
    "us-east-1": "mypurecloud.com",
    "us-east-2": "use2.us-gov-pure.cloud",
    "us-west-2": "usw2.pure.cloud",
    "ca-central-1": "cac1.pure.cloud",
    "sa-east-1": "sae1.pure.cloud",
    "eu-west-1": "mypurecloud.ie",
    "eu-west-2": "euw2.pure.cloud",
    "eu-central-1": "mypurecloud.de",
    "eu-central-2": "euc2.pure.cloud",
    "me-central-1": "mec1.pure.cloud",
    "ap-south-1": "aps1.pure.cloud",
    "ap-northeast-1": "mypurecloud.jp",
    "ap-northeast-2": "apne2.pure.cloud",
    "ap-northeast-3": "apne3.pure.cloud",
    "ap-southeast-1": "apse1.pure.cloud",
    "ap-southeast-2": "mypurecloud.com.au",
    "mx-central-1": "mxc1.pure.cloud",
}

DEFAULT_REGION = "us-east-1"
"""The region the Genesys SDKs and CX-as-Code assume when none is named."""


def region_domain(region: str, *, variable: str = "GENESYS_CLOUD_REGION") -> str:
    """The domain of `region`; an unknown region is a ConfigurationError that lists the valid ones."""
    key = region.strip().lower()
    if key in REGIONS:
        return REGIONS[key]
    valid = ", ".join(sorted(REGIONS))
    raise ConfigurationError(f"{variable}={region!r} is not a Genesys Cloud region; use one of: {valid}")


def api_url(region: str) -> str:
    return f"https://api.{region_domain(region)}"


def login_url(region: str) -> str:
    return f"https://login.{region_domain(region)}"


__all__ = ["DEFAULT_REGION", "REGIONS", "api_url", "login_url", "region_domain"]
