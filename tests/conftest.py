"""Shared fixtures: the real content, loaded once, and engines on real stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from bot.catalog.catalog import Catalog
from bot.catalog.loader import load_catalog
from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.store.memory import MemoryStore

TODAY = date(2026, 11, 26)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def shared_engine_parts(catalog: Catalog) -> Engine:
    """Builds jieba's dictionary once per test session; tests take fresh stores and clocks from `engine`."""
    clock = FixedClock.on(TODAY)
    return Engine(catalog, MemoryStore(clock), clock)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock.on(TODAY)


@pytest.fixture
async def engine(shared_engine_parts: Engine, clock: FixedClock) -> AsyncIterator[Engine]:
    store = MemoryStore(clock)
    yield shared_engine_parts.with_store(store, clock)
    await store.close()
