"""The verdict card on Telegram, through the fake Bot API: a short first message with the countdown, its details
as buttons, a press answered with that detail, and 加到日历 answered with a calendar file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from icalendar import Calendar

from bot.core.engine import Engine
from tests.fake_telegram import KEYBOARDS, USER, button, message
from tests.telegram_harness import Harness, running_bot


@pytest.fixture
async def tg(engine: Engine) -> AsyncIterator[Harness]:
    async with running_bot(engine, engine.store) as harness:  # type: ignore[arg-type]
        yield harness


def data_of(tg: Harness, label: str) -> str:
    """The callback data of the newest keyboard's button `label`."""
    markup = KEYBOARDS[int(USER["id"])]["reply_markup"]
    return next(b["callback_data"] for row in markup["inline_keyboard"] for b in row if b["text"] == label)


async def test_the_card_is_short_and_its_buttons_give_the_details(tg: Harness) -> None:
    # today is 2026-11-26: 10月20日 in 上海 is 23 days before the end of a 60-day grace period
    await tg.send(message("我在上海，居住证10月20号过期了"))
    card = tg.api.sent()[-1]
    assert len(card) <= 250
    assert "还剩 23 天" in card.splitlines()[0]
    assert "2026年12月19日（周六）" in card.splitlines()[0]
    assert "办理前请向当地派出所或社区服务中心确认" in card
    labels = [label for label, _ in tg.api.buttons()]
    assert labels == ["材料", "去哪办", "办理时间", "当地提示", "依据", tg.texts.reminders.offer, "加到日历"]
    await tg.send(button(data_of(tg, "材料")))
    assert tg.api.called("answerCallbackQuery")  # the press is acknowledged
    edited = tg.api.called("editMessageText")[-1]
    assert edited["text"].startswith(card.split("\n")[0])  # the card, with the choice under it
    assert "本人居民身份证原件" in tg.api.sent()[-1]
    assert "材料" not in [label for label, _ in tg.api.buttons()]  # the rest can still be asked
    await tg.send(button(data_of(tg, "去哪办")))
    assert "社区事务受理服务中心" in tg.api.sent()[-1]


async def test_add_to_calendar_sends_the_deadline_as_a_file(tg: Harness) -> None:
    await tg.send(message("我在上海，居住证10月20号过期了"))
    await tg.send(button(data_of(tg, "加到日历")))
    [document] = tg.api.called("sendDocument")
    [(name, content)] = document["_files"].values()
    assert name == "qianzhu-20261219.ics"
    calendar = Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == date(2026, 12, 19)
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("trigger") == -timedelta(days=3) + timedelta(hours=9)
    assert "2026年12月19日（周六）" in document["caption"]
    # typed, it is the same action
    await tg.send(message("加到日历"))
    assert len(tg.api.called("sendDocument")) == 2


async def test_no_calendar_is_offered_without_a_deadline(tg: Harness) -> None:
    await tg.send(message("我在杭州，居住证10月20号过期了"))  # no grace, no cancellation point in 杭州
    labels = [label for label, _ in tg.api.buttons()]
    assert "加到日历" not in labels
    assert tg.texts.reminders.offer not in labels
    await tg.send(message("加到日历"))
    assert not tg.api.called("sendDocument")
    assert "没有需要记下的截止日" in tg.api.sent()[-1]


async def test_typed_remind_me_offers_the_bell(tg: Harness) -> None:
    await tg.send(message("我在上海，居住证10月20号过期了"))
    await tg.send(message("提醒我"))
    assert tg.texts.reminders.offer in [label for label, _ in tg.api.buttons()]
