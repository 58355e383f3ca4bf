"""WAL checkpoints for SqliteStore, on a thread and a connection of their own, with the WAL kept bounded."""

from __future__ import annotations

import logging
import os
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 64  # commits between checkpoints
WAL_LIMIT = 16 * 1024 * 1024  # bytes: a WAL beyond this is emptied (and PRAGMA journal_size_limit)
IDLE_LIMIT = 1024 * 1024  # bytes: what `tidy` leaves alone
TRUNCATE_WAIT = 1.0  # seconds a truncating checkpoint may wait for a gap between writers and for readers


def wal_size(path: str) -> int:
    """The size of the store's -wal file in bytes (0 when there is none)."""
    try:
        return os.stat(path + "-wal").st_size
    except OSError:
        return 0


def truncate_wal(conn: sqlite3.Connection) -> bool:
    """Copies every committed frame into the database file and empties the WAL (waiting for writers and readers
    as long as `conn`'s busy timeout allows); True when it is done. After it, the .db file alone holds every
    committed write, so a copy of it is a whole backup."""
    row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return row is not None and row[0] == 0


class Checkpointer:
    """Copies the WAL back into the database file away from the event loop, and keeps the WAL bounded.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages, so every few dozen
    commits one of them took ~10 ms (it writes and syncs the database file) on the event loop, stalling every
    request. The store's connection turns that off (`PRAGMA wal_autocheckpoint = 0`) and reports each commit
    here; every `every` commits a PASSIVE checkpoint (it never waits for, nor blocks, readers and writers)
    runs on this thread through a second connection, with the GIL released while SQLite works. Nothing
    about durability changes: committed data is in the WAL either way.

    A PASSIVE checkpoint never resets the WAL while writers keep appending to it, so under sustained load the
    file grew by ~17 MB/s without end (1.45 GB in 80 s). When it has grown beyond `limit`, a TRUNCATE
    checkpoint follows the PASSIVE one: it waits (at most TRUNCATE_WAIT) for a gap between the store's short
    transactions, copies the few frames the PASSIVE one left, and empties the file. The store's writes that
    meet it for those milliseconds wait on the store's worker thread, as for any other lock.
    """

    def __init__(self, path: str, every: int = CHECKPOINT_EVERY, limit: int = WAL_LIMIT) -> None:
        self._path = path
        self._every = every
        self._limit = limit
        self._commits = 0
        self._conn: sqlite3.Connection | None = None  # opened and used on the thread only
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qianzhu-checkpoint")
        self._running: Future[None] | None = None

    def committed(self) -> None:
        """Counts one commit; starts a checkpoint when enough have gathered and none is running."""
        self._commits += 1
        if self._commits >= self._every and self._idle():
            self._commits = 0
            self._running = self._thread.submit(self._checkpoint, self._limit)

    def tidy(self) -> None:
        """Empties a WAL left bigger than IDLE_LIMIT, for instance after a burst of load has ended (called by the
        store's maintenance every few seconds; a no-op while a checkpoint is running)."""
        if self._idle() and wal_size(self._path) > IDLE_LIMIT:
            self._running = self._thread.submit(self._checkpoint, IDLE_LIMIT)

    def close(self) -> None:
        """Waits for a running checkpoint and closes the second connection (called on a worker thread)."""
        self._thread.submit(self._close).result()
        self._thread.shutdown(wait=True)

    def _idle(self) -> bool:
        return self._running is None or self._running.done()

    def _checkpoint(self, limit: int) -> None:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(
                    self._path, timeout=TRUNCATE_WAIT, isolation_level=None, check_same_thread=False
                )
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # never calls the busy handler
            if wal_size(self._path) > limit and not truncate_wal(self._conn):
                log.info("the WAL could not be emptied yet (the file was busy); trying again later")
        except sqlite3.Error as exc:  # the WAL only grows until the next one; the store's close empties it too
            log.warning("a WAL checkpoint failed: %s", exc)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error as exc:  # only a reader of the file: the store's own close matters
                log.warning("the checkpoint connection did not close cleanly: %s", exc)
