"""open_store: which store a URL or path gives."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.errors import StoreError
from bot.store.factory import open_store
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.redis_kit import redis_url

CLOCK = FixedClock(datetime(2025, 3, 1, tzinfo=UTC))


async def test_a_path_gives_sqlite_there(tmp_path: Path) -> None:
    store = await open_store(str(tmp_path / "s" / "state.db"), CLOCK)
    try:
        assert isinstance(store, SqliteStore)
        assert (tmp_path / "s" / "state.db").exists()
    finally:
        await store.close()


async def test_none_gives_sqlite_at_the_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    store = await open_store(None, CLOCK)
    try:
        assert isinstance(store, SqliteStore)
        assert (tmp_path / "qianzhu" / "qianzhu.db").exists()
    finally:
        await store.close()


@pytest.mark.parametrize("url", ["memory:", "memory://", " memory: "])
async def test_memory_url_gives_a_memory_store(url: str) -> None:
    store = await open_store(url, CLOCK)
    assert isinstance(store, MemoryStore)
    await store.close()


async def test_sqlite_in_memory() -> None:
    store = await open_store(":memory:", CLOCK)
    assert isinstance(store, SqliteStore)
    await store.close()


@pytest.mark.parametrize("url", ["postgres://db/bot", "mysql://user:hunter2@db/bot"])
async def test_unknown_schemes_are_refused_clearly_without_the_password(url: str) -> None:
    with pytest.raises(StoreError, match="not supported") as refused:
        await open_store(url, CLOCK)
    assert "hunter2" not in str(refused.value)


async def test_a_redis_url_gives_the_redis_store() -> None:
    store = await open_store(redis_url(), CLOCK)
    try:
        assert isinstance(store, RedisStore)
        assert await store.ping()
    finally:
        await store.close()
