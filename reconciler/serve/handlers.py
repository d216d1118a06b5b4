"""`--app module:object`: the Python handlers of hand-written tools, a mapping of tool names to callables.

The module is imported from the current directory (as `python -m` would); a handler named for a tool that is
not served, an object that is not such a mapping, or a module that fails to import is a ConfigurationError
that says which.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import ConfigurationError
from reconciler.runtime import Handler


def load_handlers(spec: str, served: set[str]) -> dict[str, Handler]:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"--app {spec!r}: write it as module:object (e.g. handlers:TOOLS)")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:  # the user's code (which may call sys.exit): say what kind of failure
        raise ConfigurationError(f"--app {spec!r}: cannot import {module_name} ({type(exc).__name__}: {exc})") from exc
    found = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ConfigurationError(f"--app {spec!r}: {module_name} has no {attribute}")
        found = getattr(found, part)
    if not isinstance(found, Mapping) or not all(isinstance(k, str) and callable(v) for k, v in found.items()):
        raise ConfigurationError(f"--app {spec!r}: {attribute} must map tool names to callables")
    unknown = sorted(set(found) - served)
    if unknown:
        raise ConfigurationError(
            f"--app {spec!r}: handlers for tools that are not served: {', '.join(unknown)}; "
            f"served: {', '.join(sorted(served)) or 'none'}"
        )
    return dict(found)


__all__ = ["load_handlers"]
