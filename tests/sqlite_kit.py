"""Shared pieces of the SQLite store tests: a fixed start time, a store that closes itself, the statements it
runs, and a second, independent connection."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.clock import Clock
from bot.store.sqlite import SqliteStore

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection in autocommit mode, as another process would have."""
    with closing(sqlite3.connect(path, isolation_level=None, timeout=0)) as conn:
        yield conn


@asynccontextmanager
async def opened(path: Path, clock: Clock, **options: Any) -> AsyncIterator[SqliteStore]:
    """A SqliteStore on `path`, closed when the block ends, however it ends."""
    store = await SqliteStore.open(path, clock, **options)
    try:
        yield store
    finally:
        await store.close()


def statements(store: SqliteStore) -> list[str]:
    """Every statement the store's connection runs from now on, as SQLite traces them."""
    seen: list[str] = []
    conn = store._conn
    assert conn is not None
    conn.set_trace_callback(seen.append)
    return seen
