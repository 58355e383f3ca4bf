"""The state-store contract: opaque JSON documents per conversation key."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Protocol

SESSION_TTL = timedelta(days=30)


class Store(Protocol):
    """Keeps one JSON document per conversation key.

    A key is already pseudonymous (see `bot.core.keys`); stores never see raw user ids.
    `load` returns None for a key that is unknown or has not been saved for longer than the TTL.
    `lock(key)` serialises read-modify-write cycles for one key within the process.
    """

    async def load(self, key: str) -> str | None: ...

    async def save(self, key: str, document: str) -> None: ...

    async def delete(self, key: str) -> None: ...

    def lock(self, key: str) -> AbstractAsyncContextManager[None]: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
