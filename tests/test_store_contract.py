"""The Store contract, run against every store implementation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.errors import StoreError
from bot.store.base import SESSION_TTL, Store
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-memory"])
async def store(request: pytest.FixtureRequest, clock: FixedClock, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "memory":
        opened = MemoryStore(clock)
    elif request.param == "sqlite-file":
        opened = await SqliteStore.open(tmp_path / "state.db", clock)
    else:
        opened = await SqliteStore.open(":memory:", clock)
    yield opened
    await opened.close()


async def test_unknown_key_loads_none(store: Store) -> None:
    assert await store.load("wechat:nobody") is None


async def test_save_then_load_round_trips(store: Store) -> None:
    await store.save("k", '{"step": "ask_city"}')
    assert await store.load("k") == '{"step": "ask_city"}'


async def test_save_overwrites(store: Store) -> None:
    await store.save("k", '{"n": 1}')
    await store.save("k", '{"n": 2}')
    assert await store.load("k") == '{"n": 2}'


async def test_keys_are_independent(store: Store) -> None:
    await store.save("a", '"A"')
    await store.save("b", '"B"')
    await store.delete("a")
    assert await store.load("a") is None
    assert await store.load("b") == '"B"'


async def test_unicode_bodies_survive(store: Store) -> None:
    body = json.dumps({"city": "深圳", "note": "签注过期了怎么办？😅", "nul": "a\u0000b"}, ensure_ascii=False)
    await store.save("用户:1", body)
    assert await store.load("用户:1") == body


async def test_large_body(store: Store) -> None:
    body = json.dumps({"history": ["居住证签注" * 10] * 2000}, ensure_ascii=False)
    await store.save("k", body)
    assert await store.load("k") == body


async def test_delete_unknown_key_is_quiet(store: Store) -> None:
    await store.delete("never-saved")
    assert await store.load("never-saved") is None


async def test_document_lives_29_days_and_expires_at_31(store: Store, clock: FixedClock) -> None:
    await store.save("k", "{}")
    clock.current = T0 + timedelta(days=29)
    assert await store.load("k") == "{}"
    clock.current = T0 + timedelta(days=31)
    assert await store.load("k") is None


async def test_expiry_boundary_is_exactly_the_ttl(store: Store, clock: FixedClock) -> None:
    await store.save("k", "{}")
    clock.current = T0 + SESSION_TTL - timedelta(seconds=1)
    assert await store.load("k") == "{}"
    clock.current = T0 + SESSION_TTL
    assert await store.load("k") is None


async def test_saving_again_renews_the_ttl(store: Store, clock: FixedClock) -> None:
    await store.save("k", '{"n": 1}')
    clock.current = T0 + timedelta(days=20)
    await store.save("k", '{"n": 2}')
    clock.current = T0 + timedelta(days=45)
    assert await store.load("k") == '{"n": 2}'


async def test_concurrent_increments_under_lock_do_not_lose_updates(store: Store) -> None:
    async def increment() -> None:
        async with store.lock("counter"):
            raw = await store.load("counter")
            n = json.loads(raw)["n"] if raw else 0
            await asyncio.sleep(0)  # invite interleaving
            await store.save("counter", json.dumps({"n": n + 1}))

    await asyncio.gather(*(increment() for _ in range(50)))
    assert json.loads(await store.load("counter") or "{}") == {"n": 50}


async def test_locks_on_different_keys_do_not_block_each_other(store: Store) -> None:
    async with store.lock("a"), store.lock("b"):
        await store.save("a", "1")
        await store.save("b", "2")
    assert await store.load("a") == "1"


async def test_ping_is_true_while_open_and_false_after_close(store: Store) -> None:
    assert await store.ping() is True
    await store.close()
    assert await store.ping() is False


async def test_close_twice_is_fine(store: Store) -> None:
    await store.close()
    await store.close()


async def test_use_after_close_raises_store_error(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.load("k")
    with pytest.raises(StoreError, match="closed"):
        await store.save("k", "{}")
