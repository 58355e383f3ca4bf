"""An in-process store for tests and ephemeral runs; everything is lost on exit."""

from __future__ import annotations

import itertools
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.core.errors import StoreError
from bot.store.base import NO_VERSION, SESSION_TTL, Versioned
from bot.store.locks import KeyedLocks
from bot.store.memory_extras import MemoryExtras
from bot.store.memory_traffic import MemoryTraffic

SWEEP_INTERVAL = timedelta(hours=1)


class MemoryStore(MemoryExtras, MemoryTraffic):
    """Keeps documents in a dict; each expires `ttl` after its last save. Traffic records are dropped with the
    hourly sweep of expired documents."""

    def __init__(self, clock: Clock, ttl: timedelta = SESSION_TTL) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"ttl must be positive, got {ttl}")
        self._clock = clock
        self._ttl = ttl
        self._documents: dict[str, tuple[str, datetime, int]] = {}  # document, saved at, version
        self._versions = itertools.count(NO_VERSION + 1)
        self._locks = KeyedLocks()
        self._last_sweep = clock.now()
        self._closed = False
        self._init_extras()
        self._init_traffic()

    def __len__(self) -> int:
        """How many documents are held, expired ones included until they are dropped."""
        return len(self._documents)

    async def load(self, key: str) -> str | None:
        return (await self.load_versioned(key))[0]

    async def load_versioned(self, key: str) -> Versioned:
        self._check_open()
        entry = self._documents.get(key)
        if entry is None:
            return None, NO_VERSION
        document, saved_at, version = entry
        if self._expired(saved_at, self._clock.now()):
            del self._documents[key]
            return None, NO_VERSION
        return document, version

    async def save(self, key: str, document: str) -> None:
        self._check_open()
        self._write(key, document)

    async def compare_and_save(self, key: str, document: str, version: int) -> bool:
        self._check_open()
        entry = self._documents.get(key)
        if (NO_VERSION if entry is None else entry[2]) != version:
            return False
        self._write(key, document)
        return True

    async def delete(self, key: str) -> None:
        """Deletes the key's document and its reminders."""
        self._check_open()
        self._documents.pop(key, None)
        self._drop_key(key)

    async def erase(self, key: str) -> None:
        """Deletes the key's document, the documents under `key + ":..."`, and the key's reminders."""
        self._check_open()
        beside = key + ":"
        for name in [name for name in self._documents if name == key or name.startswith(beside)]:
            del self._documents[name]
        self._drop_key(key)

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locks.lock(key)

    async def ping(self) -> bool:
        return not self._closed

    async def close(self) -> None:
        self._closed = True
        self._documents.clear()

    def _write(self, key: str, document: str) -> None:
        """Every save takes the next number of one counter, so a key never gets back a version it had."""
        now = self._clock.now()
        if now - self._last_sweep >= SWEEP_INTERVAL:
            self._sweep(now)
        self._documents[key] = (document, now, next(self._versions))

    def _expired(self, saved_at: datetime, now: datetime) -> bool:
        return now >= saved_at + self._ttl

    def _sweep(self, now: datetime) -> None:
        self._last_sweep = now
        stale = [key for key, (_, saved_at, _) in self._documents.items() if self._expired(saved_at, now)]
        for key in stale:
            del self._documents[key]
        self._purge_traffic()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the memory store is closed")
