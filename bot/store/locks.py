"""Per-key asyncio locks that are forgotten as soon as nobody holds or waits on them."""

from __future__ import annotations

import asyncio
from types import TracebackType


class _Entry:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0  # holders plus waiters


class _Held:
    """The async context manager for one key (a plain class: it runs on every message)."""

    __slots__ = ("_entries", "_key")

    def __init__(self, entries: dict[str, _Entry], key: str) -> None:
        self._entries = entries
        self._key = key

    async def __aenter__(self) -> None:
        entry = self._entries.get(self._key)
        if entry is None:
            entry = self._entries[self._key] = _Entry()
        entry.users += 1
        try:
            await entry.lock.acquire()
        except BaseException:  # cancelled while waiting
            self._release_use(entry)
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        entry = self._entries[self._key]
        entry.lock.release()
        self._release_use(entry)

    def _release_use(self, entry: _Entry) -> None:
        entry.users -= 1
        if entry.users == 0:
            del self._entries[self._key]


class KeyedLocks:
    """Serialises read-modify-write cycles per key within one event loop; not re-entrant."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def lock(self, key: str) -> _Held:
        """An async context manager that holds the lock for `key` while inside."""
        return _Held(self._entries, key)

    def __len__(self) -> int:
        """How many keys currently have a holder or a waiter."""
        return len(self._entries)
