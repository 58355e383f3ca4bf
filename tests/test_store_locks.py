"""KeyedLocks: mutual exclusion per key, and no entries left behind."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.locks import KeyedLocks


async def test_one_holder_per_key_at_a_time() -> None:
    locks = KeyedLocks()
    inside = 0
    most = 0

    async def work() -> None:
        nonlocal inside, most
        async with locks.lock("k"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(work() for _ in range(20)))
    assert most == 1
    assert len(locks) == 0


async def test_different_keys_run_concurrently() -> None:
    locks = KeyedLocks()
    both_inside = asyncio.Event()
    arrived = 0

    async def work(key: str) -> None:
        nonlocal arrived
        async with locks.lock(key):
            arrived += 1
            if arrived == 2:
                both_inside.set()
            await asyncio.wait_for(both_inside.wait(), timeout=1)

    await asyncio.gather(work("a"), work("b"))


async def test_entry_is_removed_after_release_and_after_errors() -> None:
    locks = KeyedLocks()
    async with locks.lock("k"):
        assert len(locks) == 1
    assert len(locks) == 0
    with pytest.raises(RuntimeError):
        async with locks.lock("k"):
            raise RuntimeError("boom")
    assert len(locks) == 0


async def test_cancelled_waiter_leaves_no_entry_behind() -> None:
    locks = KeyedLocks()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.lock("k"):
            await release.wait()

    async def waiter() -> None:
        async with locks.lock("k"):
            pass

    holding = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert len(locks) == 1
    release.set()
    await holding
    assert len(locks) == 0


async def test_many_keys_do_not_accumulate() -> None:
    locks = KeyedLocks()
    for i in range(1000):
        async with locks.lock(f"user-{i}"):
            pass
    assert len(locks) == 0
