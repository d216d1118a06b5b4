"""The two paging styles of the list call: `{entities, next_page_token}` and Genesys-style `nextUri` pages.

`tools` is the registry's listing, sorted by name. The page token is the name of the last tool of the page:
any string is a valid cursor ("the tools after this name"), so a token survives tools being added or deleted
between pages.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from reconciler.emulator.registry import TOOLS_PATH


def token_page(tools: Sequence[dict[str, Any]], size: int, after: str | None) -> dict[str, Any]:
    start = bisect.bisect_right(tools, after, key=lambda tool: str(tool.get("name", ""))) if after else 0
    page = list(tools[start : start + size])
    more = start + size < len(tools)
    return {"entities": page, "next_page_token": str(page[-1].get("name")) if more and page else None}


def numbered_page(
    entities: Sequence[Any], size: int, number: int, *, path: str = TOOLS_PATH, keep: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One Genesys-style page of `entities` (a Tools API listing, or `ActionEntityListing` and its kin); `keep`
    holds the query parameters every page's URI carries besides the paging ones."""
    total = len(entities)
    count = math.ceil(total / size)

    def uri(n: int) -> str:
        return f"{path}?{urlencode({'pageSize': size, 'pageNumber': n, **(keep or {})})}"

    result: dict[str, Any] = {
        "entities": list(entities[(number - 1) * size : number * size]),
        "pageSize": size,
        "pageNumber": number,
        "total": total,
        "pageCount": count,
        "selfUri": uri(number),
        "firstUri": uri(1),
        "lastUri": uri(max(count, 1)),
    }
    if number < count:
        result["nextUri"] = uri(number + 1)
    if number > 1:
        result["previousUri"] = uri(number - 1)
    return result


__all__ = ["numbered_page", "token_page"]
