"""Each operation's security requirement, with the source's credentials, for the runtime (`reconciler serve`).

The requirement is the operation's `security`, else the description's; each item is one alternative (all of
its schemes together), `{}` an alternative that needs nothing. Schemes come from `components.securitySchemes`
(3.x) or `securityDefinitions` (Swagger 2.0):

    apiKey (in header, query or cookie)   the credential sent as that header, query or cookie parameter
    http basic / Swagger basic            the credential is `user:password`
    http bearer, oauth2, openIdConnect    the credential is a token, sent as `Authorization: Bearer …`
    anything else (mutualTLS, digest, …)  unsupported: an operation needing it cannot be served

The credentials are the source's `credentials: {SCHEME: ${VAR}}` values, kept as `Secret`s: they never reach
a payload, a digest or a plan. An empty value counts as none, so `${VAR:-}` keeps `plan` and `apply` working
where only `serve` has the variable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.compile.openapi.operations import Operation
from reconciler.compile.openapi.refs import Files, RefError
from reconciler.model import Secret, Security, SecurityScheme, SourceLocation

_PLACES = ("header", "query", "cookie")


class SecurityReader:
    """Reads a description's schemes once; `requirement` then answers per operation."""

    def __init__(self, files: Files, credentials: Mapping[str, str]) -> None:
        content = files.main.content if isinstance(files.main.content, dict) else {}
        self.main = files.main
        components = content.get("components")
        written = components.get("securitySchemes") if isinstance(components, dict) else None
        if written is None:
            written = content.get("securityDefinitions")
        self.schemes: dict[str, SecurityScheme | None] = {}
        self.broken: set[str] = set()
        """Schemes whose `$ref` cannot be followed: an error at the `$ref` says so (in `files.diagnostics`), and
        an alternative needing one is left out rather than read as needing a scheme nothing can fill."""
        if isinstance(written, dict):
            for name, node in written.items():
                resolved = node
                if isinstance(node, dict) and isinstance(node.get("$ref"), str):
                    try:
                        target = files.resolve(node["$ref"], node, files.main)
                        if not isinstance(target.node, dict):
                            place = (
                                "#/securityDefinitions/…" if "swagger" in content else "#/components/securitySchemes/…"
                            )
                            hint = f"with `type`: point the $ref at one, such as {place}"
                            raise files.not_a_mapping(node["$ref"], node, files.main, target, "a security scheme", hint)
                        resolved = target.node
                    except RefError as exc:
                        files.diagnostics.append(exc.diagnostic)
                        self.broken.add(str(name))
                        continue
                self.schemes[str(name)] = _scheme(str(name), resolved)
        self.default = content.get("security")
        self._default_requirement: Security | None = None
        self._default_read = False
        # An empty value is no credential: `${KEY:-}` lets plan and apply run where the key is not set
        self.credentials = {name: Secret(value) for name, value in credentials.items() if value}

    def requirement(self, operation: Operation) -> Security | None:
        own = operation.node.get("security")
        if isinstance(own, list):
            # placed only when an error names it: locating a key of each operation was a third of a large compile
            return self._read(own, functools.partial(operation.locate, "security"))
        if not isinstance(self.default, list):
            return None
        if not self._default_read:  # the same (frozen) requirement for every operation without its own
            self._default_requirement = self._read(self.default, functools.partial(self.main.locate, ("security",)))
            self._default_read = True
        return self._default_requirement

    def _read(self, written: list[Any], where: Callable[[], SourceLocation]) -> Security | None:
        alternatives: list[tuple[SecurityScheme, ...]] = []
        unsupported: list[str] = []
        for item in written:
            if not isinstance(item, dict):
                continue
            schemes = []
            for name in item:
                if str(name) in self.broken:
                    break  # (its error is reported once, at the scheme's $ref)
                scheme = self.schemes.get(str(name))
                if scheme is None:
                    unsupported.append(str(name))
                    break
                schemes.append(scheme)
            else:
                alternatives.append(tuple(schemes))
        if not alternatives and not unsupported:
            return None
        if () in alternatives:
            return None  # one alternative needs nothing
        return Security(
            tuple(alternatives), self.credentials, where, tuple(dict.fromkeys(unsupported)) if unsupported else ()
        )


def _scheme(name: str, node: Any) -> SecurityScheme | None:
    if not isinstance(node, dict):
        return None
    kind = node.get("type")
    if kind == "apiKey":
        place, parameter = node.get("in"), node.get("name")
        if place in _PLACES and isinstance(parameter, str) and parameter:
            return SecurityScheme(name, "apiKey", place, parameter)
        return None
    if kind == "basic" or (kind == "http" and str(node.get("scheme", "")).lower() == "basic"):
        return SecurityScheme(name, "basic")
    if kind in ("oauth2", "openIdConnect") or (kind == "http" and str(node.get("scheme", "")).lower() == "bearer"):
        return SecurityScheme(name, "bearer")
    return None


__all__ = ["SecurityReader"]
