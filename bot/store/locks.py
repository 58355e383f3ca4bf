"""Per-key asyncio locks that are forgotten as soon as nobody holds or waits on them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager


class _Entry:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0  # holders plus waiters


class KeyedLocks:
    """Serialises read-modify-write cycles per key within one event loop; not re-entrant."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """An async context manager that holds the lock for `key` while inside."""
        return self._hold(key)

    def __len__(self) -> int:
        """How many keys currently have a holder or a waiter."""
        return len(self._entries)

    @asynccontextmanager
    async def _hold(self, key: str) -> AsyncIterator[None]:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[key]
