"""Picks and opens the state store named by a URL or a file path."""

from __future__ import annotations

import re

from bot.core.clock import Clock
from bot.core.errors import StoreError
from bot.settings import default_db_path
from bot.store.extras import Stores
from bot.store.memory import MemoryStore
from bot.store.redis import REDIS_SCHEMES, RedisStore, redact
from bot.store.sqlite import SqliteStore

MEMORY_URL = "memory:"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters or more, so "C:\x.db" stays a path


async def open_store(url_or_path: str | None, clock: Clock) -> Stores:
    """None → SQLite at the documented default (settings.default_db_path); a path → SQLite there;
    "memory:" → an in-process store; redis://, rediss://, unix://, redis+sentinel://, redis+cluster:// → Redis
    (see bot.store.redis.urls)."""
    if url_or_path is None or not url_or_path.strip():
        return await SqliteStore.open(default_db_path(), clock)
    target = url_or_path.strip()
    if target in (MEMORY_URL, "memory://"):
        return MemoryStore(clock)
    if target == ":memory:":
        return await SqliteStore.open(target, clock)
    scheme = _SCHEME.match(target)
    if scheme and scheme.group(1).lower() in REDIS_SCHEMES:
        return await RedisStore.open(target, clock)
    if scheme:
        raise StoreError(
            f"the store {redact(target)!r} uses the {scheme.group(1)}: scheme, which is not supported; "
            "use a file path (SQLite), a redis:// URL or memory:"
        )
    return await SqliteStore.open(target, clock)
