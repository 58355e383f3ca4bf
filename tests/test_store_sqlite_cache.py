"""SqliteStore's read cache: repeated reads skip SQLite, yet other processes' writes and expiry still show."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.store.sqlite.cache import REVALIDATE, DocumentCache
from tests.sqlite_kit import T0, opened, raw, statements


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def past_the_interval() -> None:
    time.sleep(REVALIDATE * 3)


async def test_a_repeated_read_runs_no_select(tmp_path: Path, clock: FixedClock) -> None:
    async with opened(tmp_path / "state.db", clock) as store:
        await store.save("k", "1")
        seen = statements(store)
        assert [await store.load("k") for _ in range(5)] == ["1"] * 5
        assert [await store.load("unknown") for _ in range(3)] == [None] * 3
        assert sum(s.startswith("SELECT") for s in seen) == 1  # "unknown" once; "k" came from its save


async def test_another_process_s_writes_and_deletes_are_seen(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        await store.save("k", "mine")
        await store.save("gone", "x")
        assert await store.load("k") == "mine"
        assert await store.load("new") is None
        with raw(path) as other:
            updated = T0.timestamp()
            other.execute("UPDATE documents SET body = 'theirs' WHERE key = 'k'")
            other.execute("DELETE FROM documents WHERE key = 'gone'")
            other.execute("INSERT INTO documents (key, body, updated_at) VALUES ('new', 'fresh', ?)", (updated,))
        past_the_interval()
        assert [await store.load("k"), await store.load("gone"), await store.load("new")] == ["theirs", None, "fresh"]


async def test_own_writes_show_at_once(tmp_path: Path, clock: FixedClock) -> None:
    async with opened(tmp_path / "state.db", clock) as store:
        assert await store.load("k") is None
        await store.save("k", "1")
        assert await store.load("k") == "1"
        await store.delete("k")
        assert await store.load("k") is None


async def test_a_cached_document_still_expires(tmp_path: Path, clock: FixedClock) -> None:
    async with opened(tmp_path / "state.db", clock, ttl=timedelta(days=30)) as store:
        await store.save("k", "1")
        clock.current = T0 + timedelta(days=30, seconds=1)
        assert await store.load("k") is None


def test_a_read_in_flight_while_the_cache_was_cleared_puts_nothing_back() -> None:
    versions = iter(range(100))
    cache = DocumentCache(lambda: next(versions), revalidate=0)
    cache.get("k")
    epoch = cache.epoch  # a read starts
    cache.get("k")  # meanwhile the version moved: everything is dropped
    cache.put("k", "stale", 1.0, 7, epoch)  # the read lands
    assert cache.get("k") is None


def test_the_cache_holds_at_most_its_limit_dropping_the_oldest() -> None:
    cache = DocumentCache(lambda: 1, limit=2)
    cache.get("a")
    for key in "abc":
        cache.put(key, key, 1.0, 7, cache.epoch)
    assert [cache.get(key) for key in "abc"] == [None, ("b", 1.0, 7), ("c", 1.0, 7)]
