"""The default store: one SQLite file in WAL mode."""

from __future__ import annotations

import asyncio
import logging
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
from bot.store.sqlite.cache import DocumentCache
from bot.store.sqlite.checkpoint import Checkpointer, truncate_wal
from bot.store.sqlite.commit import GroupCommit
from bot.store.sqlite.errors import translate
from bot.store.sqlite.extras import SqliteExtras
from bot.store.sqlite.health import PING_TIMEOUT, probe, room_to_write
from bot.store.sqlite.purge import PURGE_EVERY, SqlitePurge, purge_all
from bot.store.sqlite.schema import SCHEMA_VERSION, prepare
from bot.store.sqlite.traffic import SqliteTraffic
from bot.store.sqlite.versions import INSERT_NEW, SELECT, UPDATE_IF, UPSERT, fresh_version
from bot.store.traffic_buffer import TrafficBuffer

IN_MEMORY = ":memory:"
T = TypeVar("T")
log = logging.getLogger(__name__)
__all__ = ["IN_MEMORY", "SCHEMA_VERSION", "SqliteStore"]


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """From the worker thread: `callback` on the event loop, unless the loop is gone already."""
    with suppress(RuntimeError):
        loop.call_soon_threadsafe(callback)


def _seen(future: asyncio.Future[bool]) -> None:
    """Marks a health probe's failure as retrieved even when no ping waited for its end."""
    if not future.cancelled():
        future.exception()


class SqliteStore(SqliteExtras, SqliteTraffic, SqlitePurge):
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
    retried in autocommit mode on the store's single worker thread with the full busy timeout, so the event
    loop never blocks on another process; while the worker has the connection (that write, a purge batch, a
    health probe), every other statement waits for it to finish and then runs inline again.
    Expired rows are purged in the background and the WAL stays bounded (see SqlitePurge and Checkpointer);
    `close` empties the WAL into the database file, so the .db alone holds every committed write afterwards.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: str,
        clock: Clock,
        ttl: timedelta,
        busy_timeout: float,
        purge_every: float = PURGE_EVERY,
    ):
        self._conn: sqlite3.Connection | None = conn
        self._path = path
        self._clock = clock
        self._ttl = ttl
        self._busy_ms = int(busy_timeout * 1000)
        self._locks = KeyedLocks()
        self._last_purge: datetime | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qianzhu-sqlite")
        self._queued = 0  # statements handed to the worker and not finished yet
        self._idle = asyncio.Event()  # set while nothing is on the worker (_queued == 0)
        self._idle.set()
        self._checkpoints = Checkpointer(path, self._wal_over_limit) if path != IN_MEMORY else None
        self._group = GroupCommit(conn, lambda exc: translate(exc, path), self._committed, self._rolled_back)
        self._cache = DocumentCache(self._data_version)
        self._traffic = TrafficBuffer(self._write_traffic)
        self._ready = False  # set once the file has been checked and set up
        self._probe: asyncio.Future[bool] | None = None  # the health probe in flight
        self._init_purge(purge_every)

    @classmethod
    async def open(
        cls,
        path: str | Path,
        clock: Clock,
        ttl: timedelta = SESSION_TTL,
        busy_timeout: float = 5.0,
        purge_every: float = PURGE_EVERY,
    ) -> SqliteStore:
        """Opens (creating if needed) the store at `path`; ":memory:" gives a private in-memory one. Expired rows
        are purged every `purge_every` seconds. Waits up to `busy_timeout` for another process's lock."""
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
        store = cls(conn, name, clock, ttl, busy_timeout, purge_every)
        try:
            await store._on_worker(store._prepare)
        except BaseException:
            await store.close()
            raise
        conn.execute("PRAGMA busy_timeout = 0")
        store._cache.revalidate()  # the first look at data_version, before anything is cached
        if store._checkpoints is not None:
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # the Checkpointer's thread does them instead
        store._ready = True
        store._start_maintenance()
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

    async def erase(self, key: str) -> None:
        """Deletes the key's document, the documents under `key + ":..."` (a range on the primary key: every
        such key sorts from `key:` up to, not including, `key;`), and the key's reminders."""
        self._cache.clear()  # the erased keys are not known one by one; a read while the DELETE waits asks the file
        try:
            await self._run(
                "DELETE FROM documents WHERE key = ? OR (key >= ? AND key < ?)", (key, key + ":", key + ";")
            )
        finally:
            self._cache.clear()
        await self._run("DELETE FROM reminders WHERE key = ?", (key,))

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locks.lock(key)

    async def ping(self) -> bool:
        """True when the store can commit a write now (see sqlite_health); False, quickly and never an error,
        when it cannot: another connection holds the write lock, the file or its file system is read-only or
        full, or the store is closed. At most one probe runs at a time; one that is still waiting for the
        worker answers False to the pings after it, and is never cancelled (the worker shares the connection)."""
        if self._conn is None or (self._path != IN_MEMORY and not room_to_write(self._path)):
            return False
        if self._probe is not None and not self._probe.done():
            return False  # the last probe is still waiting for the worker: the store is stuck
        self._probe = asyncio.ensure_future(self._on_worker(lambda: probe(self._execute)))
        self._probe.add_done_callback(_seen)
        done, _ = await asyncio.wait({self._probe}, timeout=PING_TIMEOUT)
        if not done or self._probe.cancelled() or self._probe.exception() is not None:
            return False
        self._committed()
        return self._probe.result()

    async def close(self) -> None:
        """Stops the purges, commits what is pending, and empties the WAL into the database file before closing,
        so that the .db file alone (a backup that copies only it) holds every committed write."""
        await self._stop_maintenance()
        if self._conn is not None:
            await self._traffic.close()
        pending = self._group.pending
        if pending is not None:  # the last tick's writes are committed (or fail their writers) first
            await asyncio.wait({pending})
        conn, self._conn = self._conn, None
        if conn is None:
            return
        loop = asyncio.get_running_loop()
        try:
            if self._checkpoints is not None:
                await loop.run_in_executor(self._worker, self._checkpoints.close)
                if self._ready:
                    await loop.run_in_executor(self._worker, self._empty_wal_at_close, conn)
            await loop.run_in_executor(self._worker, conn.close)
        except sqlite3.Error as exc:
            raise translate(exc, self._path) from exc
        finally:
            self._worker.shutdown(wait=True)

    def _empty_wal_at_close(self, conn: sqlite3.Connection) -> None:
        """On the worker, at close: a TRUNCATE checkpoint, waiting for other processes as long as a write would."""
        try:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            if truncate_wal(conn):
                return
            problem = "another connection kept using it"
        except sqlite3.Error as exc:
            problem = str(exc)
        log.warning(
            "the WAL of %s could not be emptied at close (%s): the -wal file still holds recent writes; keep it "
            "with the .db file (SQLite reads it back at the next open)",
            self._path,
            problem,
        )

    def _prepare(self) -> None:
        """Checks and sets up the file (see sqlite_schema), then purges what expired while it was closed."""
        prepare(self._execute, self._path, self._busy_ms / 1000)
        purge_all(self._execute, self._clock, self._ttl)
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
        # The worker shares the connection, so a statement waits while it is busy (a purge batch, a health probe,
        # a write waiting for another process's lock), then runs inline like any other. Queueing behind the
        # worker instead kept a busy store on the worker for good: each statement took a thread's round trip,
        # so the worker never fell idle under load, and a purge every few seconds halved the throughput.
        while self._queued > 0:
            await self._idle.wait()
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
        """Runs `job` on the worker thread. The worker counts as busy until the job has ended, even when the
        caller stops waiting for it (a cancelled caller cannot stop a statement that SQLite is running)."""
        loop = asyncio.get_running_loop()
        self._queued += 1
        self._idle.clear()
        try:
            pending = self._group.pending
            if pending is not None:  # the worker shares the connection: the open transaction goes first
                await asyncio.wait({pending})
            running = self._worker.submit(job)
        except BaseException:
            self._dequeue()
            raise
        running.add_done_callback(lambda _: _call_soon(loop, self._dequeue))  # before the caller resumes
        return await asyncio.wrap_future(running)

    def _dequeue(self) -> None:
        self._queued -= 1
        if self._queued == 0:
            self._idle.set()
