"""WAL checkpoints for SqliteStore, on a thread and a connection of their own."""

from __future__ import annotations

import logging
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 64  # commits between checkpoints


class Checkpointer:
    """Copies the WAL back into the database file away from the event loop.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages, so every few dozen
    commits one of them took ~10 ms (it writes and syncs the database file) on the event loop, stalling every
    request. The store's connection turns that off (`PRAGMA wal_autocheckpoint = 0`) and reports each commit
    here; every `every` commits a PASSIVE checkpoint (it never waits for, nor blocks, readers and writers)
    runs on this thread through a second connection, with the GIL released while SQLite works. Nothing
    about durability changes: committed data is in the WAL either way.
    """

    def __init__(self, path: str, every: int = CHECKPOINT_EVERY) -> None:
        self._path = path
        self._every = every
        self._commits = 0
        self._conn: sqlite3.Connection | None = None  # opened and used on the thread only
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qianzhu-checkpoint")
        self._running: Future[None] | None = None

    def committed(self) -> None:
        """Counts one commit; starts a checkpoint when enough have gathered and none is running."""
        self._commits += 1
        if self._commits >= self._every and (self._running is None or self._running.done()):
            self._commits = 0
            self._running = self._thread.submit(self._checkpoint)

    def close(self) -> None:
        """Waits for a running checkpoint and closes the second connection (called on a worker thread)."""
        self._thread.submit(self._close).result()
        self._thread.shutdown(wait=True)

    def _checkpoint(self) -> None:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # the WAL only grows until the next one; SQLite checkpoints at close too
            log.warning("a WAL checkpoint failed: %s", exc)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error as exc:  # only a reader of the file: the store's own close matters
                log.warning("the checkpoint connection did not close cleanly: %s", exc)
