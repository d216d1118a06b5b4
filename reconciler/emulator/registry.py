"""The emulator's registry of tools: versions, unique names, and the store they live in.

The store (`store.py`) is in memory, or a SQLite database shared between processes (`--state`, the local
registry): every write is one transaction, and every read sees what other processes committed, so a plan and an
apply in two processes see the same registry. Other kinds of entity live in the same store beside the tools.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reconciler.emulator.store import Store, open_store

TOOLS_PATH = "/api/v2/ai/assistant/tools"
KIND = "tool"


class NameExists(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"a tool named {name!r} already exists")
        self.name = name


class VersionChanged(Exception):
    def __init__(self, sent: Any, current: int) -> None:
        sent_text = "no version" if sent is None else f"version {sent}"
        super().__init__(f"the update sent {sent_text} but the tool is at version {current}; read it again")
        self.current = current


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Registry:
    def __init__(self, path: Path | None = None, *, now: Callable[[], str] = _now, legacy: Path | None = None) -> None:
        """`path`: the SQLite state (None: in memory); `legacy`: a JSON state of an earlier version, migrated
        once when `path` does not exist yet."""
        self.path = path
        self._now = now
        self.store: Store = open_store(path, legacy=legacy, kind=KIND)

    # -- reads ----------------------------------------------------------------------------------------------

    def all_tools(self) -> list[dict[str, Any]]:
        """Every tool, sorted by name (copies)."""
        return copy.deepcopy(self.store.listing(KIND))

    def listing(self, name: str | None = None) -> list[dict[str, Any]]:
        """The tools sorted by name, shared, not copied: a page is serialized at once, and writes replace a
        tool rather than change it. The order is kept between writes, so paging N tools costs O(N) in all,
        not O(N) a page."""
        if name is None:
            return self.store.listing(KIND)
        return self.store.named(KIND, name)

    def get(self, tool_id: str) -> dict[str, Any] | None:
        tool = self.store.get(KIND, tool_id)
        return copy.deepcopy(tool) if tool is not None else None

    def find_by_name(self, name: str) -> dict[str, Any] | None:
        found = self.store.named(KIND, name)
        return copy.deepcopy(found[0]) if found else None

    # -- writes ---------------------------------------------------------------------------------------------

    def create(self, tool_input: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.writing():
            self._check_name_free(str(tool_input["name"]), None)
            tool_id = str(uuid.uuid4())
            stamp = self._now()
            tool = {
                **copy.deepcopy(dict(tool_input)),
                "id": tool_id,
                "version": 1,
                "status": "active",
                "dateCreated": stamp,
                "dateModified": stamp,
                "selfUri": f"{TOOLS_PATH}/{tool_id}",
            }
            self.store.put(KIND, tool)
            return copy.deepcopy(tool)

    def update(self, tool_id: str, tool_input: Mapping[str, Any], version: Any) -> dict[str, Any] | None:
        """The updated tool; None when there is no such tool. Raises VersionChanged or NameExists."""
        with self.store.writing():
            current = self.store.get(KIND, tool_id)
            if current is None:
                return None
            if version != current["version"] or isinstance(version, bool):
                raise VersionChanged(version, int(current["version"]))
            self._check_name_free(str(tool_input["name"]), tool_id)
            fields = {key: value for key, value in tool_input.items() if key != "version"}
            tool = {
                **copy.deepcopy(fields),
                "id": tool_id,
                "version": int(current["version"]) + 1,
                "status": current.get("status", "active"),
                "dateCreated": current.get("dateCreated", self._now()),
                "dateModified": self._now(),
                "selfUri": f"{TOOLS_PATH}/{tool_id}",
            }
            self.store.put(KIND, tool)
            return copy.deepcopy(tool)

    def delete(self, tool_id: str) -> bool:
        with self.store.writing():
            return self.store.delete(KIND, tool_id)

    def put_raw(self, tool: Mapping[str, Any]) -> dict[str, Any]:
        """Seed a tool as it is, unchecked (tests, drift); the server's fields are filled in when missing."""
        with self.store.writing():
            stamp = self._now()
            raw = copy.deepcopy(dict(tool))
            tool_id = str(raw.setdefault("id", str(uuid.uuid4())))
            raw.setdefault("version", 1)
            raw.setdefault("status", "active")
            raw.setdefault("dateCreated", stamp)
            raw.setdefault("dateModified", stamp)
            raw.setdefault("selfUri", f"{TOOLS_PATH}/{tool_id}")
            self.store.put(KIND, raw)
            return copy.deepcopy(raw)

    def clear(self) -> None:
        with self.store.writing():
            self.store.clear(KIND)

    def _check_name_free(self, name: str, tool_id: str | None) -> None:
        if any(other.get("id") != tool_id for other in self.store.named(KIND, name)):
            raise NameExists(name)

    def __len__(self) -> int:
        return self.store.count(KIND)

    def close(self) -> None:
        self.store.close()


__all__ = ["NameExists", "Registry", "VersionChanged"]
