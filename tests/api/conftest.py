from __future__ import annotations

import sys
from pathlib import Path

# The suite imports test modules with --import-mode=importlib, which leaves sys.path alone: make the shared
# helpers of this directory importable as `api_helpers`.
sys.path.insert(0, str(Path(__file__).parent))
