"""Names of the definitions in a tool's `$defs`.

A definition is named after the last part of its JSON pointer (`#/components/schemas/Pet` → `Pet`), or after
its file when the whole file is the schema (`models/app.yml` → `app`), with any character outside
`[A-Za-z0-9_.-]` replaced, so the name needs no escaping in `#/$defs/<name>`. The schemas of the description's
own `components.schemas` (or Swagger's `definitions`) claim their names first; a later node whose name is
taken gets 8 hex digits of the sha256 of its place (file relative to the root, and pointer) after it, so it is
the same in every compile.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from reconciler.compile.openapi.refs import NodeKey

_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class DefinitionNames:
    def __init__(self, main_key: str, main_content: Any, root: Path) -> None:
        self.root = root
        self._names: dict[NodeKey, str] = {}
        self._taken: dict[str, NodeKey] = {}
        if isinstance(main_content, dict):
            for pointer in (("components", "schemas"), ("definitions",)):
                holder: Any = main_content
                for part in pointer:
                    holder = holder.get(part) if isinstance(holder, dict) else None
                if isinstance(holder, dict):
                    for name in holder:
                        self.name((main_key, (*pointer, name)))

    def name(self, key: NodeKey) -> str:
        name = self._names.get(key)
        if name is None:
            file, pointer = key
            base = pointer[-1] if pointer else os.path.splitext(os.path.basename(file))[0]
            # (most names are ASCII identifiers already, which the substitution leaves as they are)
            name = base if base.isascii() and base.isidentifier() else _NOT_NAME.sub("_", base) or "schema"
            if name in self._taken:
                where = os.path.relpath(file, self.root) + "#/" + "/".join(pointer)
                name = f"{name}_{hashlib.sha256(where.encode()).hexdigest()[:8]}"
            self._taken[name] = key
            self._names[key] = name
        return name


__all__ = ["DefinitionNames"]
