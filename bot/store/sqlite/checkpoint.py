"""WAL checkpoints for SqliteStore: PASSIVE ones on a thread and a connection of their own, and the ones that keep
the WAL bounded."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 64  # commits between checkpoints
WAL_LIMIT = 16 * 1024 * 1024  # bytes: a WAL beyond this is started over (and PRAGMA journal_size_limit)
IDLE_LIMIT = 1024 * 1024  # bytes: a WAL beyond this is emptied once the load is over


def wal_size(path: str) -> int:
    """The size of the store's -wal file in bytes (0 when there is none)."""
    try:
        return os.stat(path + "-wal").st_size
    except OSError:
        return 0


def truncate_wal(conn: sqlite3.Connection) -> bool:
    """Copies every committed frame into the database file and empties the WAL file (waiting for other
    connections as long as `conn`'s busy timeout allows); True when it is done. After it, the .db file alone
    holds every committed write, so a copy of it is a whole backup."""
    return _checkpoint(conn, "TRUNCATE")


def restart_wal(conn: sqlite3.Connection) -> bool:
    """Like `truncate_wal`, but the next write starts the WAL file over from its beginning instead of emptying
    it (the store's journal_size_limit then cuts the file down to WAL_LIMIT): cheaper under load, where the
    file would at once grow again."""
    return _checkpoint(conn, "RESTART")


def _checkpoint(conn: sqlite3.Connection, mode: str) -> bool:
    row = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return row is not None and row[0] == 0


class Checkpointer:
    """Copies the WAL back into the database file away from the event loop, and says when it grew too big.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages, so every few dozen
    commits one of them took ~10 ms (it writes and syncs the database file) on the event loop, stalling every
    request. The store's connection turns that off (`PRAGMA wal_autocheckpoint = 0`) and reports each commit
    here; every `every` commits a PASSIVE checkpoint (it never waits for, nor blocks, readers and writers)
    runs on this thread through a second connection, with the GIL released while SQLite works. Nothing
    about durability changes: committed data is in the WAL either way.

    A PASSIVE checkpoint never starts the WAL over while writers keep appending to it, so under sustained load
    the file grew by ~17 MB/s without end (1.45 GB in 80 s). When it has grown beyond `limit`, this thread calls
    `over_limit`, and the store starts the WAL over on its own connection between two of its transactions (see
    SqlitePurge): a checkpoint from this connection would have to catch the store without its write lock,
    which under load it holds nearly all the time, and each time it did the store's writes met a locked file.
    """

    def __init__(
        self, path: str, over_limit: Callable[[], None], every: int = CHECKPOINT_EVERY, limit: int = WAL_LIMIT
    ) -> None:
        self._path = path
        self._over_limit = over_limit  # called on this thread
        self._every = every
        self._limit = limit
        self._commits = 0
        self._since_quiet = 0
        self._conn: sqlite3.Connection | None = None  # opened and used on the thread only
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qianzhu-checkpoint")
        self._running: Future[None] | None = None

    def committed(self) -> None:
        """Counts one commit; starts a checkpoint when enough have gathered and none is running."""
        self._commits += 1
        self._since_quiet += 1
        if self._commits >= self._every and (self._running is None or self._running.done()):
            self._commits = 0
            self._running = self._thread.submit(self._checkpoint)

    def quiet(self) -> bool:
        """True when fewer than `every` commits came since the last call: the load is over, for now."""
        commits, self._since_quiet = self._since_quiet, 0
        return commits < self._every

    def close(self) -> None:
        """Waits for a running checkpoint and closes the second connection (called on a worker thread)."""
        self._thread.submit(self._close).result()
        self._thread.shutdown(wait=True)

    def _checkpoint(self) -> None:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # the WAL only grows until the next one; the store's close empties it too
            log.warning("a WAL checkpoint failed: %s", exc)
            return
        if wal_size(self._path) > self._limit:
            self._over_limit()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error as exc:  # only a reader of the file: the store's own close matters
                log.warning("the checkpoint connection did not close cleanly: %s", exc)
