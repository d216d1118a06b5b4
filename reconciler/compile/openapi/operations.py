"""The operations of a description, in the order they are written, and the URL each one calls.

A path item or an operation may be a `$ref` (to another file, or elsewhere in the same one); the operation
then lives, and is located, in the file it is written in. Webhooks and callbacks are not operations a tool
can call and are not listed. The base URL is the first server of the operation, of its path item or of the
description (3.x, server variables set to their defaults), else Swagger 2.0's scheme (the operation's
`schemes`, else the description's; https when offered), host and basePath. The source's `endpoint_base`
replaces the description's base and every absolute server; a relative server of an operation or path item is
resolved against the description's base (RFC 3986), which stands in for where the description is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from reconciler.compile.openapi.refs import Files, Pointer, RefError, SourceFile
from reconciler.errors import Diagnostic
from reconciler.model import SkippedOperation, SourceLocation

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_VARIABLE = re.compile(r"\{([^{}]+)\}")


@dataclass
class Operation:
    method: str
    path: str
    node: dict[str, Any]
    source: SourceFile
    pointer: Pointer
    shared: list[tuple[Any, SourceFile]] = field(default_factory=list)
    servers: list[Any] = field(default_factory=list)
    location: SourceLocation | None = None

    @property
    def operation_id(self) -> str | None:
        value = self.node.get("operationId")
        return value if isinstance(value, str) and value.strip() else None

    @property
    def label(self) -> str:
        words = f"{self.method.upper()} {self.path}"
        return f"{words} ({self.operation_id})" if self.operation_id else words

    def locate(self, *inner: str) -> SourceLocation:
        if not inner:
            if self.location is None:
                self.location = self.source.locate(self.pointer)
            return self.location
        return self.source.locate((*self.pointer, *inner))


@dataclass
class Listing:
    operations: list[Operation] = field(default_factory=list)
    skipped: list[SkippedOperation] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _structure_error(listing: Listing, where: SourceLocation, message: str) -> None:
    """A description whose structure is broken gives no tools: an error, or apply would prune the tools it gave
    before (a `paths` list compiled to 0 tools and 0 errors)."""
    listing.diagnostics.append(Diagnostic("error", where, message, "openapi-structure"))


def _check_version(listing: Listing, main: SourceFile) -> None:
    content = main.content
    key = "swagger" if "swagger" in content and "openapi" not in content else "openapi"
    version = content.get(key)
    supported = ("2.0",) if key == "swagger" else ("3.0", "3.1")
    text = str(version) if isinstance(version, (str, int, float)) and not isinstance(version, bool) else ""
    if not any(text == major or text.startswith(major + ".") for major in supported):
        example = "'2.0'" if key == "swagger" else "'3.0.3' or '3.1.0'"
        _structure_error(
            listing,
            main.locate((key,)),
            f"{key}: {version!r} is not a version this reconciler reads; write the version as a string, e.g. {example}",
        )


def list_operations(files: Files) -> Listing:
    listing = Listing()
    main = files.main
    if not isinstance(main.content, dict):
        return listing
    _check_version(listing, main)
    if "paths" not in main.content:
        if "webhooks" not in main.content and "components" not in main.content:
            _structure_error(listing, main.document.location, "the description has no `paths`: it has no operations")
        return listing
    paths = main.content["paths"]
    if not isinstance(paths, dict):
        kind = "a list" if isinstance(paths, list) else repr(paths)
        _structure_error(
            listing, main.locate(("paths",)), f"`paths` must be a mapping of paths to path items, not {kind}"
        )
        return listing
    written: list[tuple[str, str]] = []  # the method keys of the inline path items, in the order written
    for path, raw_item in paths.items():
        item = raw_item
        if isinstance(path, str) and path.startswith("x-"):
            continue
        if not isinstance(path, str) or not path.startswith("/"):
            _structure_error(
                listing, main.locate(("paths", path)), f"path {path!r} must be a string that starts with '/'"
            )
            continue
        pointer: Pointer = ("paths", path)
        source = main
        if isinstance(item, dict) and isinstance(item.get("$ref"), str):
            try:
                target = files.resolve(item["$ref"], item, main)
                if not isinstance(target.node, dict):  # (it was read as an empty path item: its operations lost)
                    raise files.not_a_mapping(
                        item["$ref"], item, main, target, "a path item", "of operations: point the $ref at one"
                    )
            except RefError as exc:
                listing.diagnostics.append(exc.diagnostic)
                listing.skipped.append(
                    SkippedOperation(f"* {path}", main.locate(pointer), f"its path item: {exc.diagnostic.message}")
                )
                continue
            local = {key: value for key, value in item.items() if key != "$ref"}
            item = {**target.node, **local} if isinstance(target.node, dict) else local
            source, pointer = target.source, target.pointer
        if not isinstance(item, dict):
            if item is not None:  # `/x:` with nothing under it is an empty path item
                kind = "a list" if isinstance(item, list) else repr(item)
                _structure_error(listing, source.locate(pointer), f"path item {path!r} must be a mapping, not {kind}")
            continue
        if source is main:
            written += [(path, method) for method in item if method in METHODS]
        shared = item.get("parameters")
        shared_list = [(p, source) for p in shared] if isinstance(shared, list) else []
        servers = item["servers"] if isinstance(item.get("servers"), list) else []
        for method, written_operation in item.items():
            if method not in METHODS:
                continue
            node = written_operation
            operation = Operation(method, path, {}, source, (*pointer, method), shared_list, servers)
            if isinstance(node, dict) and isinstance(node.get("$ref"), str):
                try:
                    target = files.resolve(node["$ref"], node, source)
                    if not isinstance(target.node, dict):  # (its value was quoted in the error: maybe a secret)
                        raise files.not_a_mapping(
                            node["$ref"],
                            node,
                            source,
                            target,
                            "an operation",
                            "with `responses`: point the $ref at one",
                        )
                except RefError as exc:
                    listing.diagnostics.append(exc.diagnostic)
                    listing.skipped.append(
                        SkippedOperation(operation.label, operation.locate(), exc.diagnostic.message)
                    )
                    continue
                node = target.node
                operation.source, operation.pointer = target.source, target.pointer
            if not isinstance(node, dict):
                kind = "a list" if isinstance(node, list) else repr(node)
                reason = f"an operation must be a mapping, not {kind}"
                listing.skipped.append(SkippedOperation(operation.label, operation.locate(), reason))
                _structure_error(listing, operation.locate(), f"{operation.label}: {reason}")
                continue
            operation.node = node
            listing.operations.append(operation)
    _place(listing.operations, main, written)
    return listing


def _place(operations: list[Operation], main: SourceFile, written: list[tuple[str, str]]) -> None:
    """Locate the operations written inline in the main file all at once (it only helps JSON files)."""
    found = main.operation_locations([method for _, method in written])
    if found is None:
        return
    places = dict(zip(written, found, strict=True))
    for operation in operations:
        if operation.source is main and operation.pointer == ("paths", operation.path, operation.method):
            operation.location = places.get((operation.path, operation.method))


def base_url(
    content: dict[str, Any], operation: Operation | None = None, endpoint_base: str | None = None
) -> str | None:
    """The URL the paths of `operation` (or of the description) are relative to, or None. `endpoint_base` (the
    source's) replaces the description's base and every absolute server; a relative server URL of the operation
    or its path item is resolved against that base, as RFC 3986 resolves a reference (OpenAPI reads it against
    where the description is: its base is the best knowledge of that there is)."""
    if operation is not None:
        for servers in (operation.node.get("servers"), operation.servers):
            if isinstance(servers, list) and servers and isinstance(servers[0], dict):
                written = servers[0].get("url")
                if endpoint_base and isinstance(written, str) and _ABSOLUTE.match(written):
                    return endpoint_base.rstrip("/")  # (Twilio writes its one server on each path item)
                url = _server_url(servers[0])
                if url is None:
                    continue
                if _ABSOLUTE.match(url):
                    return endpoint_base.rstrip("/") if endpoint_base else url.rstrip("/")
                outer = endpoint_base or _description_base(content, operation)
                return urljoin(outer, url).rstrip("/") if outer is not None else None
    outer = endpoint_base or _description_base(content, operation)
    return outer.rstrip("/") if outer is not None else None


def _description_base(content: dict[str, Any], operation: Operation | None) -> str | None:
    servers = content.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = _server_url(servers[0])
        if url is not None and _ABSOLUTE.match(url):
            return url
    host = content.get("host")
    if "swagger" in content and isinstance(host, str) and host:
        schemes = operation.node.get("schemes") if operation is not None else None  # the operation's own win
        if not isinstance(schemes, list):
            schemes = content.get("schemes")
        offered = [s for s in schemes if isinstance(s, str)] if isinstance(schemes, list) else []
        scheme = "https" if "https" in offered or not offered else offered[0]
        base_path = content.get("basePath")
        path = base_path if isinstance(base_path, str) else ""
        # Swagger says the host is only the host and basePath starts with '/': `host: api.example.com/` gave
        # `//v1`, and `basePath: v1` the host `api.example.comv1`
        return f"{scheme}://{host.rstrip('/')}{'/' if path and not path.startswith('/') else ''}{path}"
    return None


def _server_url(server: dict[str, Any]) -> str | None:
    """A server's URL with its variables set to their defaults; None when it has none, or one is left unset."""
    url = server.get("url")
    if not isinstance(url, str):
        return None
    variables: dict[str, Any] = server["variables"] if isinstance(server.get("variables"), dict) else {}

    def value(match: re.Match[str]) -> str:
        variable = variables.get(match.group(1))
        default = variable.get("default") if isinstance(variable, dict) else None
        return str(default) if default is not None else match.group(0)

    url = _VARIABLE.sub(value, url)
    return None if _VARIABLE.search(url) else url


def join(base: str, path: str) -> str:
    if "?" not in base:
        return base.rstrip("/") + (path if path.startswith("/") else "/" + path)
    # a server URL with a query (`https://x.example.com/v1?api-version=2024-01-01`, as Azure's are): the path goes
    # before it, not after it (`…?api-version=2024-01-01/pets`), and a query the path holds joins it
    base_head, _, base_query = base.partition("?")
    path_head, mark, fragment = path.partition("#")
    path_head, _, path_query = path_head.partition("?")
    query = "&".join(part for part in (base_query, path_query) if part)
    url = base_head.rstrip("/") + (path_head if path_head.startswith("/") else "/" + path_head)
    return url + ("?" + query if query else "") + mark + fragment


__all__ = ["METHODS", "Listing", "Operation", "base_url", "join", "list_operations"]
