"""The Tools API client: targets and credentials, auth, paging, retries, pacing, typed errors.

The whole API contract of DESIGN §4 lives behind `ToolsClient`; a change in the real API is a change here.
Errors are the `ApiError` family of `reconciler.errors`. Logging goes to loggers under `reconciler.api`
(`http`, `auth`, `retry`, `pacing`), secrets redacted.
"""

from __future__ import annotations

from reconciler.api.adapter import TargetClient, ToolsTarget, WriteResult
from reconciler.api.client import PAGE_SIZE, TOOLS_PATH, ApiClient, ApiResult, ToolsClient
from reconciler.api.data_actions import DataActionsClient, DataActionsTarget, resolve_integration
from reconciler.api.exchange import ClientStats
from reconciler.api.pacing import Pacer
from reconciler.api.regions import REGIONS, api_url, login_url, region_domain
from reconciler.api.retry import RetryPolicy
from reconciler.api.target import Credentials, Target, is_loopback, resolve_target
from reconciler.api.translate import Operation

__all__ = [
    "PAGE_SIZE",
    "REGIONS",
    "TOOLS_PATH",
    "ApiClient",
    "ApiResult",
    "ClientStats",
    "Credentials",
    "DataActionsClient",
    "DataActionsTarget",
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
]
