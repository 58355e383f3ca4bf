"""SqliteStore's health probe: can the store commit a write right now?

`/healthz` said ok while every save failed on a full disk and while another connection held the write lock,
because it ran `SELECT 1`. The probe commits a real write instead: it takes the write lock (waiting at most
PROBE_WAIT), rewrites one row of `meta` with a new value (SQLite skips a write that changes no byte) and
commits, so the disk must take a page of WAL. That costs one small commit per health check and the file
does not grow: the row keeps its size and the WAL is checkpointed as usual. A write can still land in space
the WAL file already has, so the probe also wants MIN_FREE bytes free on the file system.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from bot.core.errors import StoreError

PROBE = (
    "INSERT INTO meta (name, value) VALUES ('health_probe', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)
PROBE_WAIT = 250  # ms the probe waits for another connection's write lock
PING_TIMEOUT = 2.0  # seconds a ping waits in all, the store's worker queue included
MIN_FREE = 1024 * 1024  # bytes


def room_to_write(path: str) -> bool:
    """True when the file system of `path` has MIN_FREE bytes left (for root, the blocks reserved for it count)."""
    try:
        stats = os.statvfs(Path(path).resolve().parent)
    except OSError:
        return False
    blocks = stats.f_bfree if os.geteuid() == 0 else stats.f_bavail
    return blocks * stats.f_frsize >= MIN_FREE


def probe(execute: Callable[..., tuple[list[Any], int]]) -> bool:
    """On the store's worker: one committed write; raises the store's error when it cannot be made."""
    execute(f"PRAGMA busy_timeout = {PROBE_WAIT}")
    try:
        execute("BEGIN IMMEDIATE")
        try:
            changed = execute(PROBE, (str(time.time_ns()),))[1]
            execute("COMMIT")
        except BaseException:
            with suppress(StoreError):  # SQLite may have rolled back already
                execute("ROLLBACK")
            raise
        return changed == 1
    finally:
        with suppress(StoreError):
            execute("PRAGMA busy_timeout = 0")
