"""reconciler: a declarative GitOps reconciler for the AI tool definitions of a Genesys Cloud organization.

The pipeline, one package per stage: load → compile → validate → plan → apply; `api` talks to the Tools API
and `emulator` stands in for it locally. The command line is `reconciler.cli.main`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("reconciler")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
