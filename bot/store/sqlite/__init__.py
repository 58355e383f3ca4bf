"""The SQLite store: one file, several processes; the default (embedded) backend."""

from bot.store.sqlite.store import SCHEMA_VERSION, SqliteStore

__all__ = ["SCHEMA_VERSION", "SqliteStore"]
