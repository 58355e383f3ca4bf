"""Shared fixtures: the real content, loaded once, and engines on real stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from bot.catalog.catalog import Catalog
from bot.catalog.loader import load_catalog
from bot.core.clock import FixedClock
from bot.core.dialog import Dialog
from bot.core.engine import Engine
from bot.runtime import Runtime
from bot.store.memory import MemoryStore
from tests.wechat_kit import runtime as wechat_runtime
from tests.wechat_kit import wechat_server

TODAY = date(2026, 11, 26)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def shared_engine_parts(catalog: Catalog) -> Engine:
    """Builds jieba's dictionary once per test session; tests take fresh stores and clocks from `engine`."""
    clock = FixedClock.on(TODAY)
    return Engine(catalog, MemoryStore(clock), clock)


@pytest.fixture(scope="session")
def full_engine_parts(shared_engine_parts: Engine) -> Engine:
    """Like shared_engine_parts, with verdicts as the whole text (`qianzhu ask --full`) instead of the card."""
    parts = shared_engine_parts
    return Engine(
        parts.catalog, parts.store, parts.clock, dialog=Dialog(parts.catalog, parts.dialog.understanding, True)
    )


@pytest.fixture(scope="session")
def dialog(shared_engine_parts: Engine) -> Dialog:
    """The pure conversation logic, for tests that need no store."""
    return shared_engine_parts.dialog


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock.on(TODAY)


@pytest.fixture
async def run(shared_engine_parts: Engine, clock: FixedClock) -> AsyncIterator[Runtime]:
    """A WeChat-ready runtime on a fresh memory store (tests/wechat_kit.py builds requests for it)."""
    store = MemoryStore(clock)
    yield wechat_runtime(shared_engine_parts, store, clock)
    await store.close()


@pytest.fixture
async def client(run: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for `run` served on 127.0.0.1."""
    async with wechat_server(run) as opened:
        yield opened


@pytest.fixture
async def engine(shared_engine_parts: Engine, clock: FixedClock) -> AsyncIterator[Engine]:
    store = MemoryStore(clock)
    yield shared_engine_parts.with_store(store, clock)
    await store.close()
