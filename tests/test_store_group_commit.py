"""SqliteStore's group commit: one tick's writes share one COMMIT, and none returns before it is durable."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.errors import StoreError
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.checkpoint import CHECKPOINT_EVERY
from tests.sqlite_kit import T0, opened, raw, statements


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@asynccontextmanager
async def conversations_at_work(store: SqliteStore) -> AsyncIterator[None]:
    """Two conversations hold their locks, as under concurrent traffic: then writers share commits."""
    async with store.lock("conversation-1"), store.lock("conversation-2"):
        yield


async def test_saves_of_one_tick_share_one_commit_and_all_survive_a_reopen(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        await store.save("warm-up", "{}")  # the first save also purges, on the worker
        seen = statements(store)
        async with conversations_at_work(store):
            await asyncio.gather(*(store.save(f"k{n}", f'{{"n": {n}}}') for n in range(10)))
        assert seen.count("BEGIN IMMEDIATE") == 1
        assert seen.count("COMMIT") == 1
        with raw(path) as other:  # committed, visible to another connection, before the saves returned
            assert other.execute("SELECT count(*) FROM documents WHERE key LIKE 'k%'").fetchone() == (10,)
    async with opened(path, clock) as reopened:
        assert [await reopened.load(f"k{n}") for n in range(10)] == [f'{{"n": {n}}}' for n in range(10)]


async def test_a_lone_conversation_commits_at_once(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        await store.save("warm-up", "{}")
        seen = statements(store)
        async with store.lock("k"):
            await store.save("k", "1")
            with raw(path) as other:
                assert other.execute("SELECT body FROM documents WHERE key = 'k'").fetchone() == ("1",)
        assert "BEGIN IMMEDIATE" not in seen  # autocommit: no transaction of its own to share


async def test_a_write_returns_only_after_its_commit(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        await store.save("warm-up", "{}")
        async with conversations_at_work(store):
            saving = asyncio.ensure_future(store.save("k", "1"))
            await asyncio.sleep(0)  # the save ran inline and waits for the end of the tick's transaction
            with raw(path) as other:
                assert other.execute("SELECT count(*) FROM documents WHERE key = 'k'").fetchone() == (0,)
                assert not saving.done()
                await saving
                assert other.execute("SELECT body FROM documents WHERE key = 'k'").fetchone() == ("1",)


async def test_reads_see_the_writes_of_the_open_transaction(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        await store.save("warm-up", "{}")
        seen: list[str | None] = []

        async def read_after_write() -> None:
            await asyncio.sleep(0)  # runs in the tick of the save below, before its commit
            seen.append(await store.load("k"))
            seen.append(await store.once_result("once-k"))

        await asyncio.gather(store.save("k", "mine"), read_after_write(), store.claim_once("once-k", _TTL))
        assert seen == ["mine", None]  # claimed, with no result yet


async def test_a_failed_commit_reaches_every_waiter_and_keeps_nothing(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        await store.save("warm-up", "{}")
        conn = store._conn
        assert conn is not None

        def deny_commit(action: int, arg1: str | None, *_: object) -> int:
            refused = action == sqlite3.SQLITE_TRANSACTION and arg1 == "COMMIT"
            return sqlite3.SQLITE_DENY if refused else sqlite3.SQLITE_OK

        conn.set_authorizer(deny_commit)
        async with conversations_at_work(store):
            outcomes = await asyncio.gather(
                store.save("a", "1"), store.save("b", "2"), store.claim_once("once-c", _TTL), return_exceptions=True
            )
        # The saves wait for the COMMIT and fail with it; a once-claim is decided before it and does not wait.
        assert all(isinstance(outcome, StoreError) for outcome in outcomes[:2]), outcomes
        assert outcomes[2] is True
        assert "not authorized" in str(outcomes[0])
        conn.set_authorizer(None)
        assert not conn.in_transaction  # rolled back, not left open
        assert [await store.load("a"), await store.load("b"), await store.once_result("once-c")] == [None] * 3
        assert await store.claim_once("once-c", _TTL)  # nothing was recorded: the claim is still free
        await store.save("a", "3")
        assert await store.load("a") == "3"


async def test_a_write_while_another_connection_holds_the_lock_waits_on_the_worker(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock, busy_timeout=5) as store:
        await store.save("warm-up", "{}")
        with raw(path) as other:
            other.execute("BEGIN IMMEDIATE")
            saving = asyncio.ensure_future(store.save("k", "waited"))
            await asyncio.sleep(0.1)
            assert not saving.done()  # waiting for the lock on the worker, while the loop runs on
            other.execute("COMMIT")
            await asyncio.wait_for(saving, 5)
            assert other.execute("SELECT body FROM documents WHERE key = 'k'").fetchone() == ("waited",)
        await store.save("after", "inline again")
        assert await store.load("after") == "inline again"


_TTL = datetime(2025, 3, 1, 9, 31, tzinfo=UTC) - T0


async def test_the_wal_is_checkpointed_off_the_event_loop(tmp_path: Path, clock: FixedClock) -> None:
    """The store's connection never checkpoints inside a COMMIT; a thread of its own copies the WAL back."""
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        before = path.stat().st_size
        for n in range(CHECKPOINT_EVERY + 1):
            await store.save(f"k{n}", "签注" * 500)  # each its own commit, a few pages each
        for _ in range(100):  # the checkpoint runs in the background: the database file grows when it is done
            if path.stat().st_size > before + 64 * 1024:
                break
            await asyncio.sleep(0.05)
        assert path.stat().st_size > before + 64 * 1024
        assert await store.load(f"k{CHECKPOINT_EVERY}") == "签注" * 500


async def test_a_cancelled_writer_cancels_nobody_else_and_its_write_still_lands(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        await store.save("warm-up", "{}")
        async with conversations_at_work(store):
            first = asyncio.ensure_future(store.save("a", "1"))
            second = asyncio.ensure_future(store.save("b", "2"))
            await asyncio.sleep(0)  # both ran inline and wait for the same COMMIT
            first.cancel()
            await second
        assert first.cancelled()
        with raw(path) as other:
            assert other.execute("SELECT key, body FROM documents WHERE key IN ('a', 'b') ORDER BY key").fetchall() == [
                ("a", "1"),
                ("b", "2"),
            ]


async def test_a_claim_is_decided_under_the_write_lock_before_its_commit(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "state.db"
    async with opened(path, clock, busy_timeout=5) as first, opened(path, clock, busy_timeout=5) as second:
        assert await first.claim_once("once-k", _TTL)
        assert first._conn is not None
        assert first._conn.in_transaction  # its COMMIT comes at the end of the tick
        with raw(path) as other:  # another process cannot see it yet...
            assert other.execute("SELECT count(*) FROM once").fetchone() == (0,)
        # ...nor claim it: its claim waits for the write lock, then finds the key taken.
        assert not await second.claim_once("once-k", _TTL)
        assert not first._conn.in_transaction
