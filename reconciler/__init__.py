"""reconciler: a declarative GitOps reconciler for the AI tool definitions of a Genesys Cloud organization.

The pipeline, one package per stage: load → compile → validate → plan → apply; `api` talks to the Tools API
and `emulator` stands in for it locally. The command line is `reconciler.cli.main`.
"""

from __future__ import annotations

__version__ = "0.1.0"
"""The one place the version is written: pyproject.toml reads it from here, CHANGELOG.md has an entry for it."""

__all__ = ["__version__"]
