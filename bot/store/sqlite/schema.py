"""Setting up SqliteStore's file: refuse what is not a store of this version, then create what is missing, also
when several processes open a new file at the same moment."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from bot.core.errors import StoreError, StoreUnavailable
from bot.store.sqlite.checkpoint import WAL_LIMIT
from bot.store.sqlite.errors import corrupt
from bot.store.sqlite.extras import EXTRA_SCHEMA, add_reminder_columns
from bot.store.sqlite.purge import INDEXES
from bot.store.sqlite.traffic import TRAFFIC_SCHEMA
from bot.store.sqlite.versions import add_version_column

Execute = Callable[..., tuple[list[Any], int]]  # SqliteStore._execute: (sql, parameters) -> (rows, changed)

SCHEMA_VERSION = 1
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at REAL NOT NULL)",
    f"INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', '{SCHEMA_VERSION}')",
)


def prepare(execute: Execute, path: str, busy_timeout: float) -> None:
    """Checks an existing file without writing to it, then sets it up.

    Two processes that opened a new file at once both saw no tables and both created them: 4 of 20 such starts
    exited with "table meta already exists" or "database is locked". So the schema is made with IF NOT EXISTS
    inside BEGIN IMMEDIATE, after looking at the file again under that lock, and every lock met on the way is
    waited for (up to `busy_timeout`, the connection's busy timeout) instead of failing.
    """
    tables = _tables(execute)
    if tables:
        _check(execute, path, tables)
    else:
        # Each commit copies whole pages into the WAL; documents are ~100 bytes, so small pages make every
        # save about a quarter cheaper. Freed pages can go back to the file system (see SqlitePurge). Only a
        # new, empty file can still change either.
        execute("PRAGMA page_size = 1024")
        execute("PRAGMA auto_vacuum = INCREMENTAL")
    _until_unlocked(lambda: execute("PRAGMA journal_mode = WAL"), busy_timeout)
    execute("PRAGMA synchronous = NORMAL")
    execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
    execute("BEGIN IMMEDIATE")
    try:
        if not tables and (tables := _tables(execute)):
            _check(execute, path, tables)  # another process made it since the first look
        # The extras came after version 1 shipped, and all of it is harmless to repeat.
        for statement in (*_SCHEMA, *EXTRA_SCHEMA, *TRAFFIC_SCHEMA, *INDEXES):
            execute(statement)
        add_version_column(execute)
        add_reminder_columns(execute)  # reminders by deadline came later too
        execute("COMMIT")
    except BaseException:
        with suppress(StoreError):
            execute("ROLLBACK")
        raise


def _tables(execute: Execute) -> set[str]:
    return {str(row[0]) for row in execute("SELECT name FROM sqlite_master WHERE type = 'table'")[0]}


def _check(execute: Execute, path: str, tables: set[str]) -> None:
    """Refuses a file that is not a store of this version, without writing to it."""
    if not {"meta", "documents"} <= tables:
        raise corrupt(path, f"it is a SQLite database of something else: {sorted(tables)}")
    check = [str(row[0]) for row in execute("PRAGMA quick_check")[0]]
    if check != ["ok"]:
        raise corrupt(path, "quick_check: " + "; ".join(check[:3]))
    rows = execute("SELECT value FROM meta WHERE name = 'schema_version'")[0]
    version = str(rows[0][0]) if rows else "missing"
    if version != str(SCHEMA_VERSION):
        raise StoreError(
            f"{path} has schema version {version}, this program reads version {SCHEMA_VERSION}; "
            "the file was left untouched"
        )


def _until_unlocked(step: Callable[[], object], busy_timeout: float) -> None:
    """Runs `step`, again while another connection holds the lock it needs (up to `busy_timeout`): a change of
    journal mode fails at once, without SQLite's busy handler, while another process sets up the file."""
    give_up = time.monotonic() + busy_timeout
    while True:
        try:
            step()
            return
        except StoreUnavailable:
            if time.monotonic() >= give_up:
                raise
            time.sleep(0.01)
