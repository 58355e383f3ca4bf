"""Reminders and once-only records, the same contract on the memory, SQLite and Redis stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.redis_kit import STORE_KINDS, any_store

Extras = MemoryStore | SqliteStore | RedisStore


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest, clock: FixedClock, tmp_path: Path) -> AsyncIterator[Extras]:
    async with any_store(request.param, clock, tmp_path) as opened:
        yield opened


async def test_reminders_are_due_in_order_and_claimed_once(store: Extras, clock: FixedClock) -> None:
    now = clock.now()
    await store.add_reminders(
        "k", "telegram", "42", [(now + timedelta(days=7), "七天"), (now + timedelta(days=1), "一天")]
    )
    assert [r.text for r in await store.reminders_for("k")] == ["一天", "七天"]
    assert await store.due_reminders(now) == []
    due = await store.due_reminders(now + timedelta(days=1))
    assert [r.text for r in due] == ["一天"]
    assert await store.claim_reminder(due[0].id)
    assert not await store.claim_reminder(due[0].id)  # a second sender loses
    assert await store.due_reminders(now + timedelta(days=1)) == []  # claimed: not offered again
    await store.finish_reminder(due[0].id)
    assert [r.text for r in await store.reminders_for("k")] == ["七天"]


async def test_adding_replaces_pending_reminders(store: Extras, clock: FixedClock) -> None:
    now = clock.now()
    await store.add_reminders("k", "telegram", "42", [(now + timedelta(days=3), "a")])
    await store.add_reminders("k", "telegram", "42", [(now + timedelta(days=4), "b")])
    assert [r.text for r in await store.reminders_for("k")] == ["b"]


async def test_cancel_and_delete_remove_reminders(store: Extras, clock: FixedClock) -> None:
    now = clock.now()
    await store.add_reminders("k", "telegram", "42", [(now, "a")])
    assert await store.cancel_reminders("k") == 1
    await store.add_reminders("k", "telegram", "42", [(now, "a")])
    await store.delete("k")
    assert await store.reminders_for("k") == []
    assert await store.due_reminders(now + timedelta(days=1)) == []


async def test_once_claims_first_and_shares_the_result(store: Extras, clock: FixedClock) -> None:
    assert await store.claim_once("m1", timedelta(minutes=1))
    assert not await store.claim_once("m1", timedelta(minutes=1))
    assert await store.once_result("m1") is None  # still running
    await store.finish_once("m1", "答复", timedelta(minutes=5))
    assert await store.once_result("m1") == "答复"
    assert not await store.claim_once("m1", timedelta(minutes=1))
    clock.current += timedelta(minutes=6)
    assert await store.once_result("m1") is None
    assert await store.claim_once("m1", timedelta(minutes=1))  # expired: a new delivery, a new claim


async def test_remember_first_keeps_the_first_value_until_it_expires(store: Extras, clock: FixedClock) -> None:
    assert await store.remember_first("n1", "digest-a", timedelta(minutes=5)) == "digest-a"
    assert await store.remember_first("n1", "digest-b", timedelta(minutes=5)) == "digest-a"
    assert await store.remember_first("n2", "digest-b", timedelta(minutes=5)) == "digest-b"
    clock.current += timedelta(minutes=6)
    assert await store.remember_first("n1", "digest-c", timedelta(minutes=5)) == "digest-c"


async def test_sqlite_remember_first_holds_across_processes(clock: FixedClock, tmp_path: Path) -> None:
    first = await SqliteStore.open(tmp_path / "x.db", clock)
    second = await SqliteStore.open(tmp_path / "x.db", clock)
    try:
        assert await first.remember_first("n1", "a", timedelta(minutes=5)) == "a"
        await first.save("k", "{}")  # the tick's transaction commits with it
        assert await second.remember_first("n1", "b", timedelta(minutes=5)) == "a"
    finally:
        await first.close()
        await second.close()


async def test_sqlite_extras_survive_a_restart(clock: FixedClock, tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "x.db", clock)
    await store.add_reminders("k", "telegram", "42", [(clock.now(), "a")])
    await store.claim_once("m1", timedelta(minutes=1))
    await store.finish_once("m1", "答复", timedelta(minutes=5))
    await store.close()
    store = await SqliteStore.open(tmp_path / "x.db", clock)
    assert [r.text for r in await store.reminders_for("k")] == ["a"]
    assert await store.once_result("m1") == "答复"
    await store.close()
