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
from bot.store.traffic import RETENTION_DAYS, Asked, AskedCount, TrafficStore

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


# -- traffic records (bot.store.traffic): every store keeps them, the same way --------------------------------


def traffic_of(store: Store) -> TrafficStore:
    assert isinstance(store, TrafficStore), f"{type(store).__name__} keeps no traffic records"
    return store


async def test_traffic_counts_turns_per_day_and_intent(store: Store, clock: FixedClock) -> None:
    traffic, today = traffic_of(store), clock.today()
    yesterday = today - timedelta(days=1)
    for day, intent in [(today, "faq.fee"), (today, "faq.fee"), (today, "slot"), (yesterday, "faq.fee")]:
        traffic.count_turn(day, intent)
    await traffic.flush_traffic()
    assert dict((await traffic.traffic(yesterday)).turns) == {
        (today, "faq.fee"): 2,
        (today, "slot"): 1,
        (yesterday, "faq.fee"): 1,
    }
    assert set((await traffic.traffic(today)).turns) == {(today, "faq.fee"), (today, "slot")}  # since: inclusive


async def test_traffic_sums_a_question_per_day_and_keeps_its_latest_match(store: Store, clock: FixedClock) -> None:
    traffic, today = traffic_of(store), clock.today()
    traffic.count_turn(today, "fallback", Asked("[地名]的房价0年会涨吗", "fallback", "faq.fee", 1.0))
    await traffic.flush_traffic()
    traffic.count_turn(today, "fallback", Asked("[地名]的房价0年会涨吗", "fallback", "faq.fee", 1.5))
    traffic.count_turn(today, "faq.fee", Asked("办签注要交钱吗", "faq.fee", "faq.fee", 2.0))
    found = await traffic.traffic(today)  # counts not flushed yet are included
    assert sorted(found.asked, key=lambda r: r.asked.text) == [
        AskedCount(today, Asked("[地名]的房价0年会涨吗", "fallback", "faq.fee", 1.5), 2),
        AskedCount(today, Asked("办签注要交钱吗", "faq.fee", "faq.fee", 2.0), 1),
    ]
    assert dict(found.turns) == {(today, "fallback"): 2, (today, "faq.fee"): 1}


async def test_traffic_question_without_a_match_round_trips(store: Store, clock: FixedClock) -> None:
    traffic, today = traffic_of(store), clock.today()
    traffic.count_turn(today, "fallback", Asked("给我讲个笑话", "fallback"))
    assert list((await traffic.traffic(today)).asked) == [AskedCount(today, Asked("给我讲个笑话", "fallback"), 1)]


async def test_traffic_is_kept_90_days(store: Store, clock: FixedClock) -> None:
    traffic, first = traffic_of(store), clock.today()
    traffic.count_turn(first, "fallback", Asked("股票明天会涨吗", "fallback"))
    await traffic.flush_traffic()
    clock.current = T0 + timedelta(days=RETENTION_DAYS - 1)
    await store.save("k", "{}")  # a save purges what is due (hourly)
    kept = await traffic.traffic(first)
    assert dict(kept.turns) == {(first, "fallback"): 1}
    assert len(kept.asked) == 1
    clock.current = T0 + timedelta(days=RETENTION_DAYS)
    await store.save("k", "{}")
    gone = await traffic.traffic(first)
    assert dict(gone.turns) == {}
    assert list(gone.asked) == []


async def test_traffic_counts_are_written_before_close(store: Store, clock: FixedClock) -> None:
    traffic_of(store).count_turn(clock.today(), "fallback", Asked("给我讲个笑话", "fallback"))
    await store.close()  # must not fail, nor leave a timer behind
