"""SQLite's errors as the project's store errors."""

from __future__ import annotations

import sqlite3

from bot.core.errors import StoreCorrupt, StoreError, StoreUnavailable


def corrupt(path: str, detail: str) -> StoreCorrupt:
    return StoreCorrupt(
        f"{path} is not a usable 签注助手 store ({detail}). The file was left untouched. "
        f"Move it aside (for example: mv '{path}' '{path}.broken') to start with an empty store, "
        "or put a backup in its place, then start again."
    )


def translate(exc: sqlite3.Error | ValueError, path: str) -> StoreError:
    """Maps a sqlite3 error onto the project's store errors."""
    if isinstance(exc, ValueError):  # sqlite3.ProgrammingError's cousin: "Cannot operate on a closed database"
        return StoreError(f"the store {path} is closed")
    code = getattr(exc, "sqlite_errorname", None) or ""
    if code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return corrupt(path, str(exc))
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreUnavailable(
            f"the store {path} is locked by another connection ({exc}); nothing was written, try again later"
        )
    return StoreError(f"the store {path} failed: {exc} ({code or type(exc).__name__})")
