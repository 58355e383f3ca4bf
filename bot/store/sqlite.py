"""The default store: one SQLite file in WAL mode, reached through aiosqlite."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import AbstractAsyncContextManager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.clock import Clock
from bot.core.errors import StoreCorrupt, StoreError, StoreUnavailable
from bot.store.base import SESSION_TTL
from bot.store.locks import KeyedLocks

SCHEMA_VERSION = 1
PURGE_INTERVAL = timedelta(hours=1)
IN_MEMORY = ":memory:"

_SCHEMA = (
    "BEGIN IMMEDIATE",
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE documents (key TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at REAL NOT NULL)",
    "CREATE INDEX documents_updated_at ON documents (updated_at)",
    f"INSERT INTO meta (name, value) VALUES ('schema_version', '{SCHEMA_VERSION}')",
    "COMMIT",
)
_UPSERT = (
    "INSERT INTO documents (key, body, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at"
)


def _corrupt(path: str, detail: str) -> StoreCorrupt:
    return StoreCorrupt(
        f"{path} is not a usable 签注助手 store ({detail}). The file was left untouched. "
        f"Move it aside (for example: mv '{path}' '{path}.broken') to start with an empty store, "
        "or put a backup in its place, then start again."
    )


def _probe(path: str) -> None:
    """Raises if `path` cannot be opened at all; reads nothing from it."""
    sqlite3.connect(path).close()


def _translate(exc: sqlite3.Error | ValueError, path: str) -> StoreError:
    """Maps a sqlite3/aiosqlite error onto the project's store errors."""
    if isinstance(exc, ValueError):  # aiosqlite: "Connection closed"
        return StoreError(f"the store {path} is closed")
    code = getattr(exc, "sqlite_errorname", None) or ""
    if code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return _corrupt(path, str(exc))
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreUnavailable(
            f"the store {path} is locked by another connection ({exc}); nothing was written, try again later"
        )
    return StoreError(f"the store {path} failed: {exc} ({code or type(exc).__name__})")


class SqliteStore:
    """Documents in a `documents` table; each expires `ttl` after its last save.

    Create it with `await SqliteStore.open(...)`. Every statement runs in autocommit mode, so a
    save is one atomic upsert: it lands entirely or not at all.
    """

    def __init__(self, conn: aiosqlite.Connection, path: str, clock: Clock, ttl: timedelta) -> None:
        self._conn: aiosqlite.Connection | None = conn
        self._path = path
        self._clock = clock
        self._ttl = ttl
        self._locks = KeyedLocks()
        self._last_purge: datetime | None = None

    @classmethod
    async def open(
        cls, path: str | Path, clock: Clock, ttl: timedelta = SESSION_TTL, busy_timeout: float = 5.0
    ) -> SqliteStore:
        """Opens (creating if needed) the store at `path`; ":memory:" gives a private in-memory one."""
        if ttl <= timedelta(0):
            raise ValueError(f"ttl must be positive, got {ttl}")
        name = str(path)
        if name != IN_MEMORY:
            try:
                Path(name).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for the store {name}: {exc}") from exc
        try:
            if name != IN_MEMORY:  # aiosqlite leaks its worker thread when sqlite3.connect fails
                await asyncio.to_thread(_probe, name)
            conn = await aiosqlite.connect(name, timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise _translate(exc, name) from exc
        store = cls(conn, name, clock, ttl)
        try:
            await store._prepare()
        except BaseException:
            with suppress(sqlite3.Error):  # keep the first error; closing rolls back anything unfinished
                await conn.close()
            raise
        return store

    @property
    def path(self) -> str:
        return self._path

    async def load(self, key: str) -> str | None:
        cutoff = (self._clock.now() - self._ttl).timestamp()
        rows = await self._run("SELECT body FROM documents WHERE key = ? AND updated_at > ?", (key, cutoff))
        return str(rows[0][0]) if rows else None

    async def save(self, key: str, document: str) -> None:
        now = self._clock.now()
        if self._last_purge is None or now - self._last_purge >= PURGE_INTERVAL:
            await self.purge()
        await self._write(_UPSERT, (key, document, now.timestamp()))

    async def delete(self, key: str) -> None:
        await self._write("DELETE FROM documents WHERE key = ?", (key,))

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locks.lock(key)

    async def purge(self) -> int:
        """Deletes expired documents (an indexed range delete) and returns how many went."""
        now = self._clock.now()
        removed = await self._write(
            "DELETE FROM documents WHERE updated_at <= ?", ((now - self._ttl).timestamp(),)
        )
        self._last_purge = now
        return removed

    async def ping(self) -> bool:
        if self._conn is None:
            return False
        try:
            rows = await self._conn.execute_fetchall("SELECT 1")
            return list(rows) == [(1,)]
        except Exception:
            return False

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.close()
        except sqlite3.Error as exc:
            raise _translate(exc, self._path) from exc

    async def _prepare(self) -> None:
        """Checks an existing file without writing to it, then sets it up and purges it."""
        rows = await self._run("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {str(row[0]) for row in rows}
        if tables:
            if not {"meta", "documents"} <= tables:
                raise _corrupt(self._path, f"it is a SQLite database of something else: {sorted(tables)}")
            check = [str(row[0]) for row in await self._run("PRAGMA quick_check")]
            if check != ["ok"]:
                raise _corrupt(self._path, "quick_check: " + "; ".join(check[:3]))
            rows = await self._run("SELECT value FROM meta WHERE name = 'schema_version'")
            version = str(rows[0][0]) if rows else "missing"
            if version != str(SCHEMA_VERSION):
                raise StoreError(
                    f"{self._path} has schema version {version}, this program reads version "
                    f"{SCHEMA_VERSION}; the file was left untouched"
                )
        await self._run("PRAGMA journal_mode = WAL")
        await self._run("PRAGMA synchronous = NORMAL")
        if not tables:
            for statement in _SCHEMA:
                await self._run(statement)
        await self.purge()

    async def _run(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        if self._conn is None:
            raise StoreError(f"the store {self._path} is closed")
        try:
            return list(await self._conn.execute_fetchall(sql, parameters))
        except (sqlite3.Error, ValueError) as exc:
            raise _translate(exc, self._path) from exc

    async def _write(self, sql: str, parameters: tuple[Any, ...]) -> int:
        """Runs one autocommitted statement and returns how many rows it changed."""
        if self._conn is None:
            raise StoreError(f"the store {self._path} is closed")
        try:
            async with self._conn.execute(sql, parameters) as cursor:
                return cursor.rowcount
        except (sqlite3.Error, ValueError) as exc:
            raise _translate(exc, self._path) from exc
