"""`${VAR}`, `${VAR:-default}` and `${VAR-default}` in string values, replaced from the environment.

As in the shell: `${VAR:-default}` takes the default when VAR is unset or empty (GitHub's `${{ vars.X }}` is
empty, not unset, for a variable that does not exist), `${VAR-default}` only when VAR is unset.

`$${` writes a literal `${`. Only tool definitions, OpenAPI sources and reconciler.yaml are interpolated:
published OpenAPI descriptions use `${…}` in their prose (DigitalOcean's does) and are taken as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from reconciler.errors import Diagnostic
from reconciler.load.located import LocatedList, key_location, location

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_REFERENCE = re.compile(r"(?<!\$)\$\{")
_WITH_DEFAULT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(:?-)(.*)", re.DOTALL)


def interpolate(
    content: Any,
    file: str,
    environ: Mapping[str, str],
    diagnostics: list[Diagnostic],
    used: dict[str, str],
    refused: Collection[str] = (),
) -> Any:
    """Replace references in every string value of `content` (in place for containers); record each variable
    read in `used`, and an error in `diagnostics` for each unset or malformed reference, and for each reference
    to a variable of `refused` (left unreplaced)."""

    def replace_in(value: str, where: Callable[[], Any]) -> str:
        if "$" not in value:
            return value

        def substitute(match: re.Match[str]) -> str:
            text = match.group(0)
            if text == "$${":
                return "${"
            inner = match.group(1)
            if inner is None:
                diagnostics.append(Diagnostic("error", where(), "unclosed '${'; write '$${' for a literal", "variable"))
                return text
            if "${" in inner:  # `${A:-${B}}`: the shell expands B; matched up to the first `}`, it would be text
                diagnostics.append(
                    Diagnostic(
                        "error",
                        where(),
                        f"'${{{inner}}}…': a default cannot hold another ${{…}} (it would not be expanded); write "
                        "the default out in full",
                        "variable",
                    )
                )
                return text
            with_default = _WITH_DEFAULT.fullmatch(inner)
            name, operator, default = with_default.groups() if with_default else (inner, "", "")
            if not _NAME.fullmatch(name):
                # `${VAR:?}`, `${VAR:=x}`, `$(cmd)`-style habits from the shell, or a name with a hyphen or space
                message = (
                    f"malformed variable reference '${{{inner}}}'; write ${{NAME}}, ${{NAME:-default}} or "
                    "${NAME-default} (NAME: letters, digits and _, not starting with a digit), or $${ for a literal ${"
                )
                diagnostics.append(Diagnostic("error", where(), message, "variable"))
                return text
            if name in refused:
                message = (
                    f"${{{name}}} is the reconciler's own credential, for the registry and its login only: a tool "
                    "that held it would show it to every reader of the org's tools and to the model; give the tool "
                    "a variable of its own"
                )
                diagnostics.append(Diagnostic("error", where(), message, "variable"))
                return text
            value = environ.get(name)
            if value is not None and not _is_text(value):
                # os.environ keeps bytes that are not UTF-8 as lone surrogates: no API, file or log can take them
                diagnostics.append(
                    Diagnostic(
                        "error", where(), f"environment variable {name} holds bytes that are not UTF-8", "variable"
                    )
                )
                return text
            if value is not None and (value or operator != ":-"):
                used[name] = value
                return value
            if operator:
                return default
            diagnostics.append(
                Diagnostic(
                    "error",
                    where(),
                    f"environment variable {name} is not set; set it, or give a default as '${{{name}:-value}}'",
                    "variable",
                )
            )
            return text

        return _REFERENCE.sub(substitute, value)

    def refuse_key(key: str, where: Callable[[], Any]) -> None:
        if _KEY_REFERENCE.search(key):
            message = f"key {key!r} holds a ${{…}}, which is not replaced: only values are; write the key out"
            diagnostics.append(Diagnostic("error", where(), message, "variable"))

    return _walk(content, file, replace_in, refuse_key)


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _walk(
    node: Any,
    file: str,
    replace_in: Callable[[str, Callable[[], Any]], str],
    refuse_key: Callable[[str, Callable[[], Any]], None],
) -> Any:
    # a string without `$` (nearly all of them) is passed over here, before a place is made for it
    if isinstance(node, dict):
        for key, value in node.items():
            if "$" in key:
                refuse_key(key, lambda k=key: key_location(file, node, k))  # type: ignore[misc]
            if isinstance(value, str):
                if "$" in value:
                    node[key] = replace_in(value, lambda k=key: key_location(file, node, k))  # type: ignore[misc]
            elif isinstance(value, (dict, list)):
                _walk(value, file, replace_in, refuse_key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                if "$" not in value:
                    continue

                def where(i: int = index) -> Any:
                    if isinstance(node, LocatedList) and i < len(node.item_marks):
                        return location(file, node.item_marks[i])
                    return location(file, getattr(node, "mark", None))

                node[index] = replace_in(value, where)
            elif isinstance(value, (dict, list)):
                _walk(value, file, replace_in, refuse_key)
    return node


__all__ = ["interpolate"]
