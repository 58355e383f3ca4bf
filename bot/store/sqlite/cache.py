"""SqliteStore's read cache: the documents this process last read or wrote, dropped when another process writes.

SQLite's `PRAGMA data_version` changes when another connection commits to the file. The cache runs it at
most once per `revalidate` seconds (a read of the file costs about as much as the check itself), and clears
every entry when the number has moved; so a read sees another process's commit within that interval, and
this process's own writes at once. A stale entry's version is stale too, so a conditional save made from it
fails in the database and costs a rerun, never a lost update (the store then drops the entry). Entries
remember an epoch: a read or write that was in flight while the cache was cleared does not put back what it
saw, because a newer value may have landed in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Entry = tuple[str | None, float, int]  # (body or None when the key has no row, updated_at, version)
REVALIDATE = 0.001  # seconds
LIMIT = 50_000


class DocumentCache:
    def __init__(self, version: Callable[[], int], revalidate: float = REVALIDATE, limit: int = LIMIT) -> None:
        self._version = version
        self._revalidate = revalidate
        self._limit = limit
        self._entries: dict[str, Entry] = {}
        self._seen: int | None = None
        self._checked = float("-inf")
        self.epoch = 0

    def revalidate(self) -> None:
        """Clears everything if another connection committed since the last look (at most once per interval).
        The first look notes the version that later ones are compared with."""
        now = time.monotonic()
        if now - self._checked > self._revalidate:
            version = self._version()
            self._checked = now
            if version != self._seen:
                self._seen = version
                self.clear()

    def get(self, key: str) -> Entry | None:
        """The entry for `key`, after checking that nobody else wrote meanwhile."""
        self.revalidate()
        return self._entries.get(key)

    def put(self, key: str, body: str | None, updated_at: float, version: int, epoch: int) -> None:
        """Records what a read found or a committed write left, unless the cache was cleared since `epoch`."""
        if epoch != self.epoch:
            self._entries.pop(key, None)
            return
        if key not in self._entries and len(self._entries) >= self._limit:
            del self._entries[next(iter(self._entries))]  # the oldest entry
        self._entries[key] = (body, updated_at, version)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forgets everything, e.g. after a rollback or another process's commit."""
        self._entries.clear()
        self.epoch += 1
