from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The suite imports test modules with --import-mode=importlib, which leaves sys.path alone: make the shared
# helpers of this directory importable as `upstream_helpers`.
sys.path.insert(0, str(Path(__file__).parent))

from upstream_helpers import Upstream, running_upstream


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A loopback web service (port 0) that records what executed actions send it."""
    with running_upstream() as service:
        yield service
