"""Several deadlines per user through the fake Bot API: kept side by side, listed with whose and when, cancelled
one by one, the window's opening reminded, and a fired reminder's buttons (材料, 去哪办, 我办好了)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from bot.core.clock import SHANGHAI, FixedClock
from bot.core.engine import Engine
from bot.store.extras import Reminder
from tests.fake_telegram import KEYBOARDS, USER, button, message
from tests.telegram_harness import Harness, running_bot

SHANGHAI_TEXT = "我在上海，居住证2026年10月20日过期了"  # within_grace, deadline 2026-12-19 (today is 2026-11-26)
BEIJING_TEXT = "我在北京，居住证2027年9月27日到期"  # not_expired: the window opens on 2027-08-28
WINDOW_OPENS = datetime(2027, 8, 28, 9, tzinfo=SHANGHAI)


@pytest.fixture
async def tg(engine: Engine) -> AsyncIterator[Harness]:
    async with running_bot(engine, engine.store) as harness:  # type: ignore[arg-type]
        yield harness


async def pending(tg: Harness) -> list[Reminder]:
    return await tg.runtime.store.reminders_for(tg.runtime.engine.key("telegram", str(USER["id"])))


async def remind_me(tg: Harness, text: str) -> None:
    """A verdict, then its 🔔."""
    await tg.send(message(text))
    [data] = [data for label, data in tg.api.buttons() if label == tg.texts.reminders.offer]
    await tg.send(button(data))


async def two_deadlines(tg: Harness) -> None:
    await remind_me(tg, SHANGHAI_TEXT)
    assert "上海的签注（截止2026年12月19日（周六））" in tg.api.sent()[-1]
    await remind_me(tg, BEIJING_TEXT)
    assert "北京的签注（截止2027年9月27日（周一））" in tg.api.sent()[-1]


async def test_a_second_deadline_keeps_the_first(tg: Harness) -> None:
    await two_deadlines(tg)
    by_deadline = {(r.deadline.label, r.deadline.day.isoformat()) for r in await pending(tg) if r.deadline}
    assert by_deadline == {("上海", "2026-12-19"), ("北京", "2027-09-27")}
    await remind_me(tg, SHANGHAI_TEXT)  # the same deadline again replaces its own, never doubles
    assert len([r for r in await pending(tg) if r.deadline and r.deadline.label == "上海"]) == 2


async def test_the_window_opening_is_reminded_for_a_deadline_not_yet_expired(tg: Harness) -> None:
    await remind_me(tg, BEIJING_TEXT)
    assert "2027年8月28日（周六）、2027年9月20日（周一）、2027年9月26日（周日）" in tg.api.sent()[-1]
    first = (await pending(tg))[0]
    assert first.due_at == WINDOW_OPENS
    assert "从今天起就可以办理签注了" in first.text
    assert "北京" in first.text


async def test_remind_lists_each_deadline_with_its_city_and_day_and_cancels_one(tg: Harness) -> None:
    await two_deadlines(tg)
    await tg.send(message("/remind"))
    listing = tg.api.sent()[-1]
    assert "<b>上海</b>：截止2026年12月19日（周六），已过期，但还在宽限期内" in listing
    assert "下次提醒：2026年12月12日（周六） 09:00" in listing
    assert "<b>北京</b>：截止2027年9月27日（周一）" in listing
    assert "下次提醒：2027年8月28日（周六） 09:00" in listing
    buttons = tg.api.buttons()
    assert [label for label, _ in buttons] == ["❌ 取消 上海 12月19日", "❌ 取消 北京 9月27日", "取消全部提醒"]
    assert all(len(data.encode()) <= 64 for _, data in buttons)
    await tg.send(button(buttons[0][1]))
    assert tg.api.sent()[-1] == "已取消上海（截止2026年12月19日（周六））的提醒，其他提醒照旧。"
    assert {r.deadline.label for r in await pending(tg) if r.deadline} == {"北京"}
    await tg.send(button(buttons[0][1]))  # pressed again: nothing left to cancel, and it says so
    assert tg.api.sent()[-1] == tg.texts.reminders.already_stopped
    await tg.send(button(buttons[2][1]))
    assert tg.api.sent()[-1] == tg.texts.reminders.cancelled
    assert await pending(tg) == []


async def test_a_fired_reminder_has_its_buttons_and_done_stops_only_its_deadline(
    tg: Harness, clock: FixedClock
) -> None:
    await two_deadlines(tg)
    clock.current = datetime(2026, 12, 12, 9, 1, tzinfo=SHANGHAI)  # 上海's week-before reminder
    assert await tg.bot.reminders.tick() == 1
    fired = tg.api.called("sendMessage")[-1]
    assert "签注提醒｜上海" in fired["text"]
    labels = [label for label, _ in tg.api.buttons()]
    assert labels == ["材料", "去哪办", tg.texts.reminders.done_button]
    [materials, _, done] = [data for _, data in tg.api.buttons()]
    reminder_id = KEYBOARDS[USER["id"]]["message_id"]
    assert materials == tg.bot.channel.codec.choice_data("材料")

    await tg.send(button(materials))  # answered by the engine from the current verdict, like typed text
    assert "材料" in tg.api.sent()[-1]
    assert tg.api.called("answerCallbackQuery")[-1].get("text") is None  # acted on, not "expired"

    await tg.send(button(done, message_id=reminder_id))
    assert tg.api.sent()[-1] == "太好了！上海（截止2026年12月19日（周六））的提醒已经停了，不会再发。"
    assert {r.deadline.label for r in await pending(tg) if r.deadline} == {"北京"}
    clock.current = datetime(2026, 12, 18, 9, 1, tzinfo=SHANGHAI)
    assert await tg.bot.reminders.tick() == 0  # 上海's day-before reminder is gone with it
