"""Shared pieces of the SQLite store tests: a fixed start time and a second, independent connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection in autocommit mode, as another process would have."""
    with closing(sqlite3.connect(path, isolation_level=None, timeout=0)) as conn:
        yield conn
