"""Reminders stay private: in a group the offer is a link to a private chat, which sets them there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.engine import Engine
from tests.fake_telegram import BOT, GROUP, USER, message
from tests.telegram_harness import Harness, running_bot

LINK = f"https://t.me/{BOT['username']}?start=r20261219_within_grace"


@pytest.fixture
async def tg(engine: Engine) -> AsyncIterator[Harness]:
    async with running_bot(engine, engine.store) as harness:  # type: ignore[arg-type]
        yield harness


def start(parameter: str) -> dict[str, Any]:
    return message(f"/start {parameter}")


async def reminders(tg: Harness, user_key: str) -> list[Any]:
    return await tg.runtime.store.reminders_for(tg.runtime.engine.key("telegram", user_key))


async def test_a_verdict_in_a_group_offers_a_private_link_not_a_reminder(tg: Harness) -> None:
    await tg.send(message("@qianzhu_test_bot 上海，我的居住证10月20号过期了", chat=GROUP))
    assert "上海｜" in tg.api.sent()[-1]
    markup = tg.api.called("sendMessage")[-1]["reply_markup"]
    buttons = [b for row in markup["inline_keyboard"] for b in row]
    assert {"text": tg.texts.reminders.offer_private, "url": LINK} in buttons
    assert not any(str(b.get("callback_data", "")).startswith("r:") for b in buttons)


async def test_the_link_sets_the_reminders_in_the_private_chat(tg: Harness) -> None:
    await tg.send(start("r20261219_within_grace"))
    assert "2026年12月12日（周六）、2026年12月18日（周五）" in tg.api.sent()[-1]
    stored = await reminders(tg, str(USER["id"]))
    assert [r.address for r in stored] == [str(USER["id"])] * 2  # sent to the private chat, nowhere else


@pytest.mark.parametrize("parameter", ["r20261319_within_grace", "r20261219_nonsense", "hello", "r_"])
async def test_any_other_start_parameter_is_a_plain_start(tg: Harness, parameter: str) -> None:
    await tg.send(start(parameter))
    assert tg.api.sent()[-1].startswith("您好，我是签注助手")
    assert await reminders(tg, str(USER["id"])) == []


async def test_remind_in_a_group_points_to_the_private_chat(tg: Harness) -> None:
    await tg.send(message("/remind", chat=GROUP))
    assert tg.api.sent()[-1] == tg.texts.reminders.group_only_private


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        ("上海，居住证2026年11月27号到期", False),  # the last reminder, 09:00 today, has passed: nothing to set
        ("上海，居住证2026年12月20号到期", True),
    ],
)
async def test_the_bell_is_offered_only_when_a_reminder_is_still_ahead(tg: Harness, text: str, offered: bool) -> None:
    await tg.send(message(text))
    assert "上海｜" in tg.api.sent()[-1]
    labels = [label for label, _ in tg.api.buttons()]
    assert (tg.texts.reminders.offer in labels) is offered
