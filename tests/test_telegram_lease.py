"""Two `qianzhu telegram` pollers on one bot token and one store: only the lease holder polls; the other waits
and takes over when the holder stops (at once) or dies (within the lease). Each process talks to its own fake
Bot API, so the calls tell which process polls."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.store.lease import Lease
from bot.store.memory import MemoryStore
from tests.fake_telegram import TOKEN, FakeBotApi, fake_api_app
from tests.servers import serving
from tests.test_telegram_cli import until

LEASE = "2"  # seconds: a dead holder's lease ends this soon


@asynccontextmanager
async def poller(api: FakeBotApi, db: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    async with serving(fake_api_app(api)) as base:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QIANZHU_")}
        env |= {
            "QIANZHU_KEY_SALT": "lease-test",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"{base}/bot",
            "QIANZHU_POLL_LEASE": LEASE,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "telegram", "--db", str(db), env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            yield process
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 60)


def polls(api: FakeBotApi) -> bool:
    return bool(api.called("deleteWebhook"))  # sent right before the first getUpdates


@pytest.mark.parametrize("how", ["stops", "dies"])
async def test_a_second_poller_waits_for_the_lease_and_takes_over(tmp_path: Path, how: str) -> None:
    first_api, second_api, db = FakeBotApi(), FakeBotApi(), tmp_path / "bot.db"
    async with poller(first_api, db) as first:
        await until(lambda: polls(first_api), "the first poller")
        async with poller(second_api, db) as second:
            assert second.stderr is not None
            waiting = b""
            while b"waiting for its lease" not in waiting:
                waiting = await asyncio.wait_for(second.stderr.readline(), 60)
                assert waiting, "the second poller ended without waiting"
            await asyncio.sleep(float(LEASE) * 1.5)  # renewed meanwhile: the lease holds
            assert not second_api.calls  # not even getMe: it never competes for updates
            first.send_signal(signal.SIGTERM if how == "stops" else signal.SIGKILL)
            await asyncio.wait_for(first.wait(), 60)
            await until(lambda: polls(second_api), "the second poller to take over", seconds=float(LEASE) * 5)
            assert second.returncode is None
    if how == "stops":
        assert first.returncode == 0


async def test_the_lease_has_one_holder_until_it_lapses_or_is_released() -> None:
    clock = FixedClock.on(date(2026, 12, 1))
    store = MemoryStore(clock)
    one, two = (Lease(store, "telegram:x", owner, clock, ttl=30) for owner in ("one", "two"))
    assert await one.acquire()
    assert not await two.acquire()
    assert await one.acquire()  # renewed by its holder
    clock.current += timedelta(seconds=31)  # the holder stopped renewing
    assert await two.acquire()
    assert not await one.acquire()
    await two.release()
    assert await one.acquire()
