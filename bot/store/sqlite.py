"""The default store: one SQLite file in WAL mode."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.core.clock import Clock
from bot.core.errors import StoreError, StoreUnavailable
from bot.store.base import NO_VERSION, SESSION_TTL, Versioned
from bot.store.locks import KeyedLocks
from bot.store.sqlite_cache import DocumentCache
from bot.store.sqlite_checkpoint import Checkpointer
from bot.store.sqlite_commit import GroupCommit
from bot.store.sqlite_errors import corrupt, translate
from bot.store.sqlite_extras import EXTRA_SCHEMA, SqliteExtras
from bot.store.sqlite_traffic import TRAFFIC_SCHEMA, SqliteTraffic, traffic_purge
from bot.store.sqlite_versions import INSERT_NEW, SELECT, UPDATE_IF, UPSERT, add_version_column, fresh_version
from bot.store.traffic_buffer import TrafficBuffer

SCHEMA_VERSION = 1
PURGE_INTERVAL = timedelta(hours=1)
IN_MEMORY = ":memory:"
T = TypeVar("T")

_SCHEMA = (
    "BEGIN IMMEDIATE",
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE documents (key TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at REAL NOT NULL)",
    f"INSERT INTO meta (name, value) VALUES ('schema_version', '{SCHEMA_VERSION}')",
    "COMMIT",
)


class SqliteStore(SqliteExtras, SqliteTraffic):
    """Documents in a `documents` table; each expires `ttl` after its last save.

    Create it with `await SqliteStore.open(...)`. Each write is one atomic statement: it lands entirely or
    not at all, and it returns only once it is committed.

    A read or write of one small row in WAL mode takes microseconds, far less than handing it to a thread,
    so statements run inline with SQLite's busy timeout at zero: they never wait. While several conversations
    hold their locks, the writes of one event-loop tick share one transaction and one COMMIT at the end of
    the tick (see GroupCommit), and reads see them at once; a lone conversation's write commits at once.
    Once-only records join the tick's transaction without waiting for its COMMIT (see `claim_once`).
    Traffic counts are kept in memory and written every few seconds, with the session save of the moment when
    there is one (see TrafficBuffer), and at close.
    A write that finds the file locked by another connection (a read, in WAL mode, hardly ever does) is
    retried in autocommit mode on the store's single worker thread with the full busy timeout, and every
    statement after it goes there too until the worker is idle again, so the event loop never blocks on
    another process and statements keep their order.
    """

    def __init__(self, conn: sqlite3.Connection, path: str, clock: Clock, ttl: timedelta, busy_timeout: float):
        self._conn: sqlite3.Connection | None = conn
        self._path = path
        self._clock = clock
        self._ttl = ttl
        self._busy_ms = int(busy_timeout * 1000)
        self._locks = KeyedLocks()
        self._last_purge: datetime | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qianzhu-sqlite")
        self._queued = 0  # statements handed to the worker and not finished yet
        self._checkpoints = Checkpointer(path) if path != IN_MEMORY else None
        self._group = GroupCommit(conn, lambda exc: translate(exc, path), self._committed, self._rolled_back)
        self._cache = DocumentCache(self._data_version)
        self._traffic = TrafficBuffer(self._write_traffic)

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
            conn = await asyncio.to_thread(
                sqlite3.connect, name, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise translate(exc, name) from exc
        store = cls(conn, name, clock, ttl, busy_timeout)
        try:
            await store._on_worker(store._prepare)
        except BaseException:
            await store.close()
            raise
        conn.execute("PRAGMA busy_timeout = 0")
        store._cache.revalidate()  # the first look at data_version, before anything is cached
        if store._checkpoints is not None:
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # the Checkpointer's thread does them instead
        return store

    @property
    def path(self) -> str:
        return self._path

    async def load(self, key: str) -> str | None:
        return (await self.load_versioned(key))[0]

    async def load_versioned(self, key: str) -> Versioned:
        """May come from the cache: a version it has not seen yet makes the conditional save fail, not lose."""
        cutoff = (self._clock.now() - self._ttl).timestamp()
        # The cache runs a statement inline, so only while the worker is not using the connection.
        cached = self._cache.get(key) if self._queued == 0 else None
        if cached is None:
            epoch = self._cache.epoch
            rows = await self._run(SELECT, (key,))
            cached = (str(rows[0][0]), float(rows[0][1]), int(rows[0][2])) if rows else (None, 0.0, NO_VERSION)
            self._cache.put(key, cached[0], cached[1], cached[2], epoch)
        body, updated_at, version = cached
        return (body, version) if updated_at > cutoff else (None, NO_VERSION)

    async def save(self, key: str, document: str) -> None:
        await self._write(key, document, None)

    async def compare_and_save(self, key: str, document: str, version: int) -> bool:
        """One statement that checks the version under the file's write lock (see sqlite_versions). A lost race
        drops the key's cache entry, so the caller's next read asks the file."""
        return await self._write(key, document, version)

    async def _write(self, key: str, document: str, expected: int | None) -> bool:
        """Saves unconditionally (`expected` None) or only over version `expected`; True if it was saved."""
        now = self._clock.now()
        if self._last_purge is None or now - self._last_purge >= PURGE_INTERVAL:
            await self.purge()
        if self._traffic.due:
            await self.flush_traffic()
        updated_at, version = now.timestamp(), fresh_version()
        parameters: tuple[Any, ...]
        if expected is None:
            sql, parameters = UPSERT, (key, document, updated_at, version)
        elif expected == NO_VERSION:
            cutoff = (now - self._ttl).timestamp()
            sql, parameters = INSERT_NEW, (key, document, updated_at, version, cutoff)
        else:
            sql, parameters = UPDATE_IF, (document, updated_at, version, key, expected)
        epoch = self._cache.epoch
        try:
            changed = await self._change(sql, parameters)
        except BaseException:
            self._cache.drop(key)  # it may or may not have landed
            raise
        if changed != 1:
            self._cache.drop(key)  # another writer came first
            return False
        self._cache.put(key, document, updated_at, version, epoch)
        return True

    async def delete(self, key: str) -> None:
        """Deletes the key's document and its reminders."""
        self._cache.drop(key)  # a read while the DELETE waits for its COMMIT asks the connection, not the cache
        try:
            await self._run("DELETE FROM documents WHERE key = ?", (key,))
        finally:
            self._cache.drop(key)
        await self._run("DELETE FROM reminders WHERE key = ?", (key,))

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locks.lock(key)

    async def purge(self) -> int:
        """Deletes expired documents (an indexed range delete, on the worker) and returns how many went."""
        now = self._clock.now()
        cutoff = ((now - self._ttl).timestamp(),)
        removed = await self._on_worker(lambda: self._execute("DELETE FROM documents WHERE updated_at <= ?", cutoff)[1])
        await self._on_worker(lambda: self._execute("DELETE FROM once WHERE expires_at <= ?", (now.timestamp(),)))
        dropped = traffic_purge(self._clock.today())
        await self._on_worker(lambda: [self._execute(sql, parameters) for sql, parameters in dropped])
        self._committed()
        self._last_purge = now
        return removed

    async def ping(self) -> bool:
        try:
            return await self._run("SELECT 1") == [(1,)]
        except Exception:
            return False

    async def close(self) -> None:
        if self._conn is not None:
            await self._traffic.close()
        pending = self._group.pending
        if pending is not None:  # the last tick's writes are committed (or fail their writers) first
            await asyncio.wait({pending})
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self._checkpoints is not None:
                await asyncio.get_running_loop().run_in_executor(self._worker, self._checkpoints.close)
            await asyncio.get_running_loop().run_in_executor(self._worker, conn.close)
        except sqlite3.Error as exc:
            raise translate(exc, self._path) from exc
        finally:
            self._worker.shutdown(wait=True)

    def _prepare(self) -> None:
        """Checks an existing file without writing to it, then sets it up and purges it."""
        rows = self._execute("SELECT name FROM sqlite_master WHERE type = 'table'")[0]
        tables = {str(row[0]) for row in rows}
        if tables:
            if not {"meta", "documents"} <= tables:
                raise corrupt(self._path, f"it is a SQLite database of something else: {sorted(tables)}")
            check = [str(row[0]) for row in self._execute("PRAGMA quick_check")[0]]
            if check != ["ok"]:
                raise corrupt(self._path, "quick_check: " + "; ".join(check[:3]))
            rows = self._execute("SELECT value FROM meta WHERE name = 'schema_version'")[0]
            version = str(rows[0][0]) if rows else "missing"
            if version != str(SCHEMA_VERSION):
                raise StoreError(
                    f"{self._path} has schema version {version}, this program reads version "
                    f"{SCHEMA_VERSION}; the file was left untouched"
                )
        if not tables:
            # Each commit copies whole pages into the WAL; documents are ~100 bytes, so small pages make
            # every save about a quarter cheaper. Only a new, empty file can still change its page size.
            self._execute("PRAGMA page_size = 1024")
        self._execute("PRAGMA journal_mode = WAL")
        self._execute("PRAGMA synchronous = NORMAL")
        if not tables:
            for statement in _SCHEMA:
                self._execute(statement)
        for statement in (*EXTRA_SCHEMA, *TRAFFIC_SCHEMA):  # added after version 1 shipped; harmless to repeat
            self._execute(statement)
        add_version_column(self._execute)  # also added after version 1 shipped
        cutoff = ((self._clock.now() - self._ttl).timestamp(),)
        self._execute("DELETE FROM documents WHERE updated_at <= ?", cutoff)
        for sql, parameters in traffic_purge(self._clock.today()):
            self._execute(sql, parameters)
        self._last_purge = self._clock.now()

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> tuple[list[Any], int]:
        """Runs one statement on the calling thread; returns (rows, rows changed)."""
        if self._conn is None:
            raise StoreError(f"the store {self._path} is closed")
        try:
            cursor = self._conn.execute(sql, parameters)
            return cursor.fetchall(), cursor.rowcount
        except (sqlite3.Error, ValueError) as exc:
            raise translate(exc, self._path) from exc

    async def _run(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        return (await self._statement(sql, parameters))[0]

    async def _change(self, sql: str, parameters: tuple[Any, ...] = (), wait: bool = True) -> int:
        """Runs a write and returns how many rows it changed. With `wait` False the write still takes effect at
        once for this connection, under the file's write lock, but returns before the tick's COMMIT."""
        return (await self._statement(sql, parameters, wait))[1]

    async def _statement(self, sql: str, parameters: tuple[Any, ...], wait: bool = True) -> tuple[list[Any], int]:
        if self._queued == 0:
            try:
                if sql.startswith("SELECT"):
                    return self._execute(sql, parameters)
                if wait and self._group.pending is None and len(self._locks) <= 1:
                    # One conversation at work: nobody to share a commit with, so commit now (autocommit)
                    # and save the extra statement and event-loop turn that a group commit costs.
                    result = self._execute(sql, parameters)
                    self._committed()
                    return result
                committed = self._group.begin(wait)
            except StoreUnavailable:
                pass  # locked by another connection: wait for it on the worker instead
            else:
                try:
                    result = self._execute(sql, parameters)
                except StoreError as exc:
                    if committed is not None:
                        committed.cancel()  # nothing of this write is left to wait for
                    self._group.failed(exc)
                    raise
                if committed is not None:
                    await committed
                return result
        result = await self._on_worker(lambda: self._patient(sql, parameters))
        if not sql.startswith("SELECT"):
            self._committed()
        return result

    def _data_version(self) -> int:
        """Changes whenever another connection commits to the file (never for this connection's own commits)."""
        return int(self._execute("PRAGMA data_version")[0][0][0])

    def _rolled_back(self) -> None:
        self._cache.clear()  # reads may have cached writes of the transaction that is now gone

    def _committed(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.committed()

    def _patient(self, sql: str, parameters: tuple[Any, ...]) -> tuple[list[Any], int]:
        """On the worker: the statement with the full busy timeout."""
        assert self._conn is not None
        self._conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        try:
            return self._execute(sql, parameters)
        finally:
            with suppress(sqlite3.Error):
                self._conn.execute("PRAGMA busy_timeout = 0")

    async def _on_worker(self, job: Callable[[], T]) -> T:
        self._queued += 1
        try:
            pending = self._group.pending
            if pending is not None:  # the worker shares the connection: the open transaction goes first
                await asyncio.wait({pending})
            return await asyncio.get_running_loop().run_in_executor(self._worker, job)
        finally:
            self._queued -= 1
