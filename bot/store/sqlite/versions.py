"""Versions of SqliteStore's documents: the column (added in place to older files) and the conditional writes.

Every write gives the row a fresh random version (62 bits), so a key deleted and written again never gets back
a version that a writer may still hold from before the delete. A conditional write is one statement that
checks the version under the file's write lock, which every process's writes take: an UPDATE for a key that
had a document, an INSERT for a key that had none (or an expired one) that does nothing when the key has a live
document by now.

The schema version stays 1: a program from before the column still opens, reads and writes the file (its new
rows get version 1, the column's default), so going back to it stays possible. Its writes do not change the
version, though, so old and new processes must not serve one file at the same time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from bot.core.errors import StoreError

Execute = Callable[..., tuple[list[Any], int]]  # SqliteStore._execute: (sql, parameters) -> (rows, changed)

UPSERT = (
    "INSERT INTO documents (key, body, updated_at, version) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
    "body = excluded.body, updated_at = excluded.updated_at, version = excluded.version"
)
INSERT_NEW = (  # for a key without a live document: none, or an expired one (cutoff: the last parameter)
    "INSERT INTO documents (key, body, updated_at, version) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
    "body = excluded.body, updated_at = excluded.updated_at, version = excluded.version WHERE updated_at <= ?"
)
UPDATE_IF = "UPDATE documents SET body = ?, updated_at = ?, version = ? WHERE key = ? AND version = ?"
SELECT = "SELECT body, updated_at, version FROM documents WHERE key = ?"


def fresh_version() -> int:
    """A version for the next write: positive, so never NO_VERSION (0). Unique, not secret: `random` costs a
    tenth of `secrets` (no system call), and reseeds itself in a forked child, so processes do not repeat it."""
    return random.getrandbits(62) + 1


def add_version_column(execute: Execute) -> None:
    """Gives a file from before versions its `version` column; existing rows get version 1. Idempotent, and
    safe when two processes open the same old file at once (the second one's ALTER fails and finds the column)."""
    if _has_version(execute):
        return
    try:
        execute("ALTER TABLE documents ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
    except StoreError:
        if not _has_version(execute):
            raise


def _has_version(execute: Execute) -> bool:
    return any(row[1] == "version" for row in execute("PRAGMA table_info(documents)")[0])
