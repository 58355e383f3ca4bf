"""Keeping SqliteStore small (a mixin): expired rows go by index in small batches, in the background, and the
WAL is started over on the store's own connection when it has grown.

Under load, once-only records (one or two per WeChat message, living a minute or a few) are most of what the
file holds. They used to be purged hourly, inside some user's save, by one unindexed DELETE: 621,000 rows took
7.4 s, and every request queued behind it. Now a background task purges every PURGE_EVERY seconds, once-only
records each time and documents and traffic records hourly, each by its index in statements of PURGE_BATCH
rows on the store's worker, going back to the event loop between them: a request waits at most for one batch
(a few milliseconds). On a new file (auto_vacuum INCREMENTAL) the pages a purge frees go back to the file
system once more than a quarter of the file is free, in steps of VACUUM_STEP pages, so the file shrinks again
after a burst of load; and a WAL left bigger than IDLE_LIMIT is emptied once the load is over.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from bot.core.clock import Clock
from bot.core.errors import StoreError, StoreUnavailable
from bot.store.sqlite.checkpoint import IDLE_LIMIT, Checkpointer, restart_wal, truncate_wal, wal_size
from bot.store.sqlite.errors import translate
from bot.store.sqlite.traffic import traffic_purge

log = logging.getLogger(__name__)
T = TypeVar("T")

PURGE_EVERY = 5.0  # seconds between maintenance rounds
DOCUMENTS_EVERY = timedelta(hours=1)
PURGE_BATCH = 500  # rows per DELETE
VACUUM_STEP = 1000  # pages per PRAGMA incremental_vacuum
MAINTENANCE_WAIT = 100  # ms a maintenance statement waits for another process's lock before the round gives up

PURGE_ONCE = "DELETE FROM once WHERE key IN (SELECT key FROM once WHERE expires_at <= ? LIMIT ?)"
PURGE_DOCUMENTS = "DELETE FROM documents WHERE rowid IN (SELECT rowid FROM documents WHERE updated_at <= ? LIMIT ?)"
INDEXES = (  # they make both purges range scans; harmless to repeat on every open
    "CREATE INDEX IF NOT EXISTS documents_updated ON documents (updated_at)",
    "CREATE INDEX IF NOT EXISTS once_expires ON once (expires_at)",
)
AUTO_VACUUM_INCREMENTAL = 2  # what PRAGMA auto_vacuum reports for INCREMENTAL
_PAGE_PRAGMAS = ("auto_vacuum", "freelist_count", "page_count")


def purge_all(execute: Callable[..., tuple[list[Any], int]], clock: Clock, ttl: timedelta) -> None:
    """Purges everything expired at once, on the calling thread (at open, before anyone else uses the store)."""
    now = clock.now()
    for sql, cutoff in ((PURGE_DOCUMENTS, (now - ttl).timestamp()), (PURGE_ONCE, now.timestamp())):
        while execute(sql, (cutoff, PURGE_BATCH))[1] == PURGE_BATCH:
            pass
    for sql, parameters in traffic_purge(clock.today()):
        execute(sql, parameters)


class SqlitePurge:
    _path: str
    _clock: Clock
    _ttl: timedelta
    _conn: sqlite3.Connection | None
    _checkpoints: Checkpointer | None
    _last_purge: datetime | None

    async def _on_worker(self, job: Callable[[], T]) -> T:
        raise NotImplementedError

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> tuple[list[Any], int]:
        raise NotImplementedError

    def _committed(self) -> None:
        raise NotImplementedError

    def _init_purge(self, every: float) -> None:
        self._purge_every = every
        self._stopping = asyncio.Event()
        self._maintenance: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._restarting: asyncio.Future[None] | None = None

    def _start_maintenance(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._maintenance = self._loop.create_task(self._maintain())

    def _wal_over_limit(self) -> None:
        """From the checkpoint thread: the WAL passed WAL_LIMIT; the store starts it over on its own worker."""
        if self._loop is not None:
            with suppress(RuntimeError):  # the loop is gone: so is the load
                self._loop.call_soon_threadsafe(self._restart_wal)

    def _restart_wal(self) -> None:
        if self._conn is not None and (self._restarting is None or self._restarting.done()):
            self._restarting = asyncio.ensure_future(self._checkpoint_wal(restart_wal))

    async def _checkpoint_wal(self, how: Callable[[sqlite3.Connection], bool]) -> None:
        """On the store's own connection, between its transactions, so that it never finds the file locked by
        the store itself; the store's statements wait the few milliseconds it takes, as for a purge batch."""
        conn = self._conn
        if conn is None or self._stopping.is_set():
            return
        try:
            done = await self._on_worker(partial(self._briefly, how, conn))
        except (sqlite3.Error, ValueError) as exc:  # ValueError: the connection was closed meanwhile
            log.warning("the WAL could not be started over: %s", exc)
            return
        if not done:
            log.info("the WAL could not be started over yet (another process is reading it); trying again later")

    async def _stop_maintenance(self) -> None:
        """Lets a round end after its current statement (never in the middle of one on the worker)."""
        self._stopping.set()
        task, self._maintenance = self._maintenance, None
        if task is not None:
            await task
        if self._restarting is not None:
            await asyncio.wait({self._restarting})

    async def purge(self) -> int:
        """Deletes expired documents, once-only records and traffic records; returns how many documents went."""
        now = self._clock.now()
        removed = await self._purge_rows(PURGE_DOCUMENTS, (now - self._ttl).timestamp())
        await self._purge_rows(PURGE_ONCE, now.timestamp())
        for sql, parameters in traffic_purge(self._clock.today()):
            await self._on_worker(partial(self._briefly, self._execute, sql, parameters))
            self._committed()
        self._last_purge = now
        return removed

    async def _maintain(self) -> None:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._purge_every)
                return
            try:
                if self._last_purge is None or self._clock.now() - self._last_purge >= DOCUMENTS_EVERY:
                    await self.purge()
                else:
                    await self._purge_rows(PURGE_ONCE, self._clock.now().timestamp())
                await self._release_free_pages()
            except StoreUnavailable as exc:  # another process holds the lock: the next round tries again
                log.info("the store's maintenance waits for the next round: %s", exc)
            except Exception as exc:  # a failing disk, say: the next round tries again, and close must not fail
                log.warning("purging the store failed; trying again in %.0f s: %s", self._purge_every, exc)
            if self._checkpoints is not None and self._checkpoints.quiet() and wal_size(self._path) > IDLE_LIMIT:
                await self._checkpoint_wal(truncate_wal)  # the load is over: give the space back

    async def _purge_rows(self, sql: str, cutoff: float) -> int:
        removed = 0
        while not self._stopping.is_set():
            changed = (await self._on_worker(partial(self._briefly, self._execute, sql, (cutoff, PURGE_BATCH))))[1]
            self._committed()
            removed += changed
            if changed < PURGE_BATCH:
                break
            await asyncio.sleep(0)  # the requests that came in meanwhile go first
        return removed

    async def _release_free_pages(self) -> None:
        mode, free, pages = await self._on_worker(self._page_counts)
        if mode != AUTO_VACUUM_INCREMENTAL or free * 4 <= pages:
            return
        keep = (pages - free) // 8  # room for the rows of the next rounds
        while free > keep and not self._stopping.is_set():
            step = min(VACUUM_STEP, free - keep)
            await self._on_worker(partial(self._briefly, self._script, f"PRAGMA incremental_vacuum({step})"))
            self._committed()
            free -= step
            await asyncio.sleep(0)

    def _page_counts(self) -> tuple[int, int, int]:
        """On the worker: (auto_vacuum mode, free pages, all pages)."""
        mode, free, pages = (int(self._execute(f"PRAGMA {name}")[0][0][0]) for name in _PAGE_PRAGMAS)
        return mode, free, pages

    def _script(self, sql: str) -> None:
        """On the worker: runs `sql` to its end. `execute` would free one page of an incremental_vacuum (Python's
        sqlite3 steps a statement without result rows only once); executescript steps it until it is done."""
        if self._conn is None:
            raise StoreError(f"the store {self._path} is closed")
        try:
            self._conn.executescript(sql)
        except (sqlite3.Error, ValueError) as exc:
            raise translate(exc, self._path) from exc

    def _briefly(self, run: Callable[..., T], *arguments: Any) -> T:
        """On the worker: one maintenance statement, waiting only a little for another process's lock (it can
        wait for the next round; the requests queued behind it cannot)."""
        conn = self._conn
        if conn is None:
            return run(*arguments)  # raises: the store is closed
        conn.execute(f"PRAGMA busy_timeout = {MAINTENANCE_WAIT}")
        try:
            return run(*arguments)
        finally:
            with suppress(sqlite3.Error):
                conn.execute("PRAGMA busy_timeout = 0")
