"""The emulator's storage: entities of several kinds (tools; actions, drafts, integrations …), each a JSON object
with an `id` and usually a `name`, kept in memory or in one SQLite database shared between processes.

One generic table, `entities(kind, id, name, body)`, holds every kind, so a new kind needs no schema change.
On disk the database runs in WAL mode and every write is one transaction (`BEGIN IMMEDIATE`): a write costs the
same whether the store holds ten entities or ten thousand, a committed write survives the process being killed
(synchronous=NORMAL: only a power loss may drop the last transactions, never corrupt the file), and two
processes writing at once are serialised by SQLite's own lock, so a check-then-write (a unique name) holds
across processes too.

A state file written by earlier versions (JSON, `{"format": 1, "tools": [...]}`) is read once and migrated: see
`open_store`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import orjson

from reconciler.errors import ConfigurationError

SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

Entity = dict[str, Any]


def sort_key(entity: Mapping[str, Any]) -> tuple[str, str]:
    """Listings are sorted by name, then id (the emulator's pages and page tokens rely on it)."""
    return (str(entity.get("name", "")), str(entity.get("id", "")))


class Store(Protocol):
    """What the registries need from storage. Entities handed out are shared: callers copy before changing."""

    path: Path | None

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """One atomic write: reads inside see every earlier write, and no other writer (thread or process)
        runs until the block ends; the block's writes are committed together, or not at all on an exception."""
        ...

    def get(self, kind: str, entity_id: str) -> Entity | None: ...

    def named(self, kind: str, name: str) -> list[Entity]:
        """The entities of `kind` whose `name` is exactly `name`, sorted by id."""
        ...

    def listing(self, kind: str) -> list[Entity]:
        """Every entity of `kind`, sorted by name then id; cached until the next write (of any process)."""
        ...

    def count(self, kind: str) -> int: ...

    def put(self, kind: str, entity: Entity) -> None:
        """Insert or replace, by `entity["id"]` (a string); a transaction of its own outside `writing()`."""
        ...

    def delete(self, kind: str, entity_id: str) -> bool: ...

    def clear(self, kind: str) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """Dicts in this process: the emulator without `--state`, and the floor the on-disk store is measured by."""

    path: Path | None = None

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._kinds: dict[str, dict[str, Entity]] = {}
        self._names: dict[str, dict[Any, set[str]]] = {}  # kind -> name -> ids: a name lookup costs O(1)
        self._sorted: dict[str, list[Entity]] = {}

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._lock:
            yield

    def _of(self, kind: str) -> dict[str, Entity]:
        return self._kinds.setdefault(kind, {})

    def get(self, kind: str, entity_id: str) -> Entity | None:
        with self._lock:
            return self._of(kind).get(entity_id)

    def named(self, kind: str, name: str) -> list[Entity]:
        with self._lock:
            entities = self._of(kind)
            ids = self._names.get(kind, {}).get(name, ())
            return sorted((entities[i] for i in ids), key=sort_key)

    def listing(self, kind: str) -> list[Entity]:
        with self._lock:
            cached = self._sorted.get(kind)
            if cached is None:
                cached = self._sorted[kind] = sorted(self._of(kind).values(), key=sort_key)
            return cached

    def count(self, kind: str) -> int:
        with self._lock:
            return len(self._of(kind))

    def put(self, kind: str, entity: Entity) -> None:
        with self._lock:
            entity_id = str(entity["id"])
            self.delete(kind, entity_id)
            self._of(kind)[entity_id] = entity
            self._index(kind, entity).add(entity_id)

    def delete(self, kind: str, entity_id: str) -> bool:
        with self._lock:
            self._sorted.pop(kind, None)
            entity = self._of(kind).pop(entity_id, None)
            if entity is None:
                return False
            self._index(kind, entity).discard(entity_id)
            return True

    def _index(self, kind: str, entity: Entity) -> set[str]:
        name = entity.get("name")
        try:
            return self._names.setdefault(kind, {}).setdefault(name, set())
        except TypeError:  # an unhashable name, seeded raw: found by id only
            return set()

    def clear(self, kind: str) -> None:
        with self._lock:
            self._of(kind).clear()
            self._names.pop(kind, None)
            self._sorted.pop(kind, None)

    def close(self) -> None:
        pass


def _encode(entity: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(entity)
    except TypeError:  # an integer beyond 64 bits, seeded raw by a test: the slow encoder takes it
        return json.dumps(entity, ensure_ascii=False).encode("utf-8")


def _decode(body: bytes | str) -> Entity:
    try:
        value: Entity = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = json.loads(body)
    return value


def _switch_to_wal(db: sqlite3.Connection) -> None:
    """Switching a database to WAL takes a lock SQLite does not wait for (the busy handler is not called), so two
    processes opening a new state at once meet here: the switch is retried until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


class SqliteStore:
    """One SQLite database; one connection per store, used by one thread at a time."""

    def __init__(self, path: Path) -> None:
        self.path: Path | None = path
        self._lock = threading.RLock()
        self._depth = 0
        self._writes = 0
        self._cache: dict[str, tuple[tuple[int, int], list[Entity]]] = {}
        try:
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _switch_to_wal(self._db)
            self._db.execute("PRAGMA synchronous = NORMAL")
            with self.writing():
                # a rowid table: rows are large (a tool's JSON), so keyed by random ids a WITHOUT ROWID
                # table splits pages on every insert and a write grows dearer with the table (measured)
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS entities (kind TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,"
                    " body BLOB NOT NULL, UNIQUE (kind, id))"
                )
                self._db.execute("CREATE INDEX IF NOT EXISTS entities_by_name ON entities (kind, name, id)")
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise ConfigurationError(f"cannot open the registry state {path}: {exc}; fix or delete it") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._lock:
            if self._depth:  # nested: the outer block commits
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0
                self._writes += 1

    def _version(self) -> tuple[int, int]:
        """Changes whenever this store or another connection (another process) commits."""
        (data_version,) = self._db.execute("PRAGMA data_version").fetchone()
        return (int(data_version), self._writes)

    def get(self, kind: str, entity_id: str) -> Entity | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM entities WHERE kind = ? AND id = ?", (kind, entity_id)).fetchone()
            return _decode(row[0]) if row is not None else None

    def named(self, kind: str, name: str) -> list[Entity]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM entities WHERE kind = ? AND name = ? ORDER BY id", (kind, name)
            ).fetchall()
        # the column holds str(name): a raw entity whose name is the number 42 sits under "42"
        return [entity for entity in map(_decode, (row[0] for row in rows)) if entity.get("name") == name]

    def listing(self, kind: str) -> list[Entity]:
        with self._lock:
            version = self._version()
            cached = self._cache.get(kind)
            if cached is not None and cached[0] == version:
                return cached[1]
            rows = self._db.execute("SELECT body FROM entities WHERE kind = ? ORDER BY name, id", (kind,)).fetchall()
            entities = [_decode(row[0]) for row in rows]
            self._cache[kind] = (version, entities)
            return entities

    def count(self, kind: str) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM entities WHERE kind = ?", (kind,)).fetchone()
            return int(count)

    def put(self, kind: str, entity: Entity) -> None:
        with self.writing():
            self._db.execute(
                "INSERT OR REPLACE INTO entities (kind, id, name, body) VALUES (?, ?, ?, ?)",
                (kind, str(entity["id"]), str(entity.get("name", "")), _encode(entity)),
            )

    def delete(self, kind: str, entity_id: str) -> bool:
        with self.writing():
            cursor = self._db.execute("DELETE FROM entities WHERE kind = ? AND id = ?", (kind, entity_id))
            return cursor.rowcount > 0

    def clear(self, kind: str) -> None:
        with self.writing():
            self._db.execute("DELETE FROM entities WHERE kind = ?", (kind,))


# -- opening, and the JSON state files of earlier versions --------------------------------------------------------


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER


WHAT_A_STATE_IS = "the SQLite file the emulator keeps, or an earlier version's JSON"


def read_json_state(path: Path) -> list[Entity]:
    """The tools of a JSON state file (`{"format": 1, "tools": [...]}`), as earlier versions wrote it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path} is not a registry state ({WHAT_A_STATE_IS}): {exc}") from exc
    tools = data.get("tools") if isinstance(data, dict) else None
    if not isinstance(tools, list) or not all(isinstance(t, dict) and isinstance(t.get("id"), str) for t in tools):
        raise ConfigurationError(f"{path} is not a registry state ({WHAT_A_STATE_IS}): it has no `tools` list")
    return tools


@contextlib.contextmanager
def _migration_lock(path: Path) -> Iterator[None]:
    """Two processes opening one old JSON state at once must not both migrate it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - elsewhere a migration race is left to os.replace
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _migrate(source: Path, target: Path, kind: str) -> None:
    """Build the database beside `target` from the JSON at `source`, then move it into place atomically.

    The JSON is kept as `<source>.migrated`, so nothing a user had is lost and it is never read again."""
    entities = read_json_state(source)
    building = target.with_name(f".{target.name}.{os.getpid()}.migrating")
    building.unlink(missing_ok=True)
    store = SqliteStore(building)
    try:
        with store.writing():
            for entity in entities:
                store.put(kind, entity)
        store._db.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to move
    finally:
        store.close()
    backup = source.with_name(source.name + ".migrated")
    if source == target:
        backup.write_bytes(source.read_bytes())
        os.replace(building, target)
    else:
        os.replace(building, target)
        os.replace(source, backup)


def open_store(path: Path | None, *, legacy: Path | None = None, kind: str = "tool") -> Store:
    """A MemoryStore for None, else the SQLite database at `path` (created when missing).

    A JSON state file of an earlier version is migrated once: found at `path` itself (`--state FILE` named
    the old file), or at `legacy` when `path` does not exist yet (the local registry moved from
    `.reconciler/registry.json` to `.reconciler/registry.db`). Its entities become entities of `kind`."""
    if path is None:
        return MemoryStore()
    path.parent.mkdir(parents=True, exist_ok=True)
    if _needs_migration(path, legacy):
        with _migration_lock(path):
            if _needs_migration(path, legacy):  # not done meanwhile by another process
                try:
                    _migrate(path if path.exists() else legacy, path, kind)  # type: ignore[arg-type]
                except ConfigurationError as exc:
                    # a file someone named (`emulator --state`) may be anything of theirs, such as chat's
                    # conversation state: never advise deleting it. Only the local registry's own file is ours.
                    advice = (
                        "it is left as it is: give --state the name of a new file (the emulator creates it)"
                        if legacy is None
                        else "it is the local registry's own file: fix or delete it"
                    )
                    raise ConfigurationError(f"{exc}; {advice}") from exc
    return SqliteStore(path)


def _needs_migration(path: Path, legacy: Path | None) -> bool:
    if path.exists():
        return path.stat().st_size > 0 and not _is_sqlite(path)
    return legacy is not None and legacy.exists()


__all__ = ["MemoryStore", "SqliteStore", "Store", "open_store", "read_json_state", "sort_key"]
