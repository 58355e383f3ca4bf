"""SqliteStore's document versions: files from before versions get the column in place, at once in two processes,
and stay readable and writable by the program that made them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.store.base import NO_VERSION
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.extras import EXTRA_SCHEMA
from bot.store.sqlite.traffic import TRAFFIC_SCHEMA
from tests.sqlite_kit import T0, opened, raw

OLD_SCHEMA = (  # what version 1 files held before documents had versions
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE documents (key TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at REAL NOT NULL)",
    "INSERT INTO meta (name, value) VALUES ('schema_version', '1')",
)
OLD_UPSERT = (  # how the program before versions saved
    "INSERT INTO documents (key, body, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at"
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    with raw(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in (*OLD_SCHEMA, *EXTRA_SCHEMA, *TRAFFIC_SCHEMA):
            conn.execute(statement)
        conn.execute(OLD_UPSERT, ("k", '{"city": "上海"}', T0.timestamp()))
    return path


def columns(path: Path) -> list[str]:
    with raw(path) as conn:
        return [str(row[1]) for row in conn.execute("PRAGMA table_info(documents)")]


async def test_an_old_file_gets_the_column_and_its_documents_a_version(old_file: Path, clock: FixedClock) -> None:
    async with opened(old_file, clock) as store:
        document, version = await store.load_versioned("k")
        assert (document, version != NO_VERSION) == ('{"city": "上海"}', True)
        assert await store.compare_and_save("k", '{"city": "北京"}', version) is True
        assert await store.compare_and_save("k", '{"city": "广州"}', version) is False
    async with opened(old_file, clock) as again:  # opening it again changes nothing
        assert await again.load("k") == '{"city": "北京"}'
    assert columns(old_file) == ["key", "body", "updated_at", "version"]
    with raw(old_file) as conn:
        assert conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == ("1",)


async def test_two_processes_opening_an_old_file_at_once_both_start(old_file: Path, clock: FixedClock) -> None:
    """Four stores open the file while another connection holds its write lock for a moment: each of them finds
    the column missing and waits to add it; one adds it, the others find it there."""
    with raw(old_file) as other:
        other.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(0.5, other.execute, "ROLLBACK")
        stores = await asyncio.gather(*(SqliteStore.open(old_file, clock) for _ in range(4)))
    try:
        assert [await store.load("k") for store in stores] == ['{"city": "上海"}'] * 4
    finally:
        for store in stores:
            await store.close()
    assert columns(old_file) == ["key", "body", "updated_at", "version"]


async def test_the_program_before_versions_still_reads_and_writes_the_file(old_file: Path, clock: FixedClock) -> None:
    async with opened(old_file, clock) as store:
        await store.save("k", '{"city": "北京"}')
    with raw(old_file) as old_program:
        assert old_program.execute("SELECT body FROM documents WHERE key = 'k'").fetchone() == ('{"city": "北京"}',)
        old_program.execute(OLD_UPSERT, ("new", '{"city": "深圳"}', T0.timestamp()))
    async with opened(old_file, clock) as store:
        document, version = await store.load_versioned("new")
        assert document == '{"city": "深圳"}'
        assert await store.compare_and_save("new", '{"city": "杭州"}', version) is True
