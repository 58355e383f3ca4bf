"""SqliteStore's storage stays bounded: the WAL is emptied when it grows, expired rows go by index in small
batches that let requests through, and freed pages go back to the file system."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.checkpoint import IDLE_LIMIT, WAL_LIMIT, wal_size
from bot.store.sqlite.purge import PURGE_BATCH, PURGE_DOCUMENTS, PURGE_ONCE
from tests.sqlite_kit import T0, opened, raw, statements


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


async def eventually(condition: Callable[[], bool], within: float = 30.0) -> None:
    """Waits for the store's background work (a liveness bound, not a timing claim)."""
    give_up = time.monotonic() + within
    while not condition():
        assert time.monotonic() < give_up, "the background work did not happen"
        await asyncio.sleep(0.01)


def expired_once_rows(path: Path, count: int, result: str = "答复") -> None:
    """Once-only records that expired a minute before T0, as a busy minute of WeChat traffic leaves them."""
    expires = (T0 - timedelta(minutes=1)).timestamp()
    with raw(path) as conn:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO once (key, result, expires_at) VALUES (?, ?, ?)",
            ((f"wechat:msg{n}", result, expires) for n in range(count)),
        )
        conn.execute("COMMIT")


def pages(path: Path) -> tuple[int, int]:
    """(all pages, free pages) of the file, as another connection sees it."""
    with raw(path) as conn:
        return int(conn.execute("PRAGMA page_count").fetchone()[0]), int(
            conn.execute("PRAGMA freelist_count").fetchone()[0]
        )


@pytest.mark.slow
async def test_the_wal_stays_bounded_under_sustained_writes_and_is_emptied_after(
    tmp_path: Path, clock: FixedClock
) -> None:
    """D8: the WAL grew by 17 MB/s without end under load. Here 4 x the bound is written through it."""
    path = tmp_path / "state.db"
    body = "签" * 700  # about 2 KB
    largest = written = 0
    async with opened(path, clock, purge_every=0.05) as store:
        async with store.lock("conversation-1"), store.lock("conversation-2"):  # concurrent traffic: group commits
            while written < 4 * WAL_LIMIT:
                await asyncio.gather(*(store.save(f"user{n % 2000}", f"{body}{written}") for n in range(50)))
                written += 50 * len(body.encode())
                largest = max(largest, wal_size(str(path)))
                await asyncio.sleep(0)  # as between requests
        assert largest < 1.5 * WAL_LIMIT
        await eventually(lambda: wal_size(str(path)) <= IDLE_LIMIT)  # emptied once the load is over
        assert await store.load("user7") is not None


async def test_the_purges_go_by_index(tmp_path: Path, clock: FixedClock) -> None:
    async with opened(tmp_path / "state.db", clock) as store:
        for sql, index in ((PURGE_ONCE, "once_expires"), (PURGE_DOCUMENTS, "documents_updated")):
            plan = " | ".join(row[3] for row in await store._run("EXPLAIN QUERY PLAN " + sql, (0.0, PURGE_BATCH)))
            assert f"USING COVERING INDEX {index}" in plan


async def test_a_file_from_before_the_indexes_gets_them_at_open(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    await (await SqliteStore.open(path, clock)).close()
    with raw(path) as conn:
        conn.execute("DROP INDEX documents_updated")
        conn.execute("DROP INDEX once_expires")
    await (await SqliteStore.open(path, clock)).close()
    with raw(path) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"documents_updated", "once_expires"} <= names


async def test_a_big_purge_goes_in_small_batches_and_requests_go_in_between(tmp_path: Path, clock: FixedClock) -> None:
    """D8: one DELETE of 621k rows took 7.4 s, and every request queued behind it."""
    path = tmp_path / "state.db"
    async with opened(path, clock, purge_every=3600) as store:
        expired_once_rows(path, 40 * PURGE_BATCH)
        await store.save("k", "{}")
        seen = statements(store)
        purging = asyncio.create_task(store.purge())
        await asyncio.sleep(0)  # the first batch is on the worker
        await store.save("k", '{"n": 2}')
        assert await store.load("k") == '{"n": 2}'
        assert not purging.done()  # the save did not wait for the whole purge
        await purging
        assert sum(1 for sql in seen if sql.startswith("DELETE FROM once")) > 40
        with raw(path) as conn:
            assert conn.execute("SELECT count(*) FROM once").fetchone() == (0,)


@pytest.mark.slow
async def test_requests_meeting_a_purge_wait_for_its_batch_and_then_run_inline_again(
    tmp_path: Path, clock: FixedClock
) -> None:
    """The worker shares the connection, so statements that meet a batch wait for it; they do not queue behind
    it on the worker, where a store under load used to stay (every statement a thread's round trip) for good."""
    path = tmp_path / "state.db"
    async with opened(path, clock, purge_every=3600) as store:
        expired_once_rows(path, 40 * PURGE_BATCH)
        threads: list[str] = []
        conn = store._conn
        assert conn is not None
        conn.set_trace_callback(
            lambda sql: threads.append(threading.current_thread().name) if "INTO documents" in sql else None
        )

        async def conversation(n: int) -> None:
            async with store.lock(f"user{n}"):
                for turn in range(20):
                    await store.save(f"user{n}", f'{{"turn": {turn}}}')

        purging = asyncio.create_task(store.purge())
        await asyncio.gather(*(conversation(n) for n in range(8)))
        await purging
        assert len(threads) == 160
        assert set(threads) == {threading.current_thread().name}


async def test_freed_pages_go_back_to_the_file_system(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock, purge_every=0.02) as store:
        assert await store._run("PRAGMA auto_vacuum") == [(2,)]  # INCREMENTAL, for a new file
        await store.save("k", "{}")
        expired_once_rows(path, 5_000, result="答复" * 300)  # about 9 MB of pages
        full, _ = pages(path)
        await eventually(lambda: pages(path)[0] < full // 4 and pages(path)[1] <= pages(path)[0] // 4)
        assert await store.load("k") == "{}"
    after, free = pages(path)
    assert free <= after // 4
    assert path.stat().st_size < full * 1024 // 4


async def test_expired_once_records_leave_the_memory_store_too(clock: FixedClock) -> None:
    store = MemoryStore(clock)
    for n in range(1000):
        assert await store.claim_once(f"m{n}", timedelta(seconds=60))
    clock.current = T0 + timedelta(minutes=10)
    assert await store.claim_once("late", timedelta(seconds=60))  # a later claim sweeps the expired ones
    assert len(store._once) == 1
    assert await store.remember_first("nonce", "digest", timedelta(seconds=60)) == "digest"
