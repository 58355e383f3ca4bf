"""The Redis store on a local 3-master Redis Cluster, started by the test: the contract's basics, the scripts
(which would fail with CROSSSLOT if a conversation's keys were on two slots), and erase, through redis+cluster://."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from bot.core.clock import FixedClock
from bot.store.base import NO_VERSION
from bot.store.extras import Deadline
from bot.store.redis import RedisStore
from bot.store.traffic import Asked
from tests.redis_kit import REDIS_CLI, REDIS_SERVER, redis_store, start_server, stop

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None or REDIS_CLI is None,
    reason="redis-server and redis-cli are not installed (apt-get install redis)",
)
T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
USERS = [f"wechat:{n:032x}" for n in range(12)]


def bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def cluster_port() -> int:
    """A free port whose cluster bus port (10,000 above it) is free too, so both exist (below 65,536)."""
    while True:
        port = random.randrange(20_000, 40_000)
        if bindable(port) and bindable(port + 10_000):
            return port


def cluster_ok(port: int) -> bool:
    assert REDIS_CLI is not None
    done = subprocess.run(
        [REDIS_CLI, "-p", str(port), "cluster", "info"], capture_output=True, text=True, timeout=10, check=False
    )
    return "cluster_state:ok" in done.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three masters on free ports, no replicas; yields a redis+cluster:// URL naming one of them."""
    assert REDIS_CLI is not None
    ports: list[int] = []
    servers = []
    try:
        for _ in range(3):
            port = cluster_port()  # each one taken before the next is chosen
            ports.append(port)
            folder = tmp_path_factory.mktemp(f"node{port}")
            servers.append(
                start_server(port, folder, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
            )
        subprocess.run(
            [REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-yes"],
            capture_output=True,
            timeout=60,
            check=True,
        )
        for _ in range(500):
            if all(cluster_ok(p) for p in ports):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the cluster did not become ready")
        yield f"redis+cluster://127.0.0.1:{ports[0]}"
    finally:
        for server in servers:
            stop(server)


@pytest.fixture
async def store(cluster: str) -> AsyncIterator[RedisStore]:
    async with redis_store(FixedClock(T0), cluster) as opened:
        yield opened


async def test_sessions_versions_and_conditional_saves(store: RedisStore) -> None:
    for user in USERS:
        assert await store.compare_and_save(user, "first", NO_VERSION) is True
        assert await store.compare_and_save(user, "second", NO_VERSION) is False
        document, version = await store.load_versioned(user)
        assert document == "first"
        assert await store.compare_and_save(user, "third", version) is True
        assert await store.compare_and_save(user, "stale", version) is False
        assert await store.load(user) == "third"


async def test_the_users_keys_spread_over_the_masters(store: RedisStore, cluster: str) -> None:
    for user in USERS:
        await store.save(user, "{}")
    client = RedisCluster.from_url(cluster.replace("redis+cluster", "redis"), decode_responses=True)
    try:
        await client.initialize()
        holding = 0
        for node in client.get_primaries():
            direct = Redis(host=node.host, port=node.port, decode_responses=True)
            holding += bool([name async for name in direct.scan_iter(match=f"{store.root}:*")])
            await direct.aclose()
    finally:
        await client.aclose()
    assert holding > 1


async def test_erase_on_a_cluster(store: RedisStore) -> None:
    user, other = USERS[0], USERS[1]
    for name in (user, f"{user}:choices", f"{user}:keyboard", other, f"{other}:choices", "k", "k:choices"):
        await store.save(name, '"x"')
    await store.add_reminders(user, "telegram", "42", [(T0, "a")], Deadline(T0.date(), "within_grace", "上海"))
    _, version = await store.load_versioned(user)
    await store.erase(user)
    await store.erase("k")  # not a conversation key: its neighbours are looked for on every master
    assert [await store.load(n) for n in (user, f"{user}:choices", f"{user}:keyboard", "k", "k:choices")] == [None] * 5
    assert (await store.load(other), await store.load(f"{other}:choices")) == ('"x"', '"x"')
    assert await store.reminders_for(user) == []
    assert await store.compare_and_save(user, "back", version) is False


async def test_reminders_once_records_and_traffic(store: RedisStore) -> None:
    [reminder] = await store.add_reminders(USERS[2], "telegram", "42", [(T0, "a")])
    [due] = await store.due_reminders(T0)
    assert (due.id, await store.claim_reminder(due.id), await store.claim_reminder(due.id)) == (
        reminder.id,
        True,
        False,
    )
    await store.finish_reminder(due.id)
    assert await store.reminders_for(USERS[2]) == []
    assert await store.claim_once(f"{USERS[2]}:m1", timedelta(minutes=1))
    assert not await store.claim_once(f"{USERS[2]}:m1", timedelta(minutes=1))
    await store.finish_once(f"{USERS[2]}:m1", "答复", timedelta(minutes=5))
    assert await store.once_result(f"{USERS[2]}:m1") == "答复"
    assert await store.remember_first("wechat:nonce:1:abc", "a", timedelta(minutes=5)) == "a"
    assert await store.remember_first("wechat:nonce:1:abc", "b", timedelta(minutes=5)) == "a"
    store.count_turn(T0.date(), "fallback", Asked("股票明天会涨吗", "fallback"))
    found = await store.traffic(T0.date())
    assert dict(found.turns) == {(T0.date(), "fallback"): 1}
    assert [r.asked.text for r in found.asked] == ["股票明天会涨吗"]
