"""The emulator's registry of tools: versions, names, and a JSON state file shared between processes.

Every change is written atomically (a temporary file, then `os.replace`) under a lock (a thread lock, and an
advisory file lock where the platform has one), and every read first reloads the file when another process
changed it, so a plan and an apply in two processes see the same registry.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigurationError

TOOLS_PATH = "/api/v2/ai/assistant/tools"
FORMAT_VERSION = 1

try:  # POSIX only; elsewhere the thread lock alone serialises writers of one process
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


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


def _sort_key(tool: Mapping[str, Any]) -> tuple[str, str]:
    return (str(tool.get("name", "")), str(tool.get("id", "")))


class Registry:
    def __init__(self, path: Path | None = None, *, now: Callable[[], str] = _now) -> None:
        self.path = path
        self._now = now
        self._lock = threading.RLock()
        self._tools: dict[str, dict[str, Any]] = {}
        self._sorted: list[dict[str, Any]] | None = None
        self._seen: tuple[int, int, int] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                pass

    # -- reads ----------------------------------------------------------------------------------------------

    def all_tools(self) -> list[dict[str, Any]]:
        """Every tool, sorted by name (copies)."""
        with self._locked():
            return [copy.deepcopy(tool) for tool in sorted(self._tools.values(), key=_sort_key)]

    def listing(self, name: str | None = None) -> list[dict[str, Any]]:
        """The tools sorted by name, shared, not copied: a page is serialized at once, and writes replace a
        tool's dict rather than change it. The order is kept between writes, so paging N tools costs O(N) in
        all, not O(N) a page."""
        with self._locked():
            if self._sorted is None:
                self._sorted = sorted(self._tools.values(), key=_sort_key)
            if name is None:
                return self._sorted
            return [tool for tool in self._sorted if tool.get("name") == name]

    def get(self, tool_id: str) -> dict[str, Any] | None:
        with self._locked():
            tool = self._tools.get(tool_id)
            return copy.deepcopy(tool) if tool is not None else None

    def find_by_name(self, name: str) -> dict[str, Any] | None:
        with self._locked():
            return next((copy.deepcopy(t) for t in self._tools.values() if t.get("name") == name), None)

    # -- writes ---------------------------------------------------------------------------------------------

    def create(self, tool_input: Mapping[str, Any]) -> dict[str, Any]:
        with self._locked(write=True):
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
            self._tools[tool_id] = tool
            return copy.deepcopy(tool)

    def update(self, tool_id: str, tool_input: Mapping[str, Any], version: Any) -> dict[str, Any] | None:
        """The updated tool; None when there is no such tool. Raises VersionChanged or NameExists."""
        with self._locked(write=True):
            current = self._tools.get(tool_id)
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
            self._tools[tool_id] = tool
            return copy.deepcopy(tool)

    def delete(self, tool_id: str) -> bool:
        with self._locked(write=True):
            return self._tools.pop(tool_id, None) is not None

    def put_raw(self, tool: Mapping[str, Any]) -> dict[str, Any]:
        """Seed a tool as it is, unchecked (tests, drift); the server's fields are filled in when missing."""
        with self._locked(write=True):
            stamp = self._now()
            raw = copy.deepcopy(dict(tool))
            tool_id = str(raw.setdefault("id", str(uuid.uuid4())))
            raw.setdefault("version", 1)
            raw.setdefault("status", "active")
            raw.setdefault("dateCreated", stamp)
            raw.setdefault("dateModified", stamp)
            raw.setdefault("selfUri", f"{TOOLS_PATH}/{tool_id}")
            self._tools[tool_id] = raw
            return copy.deepcopy(raw)

    def clear(self) -> None:
        with self._locked(write=True):
            self._tools.clear()

    def _check_name_free(self, name: str, tool_id: str | None) -> None:
        for other_id, other in self._tools.items():
            if other.get("name") == name and other_id != tool_id:
                raise NameExists(name)

    # -- persistence ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, *, write: bool = False) -> Iterator[None]:
        with self._lock, self._file_lock():
            self._reload_if_changed()
            yield
            if write:
                self._sorted = None
                self._save()

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self.path is None or fcntl is None:
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _signature(self) -> tuple[int, int, int] | None:
        assert self.path is not None
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _reload_if_changed(self) -> None:
        if self.path is None:
            return
        signature = self._signature()
        if signature == self._seen:
            return
        self._tools = self._read() if signature is not None else {}
        self._sorted = None
        self._seen = signature

    def _read(self) -> dict[str, dict[str, Any]]:
        assert self.path is not None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read the registry state {self.path}: {exc}; fix or delete it") from exc
        tools = data.get("tools") if isinstance(data, dict) else None
        if not isinstance(tools, list) or not all(isinstance(t, dict) and isinstance(t.get("id"), str) for t in tools):
            raise ConfigurationError(f"{self.path} is not a registry state file (no `tools` list); fix or delete it")
        return {tool["id"]: tool for tool in tools}

    def _save(self) -> None:
        if self.path is None:
            return
        tools = sorted(self._tools.values(), key=_sort_key)
        text = json.dumps({"format": FORMAT_VERSION, "tools": tools}, indent=2, sort_keys=True, ensure_ascii=False)
        handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text + "\n")
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self._seen = self._signature()

    def __len__(self) -> int:
        with self._locked():
            return len(self._tools)


__all__ = ["NameExists", "Registry", "VersionChanged"]
