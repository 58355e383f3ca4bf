"""The Store contract, run against every store implementation: memory, SQLite (a file and :memory:) and Redis
(see tests/redis_kit.py for which Redis)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.errors import StoreError
from bot.store.base import NO_VERSION, SESSION_TTL, Store
from bot.store.extras import Deadline, Stores
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from bot.store.traffic import RETENTION_DAYS, Asked, AskedCount, TrafficStore
from tests.redis_kit import redis_store

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-memory", "redis"])
async def store(request: pytest.FixtureRequest, clock: FixedClock, tmp_path: Path) -> AsyncIterator[Stores]:
    opened: Stores
    async with AsyncExitStack() as stack:
        if request.param == "memory":
            opened = MemoryStore(clock)
        elif request.param == "sqlite-file":
            opened = await SqliteStore.open(tmp_path / "state.db", clock)
        elif request.param == "sqlite-memory":
            opened = await SqliteStore.open(":memory:", clock)
        else:
            opened = await stack.enter_async_context(redis_store(clock))
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
    with pytest.raises(StoreError, match="closed"):
        await store.load_versioned("k")
    with pytest.raises(StoreError, match="closed"):
        await store.compare_and_save("k", "{}", NO_VERSION)


# -- versions and conditional saves: what lets turns in several processes share one store ----------------------


@pytest.fixture
async def writers(store: Store, clock: FixedClock) -> AsyncIterator[tuple[Store, Store]]:
    """Two writers of the same storage, with no lock in common: two SqliteStores on one file, or two RedisStores
    on one Redis, as two processes have them; for a store that cannot be opened twice, the store itself twice
    (its writers take no lock)."""
    if isinstance(store, RedisStore):
        async with redis_store(clock, root=store.root) as second:
            yield store, second
        return
    if not isinstance(store, SqliteStore) or store.path == ":memory:":
        yield store, store
        return
    other = await SqliteStore.open(store.path, clock)
    yield store, other
    await other.close()


async def test_an_unknown_key_has_no_document_and_no_version(store: Store) -> None:
    assert await store.load_versioned("wechat:nobody") == (None, NO_VERSION)


async def test_every_save_changes_the_version(store: Store) -> None:
    await store.save("k", "1")
    one, first = await store.load_versioned("k")
    assert (one, first != NO_VERSION) == ("1", True)
    await store.save("k", "2")
    two, second = await store.load_versioned("k")
    assert await store.compare_and_save("k", "3", second) is True
    three, third = await store.load_versioned("k")
    assert (two, three) == ("2", "3")
    assert len({NO_VERSION, first, second, third}) == 4


async def test_a_new_key_is_created_once(store: Store) -> None:
    assert await store.compare_and_save("k", "first", NO_VERSION) is True
    assert await store.compare_and_save("k", "second", NO_VERSION) is False  # it has a document by now
    assert await store.load("k") == "first"


async def test_a_save_over_a_version_read_before_another_save_fails_and_writes_nothing(store: Store) -> None:
    await store.save("k", "base")
    _, version = await store.load_versioned("k")
    assert await store.compare_and_save("k", "mine", version) is True
    assert await store.compare_and_save("k", "stale", version) is False
    assert await store.load("k") == "mine"


async def test_an_unconditional_save_also_defeats_an_older_version(store: Store) -> None:
    await store.save("k", "base")
    _, version = await store.load_versioned("k")
    await store.save("k", "theirs")
    assert await store.compare_and_save("k", "mine", version) is False
    assert await store.load("k") == "theirs"


async def test_a_deleted_document_does_not_come_back_through_an_old_version(store: Store) -> None:
    await store.save("k", "forget me")
    _, version = await store.load_versioned("k")
    await store.delete("k")
    assert await store.compare_and_save("k", "forget me, changed", version) is False
    assert await store.load_versioned("k") == (None, NO_VERSION)


async def test_a_key_written_again_after_a_delete_gets_a_version_it_never_had(store: Store) -> None:
    seen = set()
    for _ in range(20):
        await store.save("k", "again")
        _, version = await store.load_versioned("k")
        seen.add(version)
        await store.delete("k")
    await store.save("k", "after the delete")
    _, version = await store.load_versioned("k")
    assert len(seen) == 20
    assert version not in seen
    for old in seen:
        assert await store.compare_and_save("k", "from before the delete", old) is False
    assert await store.load("k") == "after the delete"


async def test_an_expired_document_counts_as_none(store: Store, clock: FixedClock) -> None:
    await store.save("k", "old")
    clock.current = T0 + timedelta(days=31)
    assert await store.load_versioned("k") == (None, NO_VERSION)
    assert await store.compare_and_save("k", "new", NO_VERSION) is True
    assert await store.compare_and_save("k", "newer", NO_VERSION) is False  # live again
    assert await store.load("k") == "new"


async def test_two_writers_read_the_same_version_and_the_second_save_conflicts(writers: tuple[Store, Store]) -> None:
    a, b = writers
    await a.save("k", '{"n": 0}')
    (read_a, version_a), (read_b, version_b) = await a.load_versioned("k"), await b.load_versioned("k")
    assert (read_a, read_b, version_a == version_b) == ('{"n": 0}', '{"n": 0}', True)
    await b.load_versioned("k")  # read twice: a store with a read cache has it cached now
    assert await a.compare_and_save("k", '{"n": 1, "by": "a"}', version_a) is True
    _, own = await a.load_versioned("k")
    assert await b.compare_and_save("k", '{"n": 1, "by": "b"}', version_b) is False
    again, version = await b.load_versioned("k")  # after a lost race, b reads what a saved
    assert again == '{"n": 1, "by": "a"}'
    assert await b.compare_and_save("k", '{"n": 2, "by": "b"}', version) is True
    # a's read cache may not have seen b's save yet; its save over its own last version fails all the same
    assert await a.compare_and_save("k", '{"n": 2, "by": "a"}', own) is False
    assert await a.load_versioned("k") == await b.load_versioned("k")
    assert await a.load("k") == '{"n": 2, "by": "b"}'


async def test_two_writers_both_creating_a_key_one_wins(writers: tuple[Store, Store]) -> None:
    a, b = writers
    assert (await a.load_versioned("k"), await b.load_versioned("k")) == ((None, NO_VERSION), (None, NO_VERSION))
    assert await a.compare_and_save("k", "a", NO_VERSION) is True
    assert await b.compare_and_save("k", "b", NO_VERSION) is False
    assert await b.load("k") == "a"


async def test_concurrent_increments_by_two_writers_without_a_common_lock_lose_nothing(
    writers: tuple[Store, Store],
) -> None:
    """Read, yield, write over the version read, and read again after a lost race: 2 x 10 counters, 2 x 15
    increments each, interleaved on both writers, end at exactly 30 each."""
    a, b = writers
    lost = 0

    async def increment(store: Store, key: str) -> None:
        nonlocal lost
        while True:
            raw, version = await store.load_versioned(key)
            n = json.loads(raw)["n"] if raw else 0
            await asyncio.sleep(0)  # invite interleaving
            if await store.compare_and_save(key, json.dumps({"n": n + 1}), version):
                return
            lost += 1

    keys = [f"counter{i}" for i in range(10)]
    await asyncio.gather(*(increment(s, key) for _ in range(15) for key in keys for s in (a, b)))
    assert [json.loads(await b.load(key) or "{}") for key in keys] == [{"n": 30}] * 10
    assert lost > 0  # the races did happen


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


# -- erase: everything about one conversation, on every store (Engine.forget, 「删除我的数据」) -------------------

USER_KEY = "wechat:0123456789abcdef0123456789abcdef"  # the shape of bot.core.keys.conversation_key
NEIGHBOUR = "wechat:0123456789abcdef0123456789abcdee"


@pytest.mark.parametrize("key", [USER_KEY, "k", "用户:1"])
async def test_erase_deletes_the_session_every_document_beside_it_and_the_reminders(
    store: Stores, clock: FixedClock, key: str
) -> None:
    beside = [f"{key}:choices", f"{key}:keyboard", f"{key}:later", f"{key}:a:b"]
    kept = [NEIGHBOUR, f"{NEIGHBOUR}:choices", f"{key}x", f"{key}x:choices", f"x{key}", f"{key}；"]
    for name in [key, *beside, *kept]:
        await store.save(name, f'"{name}"')
    now = clock.now()
    deadline = Deadline(now.date(), "within_grace", "上海")
    [claimed] = await store.add_reminders(key, "telegram", "42", [(now, "a")], deadline)
    assert await store.claim_reminder(claimed.id)  # being sent right now: erased all the same
    await store.add_reminders(key, "telegram", "42", [(now + timedelta(days=1), "b")])
    await store.add_reminders(NEIGHBOUR, "telegram", "43", [(now, "c")])
    _, version = await store.load_versioned(key)

    await store.erase(key)

    assert [await store.load(name) for name in [key, *beside]] == [None] * 5
    assert [await store.load(name) for name in kept] == [f'"{name}"' for name in kept]
    assert await store.reminders_for(key) == []
    assert [r.text for r in await store.due_reminders(now + timedelta(days=2))] == ["c"]
    assert await store.compare_and_save(key, "brought back", version) is False  # like a delete
    assert await store.compare_and_save(key, "new", NO_VERSION) is True


async def test_erase_of_an_unknown_key_is_quiet(store: Stores) -> None:
    await store.erase(USER_KEY)
    assert await store.load_versioned(USER_KEY) == (None, NO_VERSION)


async def test_erase_leaves_once_only_records_to_expire(store: Stores) -> None:
    assert await store.claim_once(f"{USER_KEY}:delivery", timedelta(minutes=1))
    await store.erase(USER_KEY)
    assert not await store.claim_once(f"{USER_KEY}:delivery", timedelta(minutes=1))


async def test_a_key_erased_and_saved_again_never_gets_back_an_old_version(store: Stores) -> None:
    seen = set()
    for _ in range(5):
        await store.save(USER_KEY, "again")
        seen.add((await store.load_versioned(USER_KEY))[1])
        await store.erase(USER_KEY)
    await store.save(USER_KEY, "after")
    assert (await store.load_versioned(USER_KEY))[1] not in seen
    assert len(seen) == 5


async def test_an_erase_by_another_writer_is_seen_at_once(writers: tuple[Store, Store]) -> None:
    a, b = writers
    await a.save(USER_KEY, "x")
    await a.save(f"{USER_KEY}:choices", "[]")
    assert await b.load(USER_KEY) == "x"
    await b.erase(USER_KEY)
    assert (await a.load(USER_KEY), await a.load(f"{USER_KEY}:choices")) == (None, None)
