"""SqliteStore: schema, persistence, purging, corrupt and locked files."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.errors import StoreCorrupt, StoreError, StoreUnavailable
from bot.store.sqlite import SCHEMA_VERSION, SqliteStore
from tests.sqlite_kit import T0, opened, raw


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def stored_keys(path: Path) -> set[str]:
    with raw(path) as conn:
        return {row[0] for row in conn.execute("SELECT key FROM documents")}


async def test_creates_schema_in_wal_mode_and_missing_folders(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "nested" / "deeper" / "state.db"
    store = await SqliteStore.open(path, clock)
    await store.close()
    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        columns = [(r[1], r[2], r[3], r[5]) for r in conn.execute("PRAGMA table_info(documents)")]
        assert columns == [
            ("key", "TEXT", 0, 1),
            ("body", "TEXT", 1, 0),
            ("updated_at", "REAL", 1, 0),
            ("version", "INTEGER", 1, 0),
        ]
        version = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        assert version == (str(SCHEMA_VERSION),)


async def test_connection_uses_synchronous_normal(tmp_path: Path, clock: FixedClock) -> None:
    async with opened(tmp_path / "state.db", clock) as store:
        assert await store._run("PRAGMA synchronous") == [(1,)]  # 1 = NORMAL


async def test_conversations_survive_a_restart(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    store = await SqliteStore.open(path, clock)
    await store.save("wechat:abc", '{"step": "ask_deadline", "城市": "广州"}')
    await store.close()

    clock.current = T0 + timedelta(days=3)
    async with opened(path, clock) as reopened:
        assert await reopened.load("wechat:abc") == '{"step": "ask_deadline", "城市": "广州"}'


async def test_expired_rows_are_purged_at_open(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    store = await SqliteStore.open(path, clock)
    await store.save("old", "{}")
    clock.current = T0 + timedelta(days=10)
    await store.save("recent", "{}")
    await store.close()
    assert stored_keys(path) == {"old", "recent"}

    clock.current = T0 + timedelta(days=31)
    reopened = await SqliteStore.open(path, clock)
    await reopened.close()
    assert stored_keys(path) == {"recent"}


def once_keys(path: Path) -> set[str]:
    with raw(path) as conn:
        return {row[0] for row in conn.execute("SELECT key FROM once")}


async def eventually(condition: Callable[[], bool], within: float = 20.0) -> None:
    """Waits for the store's background work (a liveness bound, not a timing claim)."""
    give_up = time.monotonic() + within
    while not condition():
        assert time.monotonic() < give_up, "the background purge did not happen"
        await asyncio.sleep(0.01)


async def test_the_background_purge_takes_once_records_every_round_and_documents_hourly(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock, ttl=timedelta(hours=2), purge_every=0.01) as store:  # purged at T0
        await store.save("a", "{}")
        assert await store.claim_once("m1", timedelta(seconds=60))
        clock.current = T0 + timedelta(minutes=30)  # "m1" expired; the last purge of documents was 30 min ago
        await store.save("b", "{}")
        await eventually(lambda: once_keys(path) == set())
        assert stored_keys(path) == {"a", "b"}

        clock.current = T0 + timedelta(hours=2)  # "a" expires; the last purge of documents was 2 h ago
        await eventually(lambda: stored_keys(path) == {"b"})
        assert await store.load("b") == "{}"


async def test_saves_no_longer_purge_on_their_own(tmp_path: Path, clock: FixedClock) -> None:
    """The purge runs in the background, so no user's save waits for it."""
    path = tmp_path / "state.db"
    async with opened(path, clock, ttl=timedelta(hours=2), purge_every=3600) as store:
        await store.save("a", "{}")
        clock.current = T0 + timedelta(hours=3)
        await store.save("b", "{}")
        assert stored_keys(path) == {"a", "b"}
        assert await store.load("a") is None  # expired rows are invisible before they are purged


async def test_purge_reports_how_many_rows_went(tmp_path: Path, clock: FixedClock) -> None:
    async with opened(tmp_path / "state.db", clock) as store:
        for i in range(3):
            await store.save(f"k{i}", "{}")
        clock.current = T0 + timedelta(days=31)
        assert await store.purge() == 3
        assert await store.purge() == 0


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def assert_refused_untouched(exc: pytest.ExceptionInfo[StoreError], path: Path) -> None:
    message = str(exc.value)
    assert str(path) in message
    assert "left untouched" in message
    assert "Move it aside" in message


async def test_garbage_file_is_refused_and_left_byte_for_byte(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    garbage = bytes(range(7, 107))
    path.write_bytes(garbage)
    with pytest.raises(StoreCorrupt) as exc:
        await SqliteStore.open(path, clock)
    assert_refused_untouched(exc, path)
    assert isinstance(exc.value.__cause__, sqlite3.DatabaseError)
    assert path.read_bytes() == garbage
    assert files_in(tmp_path) == ["state.db"]  # no -wal or -shm left behind either


async def test_truncated_database_is_refused_and_left_byte_for_byte(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    store = await SqliteStore.open(path, clock)
    for i in range(500):
        await store.save(f"k{i}", f'{{"n": {i}, "pad": "{"签" * 200}"}}')
    await store.close()
    truncated = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(truncated)

    with pytest.raises(StoreCorrupt) as exc:
        await SqliteStore.open(path, clock)
    assert_refused_untouched(exc, path)
    assert path.read_bytes() == truncated


async def test_another_programs_database_is_refused_and_left_alone(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "notes.db"
    with raw(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    before = path.read_bytes()
    with pytest.raises(StoreCorrupt) as exc:
        await SqliteStore.open(path, clock)
    assert_refused_untouched(exc, path)
    assert path.read_bytes() == before


async def test_newer_schema_version_is_refused(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    await (await SqliteStore.open(path, clock)).close()
    with raw(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="schema version 99") as exc:
        await SqliteStore.open(path, clock)
    assert not isinstance(exc.value, StoreCorrupt)
    assert path.read_bytes() == before


async def test_empty_file_becomes_a_store(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    path.touch()
    async with opened(path, clock) as store:
        await store.save("k", "{}")
        assert await store.load("k") == "{}"


async def test_locked_database_gives_store_unavailable_then_recovers(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock, busy_timeout=0.2) as store:
        await store.save("k", '{"n": 1}')
        with raw(path) as other:
            other.execute("BEGIN EXCLUSIVE")
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="locked") as exc:
                await store.save("k", '{"n": 2}')
            assert time.monotonic() - started >= 0.15
            assert isinstance(exc.value.__cause__, sqlite3.OperationalError)
            with pytest.raises(StoreUnavailable):
                await store.delete("k")
            assert await store.load("k") == '{"n": 1}'  # WAL readers are not blocked
            other.execute("ROLLBACK")

        assert await store.load("k") == '{"n": 1}'  # nothing half-written
        await store.save("k", '{"n": 3}')
        assert await store.load("k") == '{"n": 3}'
        assert await store.ping()


async def test_unopenable_path_raises_store_error_not_sqlite3(tmp_path: Path, clock: FixedClock) -> None:
    with pytest.raises(StoreError) as exc:
        await SqliteStore.open(tmp_path, clock)  # a directory
    assert isinstance(exc.value.__cause__, sqlite3.Error)

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder"):
        await SqliteStore.open(blocker / "state.db", clock)


async def test_ttl_must_be_positive(tmp_path: Path, clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await SqliteStore.open(tmp_path / "state.db", clock, ttl=timedelta(0))
    assert not (tmp_path / "state.db").exists()
