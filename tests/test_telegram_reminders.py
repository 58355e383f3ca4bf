"""The reminder loop with a fake clock: due and not due, at most once across crashes and restarts, /forget."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot

from bot.channels.telegram.delivery import Retrying
from bot.channels.telegram.reminders import ReminderLoop, reminder_items
from bot.channels.telegram.texts import load_texts
from bot.core.clock import SHANGHAI, FixedClock, TestClock, calendar_now
from bot.core.engine import Engine
from bot.metrics import Metrics
from bot.store.extras import Stores
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from tests.fake_telegram import TOKEN, USER, FakeBotApi, FakeRequest
from tests.telegram_harness import Sleeps

TEXTS = load_texts().reminders
DEADLINE = date(2026, 12, 19)
WEEK_BEFORE = datetime(2026, 12, 12, 9, tzinfo=SHANGHAI)
DAY_BEFORE = datetime(2026, 12, 18, 9, tzinfo=SHANGHAI)
KEY = "k-user"
BLOCKED = (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
FLOOD = (429, {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 3}})
GATEWAY = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})


@dataclass
class Setup:
    api: FakeBotApi
    bot: Bot
    clock: FixedClock
    sleeps: Sleeps
    metrics: Metrics

    def loop(self, store: Stores) -> ReminderLoop:
        return ReminderLoop(self.bot, store, self.clock, self.metrics, Retrying(sleep=self.sleeps))


@pytest.fixture
async def setup(clock: FixedClock) -> AsyncIterator[Setup]:
    api = FakeBotApi()
    bot = Bot(TOKEN, request=FakeRequest(api), get_updates_request=FakeRequest(api))
    async with bot:
        yield Setup(api, bot, clock, Sleeps(), Metrics())


async def schedule(store: Stores, now: datetime) -> None:
    items = reminder_items(DEADLINE, "已过期，但还在宽限期内", now, TEXTS)
    await store.add_reminders(KEY, "telegram", str(USER["id"]), items)


def test_reminders_fall_at_nine_beijing_time_seven_days_and_one_day_before() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=SHANGHAI)
    items = reminder_items(DEADLINE, "还没过期", now, TEXTS)
    assert [due for due, _ in items] == [WEEK_BEFORE, DAY_BEFORE]
    assert "2026年12月19日（周六）" in items[0][1]
    assert "还没过期" in items[0][1]


def test_reminders_already_past_are_left_out() -> None:
    assert [due for due, _ in reminder_items(DEADLINE, "x", WEEK_BEFORE, TEXTS)] == [DAY_BEFORE]
    assert reminder_items(DEADLINE, "x", DAY_BEFORE, TEXTS) == []


def test_placeholder_values_are_escaped() -> None:
    [(_, text), _] = reminder_items(DEADLINE, "<i>&", datetime(2026, 11, 26, tzinfo=SHANGHAI), TEXTS)
    assert "&lt;i&gt;&amp;" in text


async def test_sent_when_due_and_only_once(setup: Setup, clock: FixedClock) -> None:
    store = MemoryStore(clock)
    await schedule(store, clock.now())
    loop = setup.loop(store)
    clock.current = WEEK_BEFORE - timedelta(seconds=1)
    assert await loop.tick() == 0
    clock.current = WEEK_BEFORE
    assert await loop.tick() == 1
    assert await loop.tick() == 0
    [params] = setup.api.called("sendMessage")
    assert params["chat_id"] == str(USER["id"])
    assert params["parse_mode"] == "HTML"
    assert "还有 7 天" in params["text"]
    clock.current = DAY_BEFORE + timedelta(hours=11)  # a loop that was down for a while catches up
    assert await loop.tick() == 1
    assert await store.reminders_for(KEY) == []
    await store.close()


async def test_a_reminder_long_overdue_is_dropped_not_sent(setup: Setup, clock: FixedClock) -> None:
    store = MemoryStore(clock)
    await schedule(store, clock.now())
    clock.current = DAY_BEFORE + timedelta(hours=1)  # the process was down for six days
    assert await setup.loop(store).tick() == 1
    assert "明天" in setup.api.sent()[0]
    assert await store.reminders_for(KEY) == []
    assert setup.metrics.errors.value("telegram", "reminder_stale") == 1
    await store.close()


async def test_reminders_survive_a_restart(setup: Setup, clock: FixedClock, tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    first = await SqliteStore.open(path, clock)
    await schedule(first, clock.now())
    await first.close()
    clock.current = DAY_BEFORE
    second = await SqliteStore.open(path, clock)
    assert await setup.loop(second).tick() == 1  # the day-before one; the week-before one is long out of date
    assert "明天" in setup.api.sent()[0]
    await second.close()


async def test_a_crash_right_after_sending_never_sends_twice(setup: Setup, clock: FixedClock, tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(path, clock)
    await schedule(store, clock.now())
    clock.current = WEEK_BEFORE

    def die_after_sending(method: str, params: object) -> None:
        if method == "sendMessage":  # Telegram has the message; the process dies before it records that
            raise asyncio.CancelledError

    setup.api.on_call = die_after_sending
    with pytest.raises(asyncio.CancelledError):
        await setup.loop(store).tick()
    await store.close()
    setup.api.on_call = None
    restarted = await SqliteStore.open(path, clock)
    assert await setup.loop(restarted).tick() == 0
    assert len(setup.api.sent()) == 1
    await restarted.close()


async def test_forget_removes_the_reminders(setup: Setup, engine: Engine, clock: FixedClock) -> None:
    store = engine.store
    key = engine.key("telegram", str(USER["id"]))
    items = reminder_items(DEADLINE, "x", clock.now(), TEXTS)
    await store.add_reminders(key, "telegram", str(USER["id"]), items)  # type: ignore[attr-defined]
    await engine.forget("telegram", str(USER["id"]))
    clock.current = DAY_BEFORE
    assert await setup.loop(store).tick() == 0  # type: ignore[arg-type]
    assert setup.api.sent() == []


async def test_a_blocked_user_loses_every_reminder(setup: Setup, clock: FixedClock) -> None:
    store = MemoryStore(clock)
    await schedule(store, clock.now())
    setup.api.fail("sendMessage", BLOCKED)
    clock.current = WEEK_BEFORE
    assert await setup.loop(store).tick() == 0
    assert await store.reminders_for(KEY) == []
    clock.current = DAY_BEFORE
    assert await setup.loop(store).tick() == 0
    assert setup.metrics.errors.value("telegram", "blocked") == 1
    await store.close()


async def test_flood_control_is_waited_out(setup: Setup, clock: FixedClock) -> None:
    store = MemoryStore(clock)
    await schedule(store, clock.now())
    setup.api.fail("sendMessage", FLOOD)
    clock.current = WEEK_BEFORE
    assert await setup.loop(store).tick() == 1
    assert setup.sleeps.waits == [3.0]
    await store.close()


async def test_a_send_that_keeps_failing_stays_claimed(setup: Setup, clock: FixedClock) -> None:
    store = MemoryStore(clock)
    await schedule(store, clock.now())
    setup.api.fail("sendMessage", *[GATEWAY] * 4)
    clock.current = WEEK_BEFORE
    loop = setup.loop(store)
    assert await loop.tick() == 0
    assert setup.sleeps.waits == [1.0, 2.0, 4.0]
    assert await loop.tick() == 0  # not retried: it may have arrived
    assert len(setup.api.sent()) == 4
    assert setup.metrics.errors.value("telegram", "reminder_failed") == 1
    await store.close()


async def test_other_channels_reminders_are_left_alone(setup: Setup, clock: FixedClock) -> None:
    store = MemoryStore(clock)
    await store.add_reminders("k-wechat", "wechat", "openid", [(WEEK_BEFORE, "hi")])
    clock.current = WEEK_BEFORE
    assert await setup.loop(store).tick() == 0
    assert len(await store.reminders_for("k-wechat")) == 1
    await store.close()


async def test_the_loop_survives_a_failing_tick_and_stops_when_asked(
    setup: Setup, clock: FixedClock, tmp_path: Path
) -> None:
    store = MemoryStore(clock)
    await schedule(store, clock.now())
    clock.current = WEEK_BEFORE
    waits: list[float] = []
    closed = await SqliteStore.open(tmp_path / "closed.db", clock)
    await closed.close()
    loop = setup.loop(closed)
    stop = asyncio.Event()

    async def wait(event: asyncio.Event, seconds: float) -> None:
        waits.append(seconds)
        loop.store = store  # the store is back after the first failure
        if len(waits) == 2:
            event.set()

    loop.wait = wait
    await asyncio.wait_for(loop.run(stop), 5)
    assert waits == [5.0, 5.0]
    assert setup.metrics.errors.value("telegram", "reminder_loop") == 1
    assert len(setup.api.sent()) == 1
    await store.close()


async def test_with_the_test_clock_reminders_fall_due_on_its_calendar(setup: Setup) -> None:
    """QIANZHU_TODAY=2026-12-12 (the week-before day) while the real day is 2026-12-01: a rehearsal sees the
    reminder at once instead of eleven days later."""
    real = FixedClock(datetime(2026, 12, 1, 10, tzinfo=SHANGHAI))
    rehearsal = TestClock(date(2026, 12, 12), real)
    assert calendar_now(rehearsal) == datetime(2026, 12, 12, 10, tzinfo=SHANGHAI)
    assert calendar_now(real) == real.now()  # every other clock: the real moment
    store = MemoryStore(real)
    await schedule(store, calendar_now(TestClock(date(2026, 12, 10), real)))
    loop = ReminderLoop(setup.bot, store, rehearsal, setup.metrics, Retrying(sleep=setup.sleeps))
    assert await loop.tick() == 1
    assert "还有 7 天" in setup.api.called("sendMessage")[-1]["text"]
    await store.close()
