"""MemoryStore: expiry drops documents, hourly sweeps bound its size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import FixedClock
from bot.core.errors import StoreError
from bot.store.base import Store
from bot.store.memory import MemoryStore

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_satisfies_the_store_protocol() -> None:
    store: Store = MemoryStore(FixedClock(T0))
    assert store is not None


async def test_expired_document_is_dropped_on_load() -> None:
    clock = FixedClock(T0)
    store = MemoryStore(clock)
    await store.save("k", "{}")
    clock.current = T0 + timedelta(days=31)
    assert await store.load("k") is None
    assert len(store) == 0
    clock.current = T0 + timedelta(days=1)  # dropped for good, even if the clock goes back
    assert await store.load("k") is None


async def test_saves_sweep_stale_documents_at_most_once_an_hour() -> None:
    clock = FixedClock(T0)
    store = MemoryStore(clock, ttl=timedelta(hours=2))
    await store.save("a", "{}")
    clock.current = T0 + timedelta(minutes=30)
    await store.save("b", "{}")
    clock.current = T0 + timedelta(hours=2)
    await store.save("c", "{}")  # sweeps "a"
    assert len(store) == 2
    clock.current = T0 + timedelta(hours=2, minutes=40)
    await store.save("d", "{}")  # "b" is stale but the last sweep was 40 min ago
    assert len(store) == 3
    clock.current = T0 + timedelta(hours=3, minutes=1)
    await store.save("e", "{}")
    assert len(store) == 3


async def test_custom_ttl() -> None:
    clock = FixedClock(T0)
    store = MemoryStore(clock, ttl=timedelta(minutes=5))
    await store.save("k", "{}")
    clock.current = T0 + timedelta(minutes=4)
    assert await store.load("k") == "{}"
    clock.current = T0 + timedelta(minutes=5)
    assert await store.load("k") is None


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl"):
        MemoryStore(FixedClock(T0), ttl=timedelta(seconds=-1))


async def test_close_forgets_everything() -> None:
    store = MemoryStore(FixedClock(T0))
    await store.save("k", "{}")
    await store.close()
    assert len(store) == 0
    with pytest.raises(StoreError):
        await store.delete("k")
