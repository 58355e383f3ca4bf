"""What only the Redis store has: its URLs (and passwords kept out of messages), a Redis that goes away and comes
back, several processes on one Redis, hash tags and TTLs on the keys."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from bot.core.clock import FixedClock
from bot.core.errors import StoreError, StoreUnavailable
from bot.store.base import NO_VERSION
from bot.store.redis import RedisStore, redact
from bot.store.redis.keys import Keys, split
from bot.store.redis.lane import LaneClient
from bot.store.redis.urls import connect
from tests.redis_kit import REDIS_SERVER, keys_under, redis_store, redis_url, start_server, stop
from tests.servers import free_port

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
USER = "wechat:0123456789abcdef0123456789abcdef"
needs_server = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis)")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("rediss://bot:s3cret@cache:6380/2", "rediss://bot:***@cache:6380/2"),
        ("redis+sentinel://:s3cret@a:26379,b:26379/mymaster/1", "redis+sentinel://:***@a:26379,b:26379/mymaster/1"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
        ("unix:///run/redis.sock?db=1", "unix:///run/redis.sock?db=1"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact(url) == shown


async def test_each_scheme_gives_its_client() -> None:
    """No connection is made until the first command."""
    plain = connect("redis://127.0.0.1:1/3")
    cluster = connect("redis+cluster://127.0.0.1:1")
    sentinel = connect("redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/mymaster/4")
    try:
        assert isinstance(plain, LaneClient)  # redis-py, with the hot commands on the pipelined lane
        assert plain.connection_pool.connection_kwargs["db"] == 3
        assert isinstance(connect("rediss://127.0.0.1:1/3"), Redis)  # TLS: redis-py alone
        assert isinstance(cluster, RedisCluster)
        assert isinstance(sentinel, Redis)
        assert sentinel.connection_pool.service_name == "mymaster"  # type: ignore[attr-defined]
        assert sentinel.connection_pool.connection_kwargs["db"] == 4
    finally:
        for client in (plain, cluster, sentinel):
            await client.aclose()


@pytest.mark.parametrize("url", ["redis+sentinel://:pw@host:26379", "redis://:pw@host:port/0"])
def test_a_bad_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(StoreError) as refused:
        connect(url)
    assert "pw" not in str(refused.value)


async def test_an_unreachable_redis_is_unavailable_at_open_and_the_password_stays_out(clock: FixedClock) -> None:
    with pytest.raises(StoreUnavailable) as refused:
        await RedisStore.open(f"redis://:hunter2@127.0.0.1:{free_port()}/0", clock)
    assert "hunter2" not in str(refused.value)
    assert ":***@" in str(refused.value)


@needs_server
async def test_a_redis_that_goes_away_is_unavailable_and_is_used_again_when_it_is_back(
    clock: FixedClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    server = start_server(port, tmp_path)
    try:
        store = await RedisStore.open(f"redis://127.0.0.1:{port}/0", clock)
        await store.save(USER, "before")
        stop(server)
        assert await store.ping() is False
        with pytest.raises(StoreUnavailable, match="unavailable"):
            await store.load(USER)
        with pytest.raises(StoreUnavailable):
            await store.compare_and_save(USER, "during", NO_VERSION)
        store.count_turn(clock.today(), "fallback")
        await store.flush_traffic()  # statistics are dropped with one line, never a traceback
        assert [(r.levelname, r.exc_info) for r in caplog.records] == [("WARNING", None)]
        assert "traffic counts were dropped" in caplog.text
        server = start_server(port, tmp_path)  # an empty one: no persistence in tests
        assert await store.ping() is True
        await store.save(USER, "after")
        assert await store.load(USER) == "after"
        await store.close()
    finally:
        stop(server)


async def test_use_after_close_raises_and_ping_says_no(clock: FixedClock) -> None:
    async with redis_store(clock) as store:
        pass
    with pytest.raises(StoreError, match="closed"):
        await store.load(USER)
    assert await store.ping() is False


async def test_several_processes_claim_each_due_reminder_exactly_once(clock: FixedClock) -> None:
    async with redis_store(clock) as first:
        others = [await RedisStore.open(redis_url(), clock, root=first.root) for _ in range(3)]
        replicas = [first, *others]
        try:
            now = clock.now()
            for n in range(20):
                await first.add_reminders(f"telegram:{n:032x}", "telegram", str(n), [(now, "a"), (now, "b")])

            async def sweep(store: RedisStore) -> list[int]:
                won = []
                for reminder in await store.due_reminders(now, limit=100):
                    await asyncio.sleep(0)
                    if await store.claim_reminder(reminder.id):
                        won.append(reminder.id)
                return won

            claims = await asyncio.gather(*(sweep(store) for store in replicas))
            every = [rid for won in claims for rid in won]
            assert len(every) == 40
            assert len(set(every)) == 40
            assert await first.due_reminders(now) == []
        finally:
            for store in others:
                await store.close()


async def test_a_cancel_and_a_claim_of_one_reminder_never_both_win(clock: FixedClock) -> None:
    async with redis_store(clock) as a, redis_store(clock, root=a.root) as b:
        for _ in range(10):
            [reminder] = await a.add_reminders(USER, "telegram", "42", [(clock.now(), "a")])
            claimed, cancelled = await asyncio.gather(b.claim_reminder(reminder.id), a.cancel_reminders(USER))
            assert (claimed, cancelled) in ((True, 0), (False, 1))
            await b.finish_reminder(reminder.id)


async def test_every_key_of_one_conversation_is_on_one_cluster_slot(clock: FixedClock) -> None:
    async with redis_store(clock) as store:
        for name in (USER, f"{USER}:choices", f"{USER}:keyboard", f"{USER}:later"):
            await store.save(name, "{}")
        await store.claim_once(f"{USER}:once", timedelta(minutes=1))
        names = [n for n in await keys_under(redis_url(), store.root) if "{reminders}" not in n]
        assert {split(n[n.index("{") + 1 : n.index("}")])[0] for n in names} == {USER}
        assert len({key_slot(n.encode()) for n in names}) == 1
        assert len(names) == 7  # four documents, their index, their version counter, the once-only record


async def test_redis_expires_sessions_after_the_ttl_and_once_records_after_theirs(clock: FixedClock) -> None:
    async with redis_store(clock) as store:
        keys = Keys(store.root)
        await store.save(USER, "{}")
        await store.claim_once("wechat:msg:1", timedelta(minutes=2))
        client = Redis.from_url(redis_url(), decode_responses=True)
        try:
            session_ttl = await client.pttl(keys.document(USER))
            once_ttl = await client.pttl(keys.once("wechat:msg:1"))
            counter_ttl = await client.pttl(keys.versions(USER))
        finally:
            await client.aclose()
        thirty_days = 30 * 86_400_000
        assert thirty_days - 60_000 < session_ttl <= thirty_days
        assert 60_000 < once_ttl <= 120_000
        assert counter_ttl > session_ttl  # versions never repeat while a writer might hold one
