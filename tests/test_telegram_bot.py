"""The Telegram channel end to end in process: real ApplicationBuilder and handlers, a fake Bot API underneath."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from bot.core.clock import SHANGHAI
from bot.core.engine import Engine
from tests.fake_telegram import GROUP, OTHER, USER, button, location, message, photo, sticker, voice
from tests.telegram_harness import Harness, running_bot

BLOCKED = (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
FLOOD = (429, {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 7}})
GATEWAY = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
BAD = (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})


@pytest.fixture
async def tg(engine: Engine) -> AsyncIterator[Harness]:
    async with running_bot(engine, engine.store) as harness:  # type: ignore[arg-type]
        yield harness


async def verdict_with_offer(tg: Harness) -> str:
    """Runs the conversation up to the verdict (today is 2026-11-26) and returns the reminder button's data."""
    await tg.send(message("我的居住证10月20号过期了"))
    assert ("上海", "c:上海") in tg.api.buttons()
    await tg.send(button("c:上海"))
    assert "上海｜" in tg.api.sent()[-1]
    buttons = tg.api.buttons()
    [data] = [data for label, data in buttons if label == tg.texts.reminders.offer]
    assert [label for label, _ in buttons][:3] == ["材料", "去哪办", "办理时间"]  # details (上海 has no 网上办)
    return data


async def test_start_up_registers_the_commands(tg: Harness) -> None:
    assert [method for method, _ in tg.api.calls[:2]] == ["getMe", "setMyCommands"]
    [params] = tg.api.called("setMyCommands")
    commands = {c["command"]: c["description"] for c in params["commands"]}
    assert commands == tg.texts.commands.model_dump()


async def test_start_welcomes_in_html(tg: Harness) -> None:
    await tg.send(message("/start"))
    [params] = tg.api.called("sendMessage")
    assert params["parse_mode"] == "HTML"
    assert params["chat_id"] == str(USER["id"])
    assert params["text"].startswith("您好，我是签注助手")


async def test_a_whole_conversation_with_buttons_and_reminders(tg: Harness) -> None:
    data = await verdict_with_offer(tg)
    assert data == "r:20261219:within_grace"
    assert len(tg.api.called("answerCallbackQuery")) == 1
    await tg.send(button(data))
    assert "2026年12月12日（周六）、2026年12月18日（周五）" in tg.api.sent()[-1]
    reminders = await tg.runtime.store.reminders_for(tg.runtime.engine.key("telegram", str(USER["id"])))
    assert [r.due_at for r in reminders] == [
        datetime(2026, 12, 12, 9, tzinfo=SHANGHAI),
        datetime(2026, 12, 18, 9, tzinfo=SHANGHAI),
    ]
    assert all(r.address == str(USER["id"]) for r in reminders)
    assert "截止日期2026年12月19日（周六）" in reminders[0].text
    assert "已过期，但还在宽限期内" in reminders[0].text
    await tg.send(button(data))  # pressing again replaces, never doubles
    assert len(await tg.runtime.store.reminders_for(reminders[0].key)) == 2


async def test_remind_lists_and_cancels(tg: Harness) -> None:
    await tg.send(message("/remind"))
    assert tg.api.sent()[-1] == tg.texts.reminders.none
    await tg.send(button(await verdict_with_offer(tg)))
    await tg.send(message("/remind"))
    assert "2026年12月12日（周六） 09:00" in tg.api.sent()[-1]
    [one, everything] = tg.api.buttons()  # this deadline's cancel, then cancel all
    assert one[1].startswith("xd:")
    await tg.send(button(everything[1]))
    assert tg.api.sent()[-1] == tg.texts.reminders.cancelled
    await tg.send(message("/remind 取消"))
    assert tg.api.sent()[-1] == tg.texts.reminders.nothing_to_cancel


async def test_forget_deletes_the_session_and_the_reminders(tg: Harness) -> None:
    await tg.send(button(await verdict_with_offer(tg)))
    key = tg.runtime.engine.key("telegram", str(USER["id"]))
    assert await tg.runtime.store.load(key) is not None
    await tg.send(message("/forget"))
    assert tg.api.sent()[-1] == tg.texts.forget_done
    assert await tg.runtime.store.load(key) is None
    assert await tg.runtime.store.reminders_for(key) == []


async def test_reset_starts_over(tg: Harness) -> None:
    await tg.send(message("我的居住证10月20号过期了"))
    await tg.send(message("/reset"))
    assert tg.api.sent()[-2].startswith("好的，已经清空")
    await tg.send(message("上海"))
    assert "上海｜" not in tg.api.sent()[-1]  # the date was forgotten, so there is no verdict yet


async def test_help_shows_the_categories_as_buttons_that_work(tg: Harness) -> None:
    await tg.send(message("/help"))
    buttons = tg.api.buttons()
    assert [label for label, _ in buttons] == tg.runtime.catalog.prompts.choices["help"]
    assert all(data.startswith(("c:", "h:")) for _, data in buttons)
    fee = next(e for e in tg.runtime.catalog.faq if e.id == "fee")
    await tg.send(button(next(data for label, data in buttons if "收费" in label)))
    assert tg.api.sent()[-1].startswith(fee.answer.strip()[:10])


async def test_faq_pages_of_an_older_help_message_still_answer_and_turn(tg: Harness) -> None:
    fee = next(e for e in tg.runtime.catalog.faq if e.id == "fee")
    await tg.send(button(f"f:{fee.id}", message_id=77))
    assert tg.api.sent()[-1].startswith(fee.answer.strip()[:10])
    await tg.send(button("p:1", message_id=77))
    [edit] = tg.api.called("editMessageReplyMarkup")
    labels = [b["text"] for row in edit["reply_markup"]["inline_keyboard"] for b in row]
    assert tg.runtime.catalog.faq[8].question in labels


async def test_a_fallback_suggests_questions_as_buttons(tg: Harness) -> None:
    await tg.send(message("今天天气怎么样"))
    buttons = tg.api.buttons()
    assert buttons
    assert all(data.startswith("c:") for _, data in buttons)
    await tg.send(button(buttons[0][1]))
    assert "这个问题我没太看懂" not in tg.api.sent()[-1]


async def test_an_expired_button_gets_a_polite_answer(tg: Harness) -> None:
    await tg.send(button("c-old-format"))
    [answer] = tg.api.called("answerCallbackQuery")
    assert answer["text"] == tg.texts.button_expired
    assert tg.api.called("sendMessage") == []


@pytest.mark.parametrize("update", [sticker(), photo(), voice(), location()])
async def test_non_text_gets_a_polite_text_reply(tg: Harness, update: dict[str, object]) -> None:
    await tg.send(update)
    assert tg.api.sent() == [tg.texts.unsupported]


async def test_groups_answer_only_commands_mentions_and_replies(tg: Harness) -> None:
    await tg.send(message("我的居住证10月20号过期了", chat=GROUP))
    await tg.send(message("/start@other_bot", chat=GROUP))
    await tg.send(sticker(chat=GROUP))
    assert tg.api.called("sendMessage") == []
    await tg.send(message("/start@qianzhu_test_bot", chat=GROUP))
    await tg.send(message("@qianzhu_test_bot 我的居住证10月20号过期了", chat=GROUP))
    await tg.send(message("上海", chat=GROUP, reply_to_bot=True))
    sent = tg.api.called("sendMessage")
    assert len(sent) == 3
    assert all(p["chat_id"] == str(GROUP["id"]) and "reply_parameters" in p for p in sent)
    assert "上海｜" in sent[-1]["text"]


async def test_sessions_are_per_user_within_a_chat(tg: Harness) -> None:
    await tg.send(message("@qianzhu_test_bot 我的居住证10月20号过期了", chat=GROUP))
    await tg.send(message("上海", user=OTHER, chat=GROUP, reply_to_bot=True))
    assert "上海｜" not in tg.api.sent()[-1]  # the other user has no date yet
    await tg.send(message("上海"))  # the same user, privately: a separate conversation too
    assert "上海｜" not in tg.api.sent()[-1]
    await tg.send(message("上海", chat=GROUP, reply_to_bot=True))
    assert "上海｜" in tg.api.sent()[-1]


async def test_flood_control_is_waited_out(tg: Harness) -> None:
    tg.api.fail("sendMessage", FLOOD)
    await tg.send(message("/start"))
    assert tg.sleeps.waits == [7.0]
    assert len(tg.api.sent()) == 2  # refused once, then delivered


async def test_network_errors_are_retried_with_backoff(tg: Harness) -> None:
    tg.api.fail("sendMessage", GATEWAY, GATEWAY)
    await tg.send(message("/start"))
    assert tg.sleeps.waits == [1.0, 2.0]
    assert len(tg.api.sent()) == 3


async def test_a_failing_update_does_not_stop_the_next(tg: Harness) -> None:
    tg.api.fail("sendMessage", BAD)
    await tg.send(message("/start"))
    await tg.send(message("/start"))
    assert len(tg.api.sent()) == 2
    assert tg.sleeps.waits == []  # a bad request is not retried
    assert tg.runtime.metrics.errors.value("telegram", "update") == 1


async def test_a_user_who_blocked_the_bot_loses_their_reminders(tg: Harness) -> None:
    await tg.send(button(await verdict_with_offer(tg)))
    tg.api.fail("sendMessage", BLOCKED)
    await tg.send(message("谢谢"))
    key = tg.runtime.engine.key("telegram", str(USER["id"]))
    assert await tg.runtime.store.reminders_for(key) == []
    assert tg.runtime.metrics.errors.value("telegram", "blocked") == 1


async def test_the_engine_counts_telegram_turns(tg: Harness) -> None:
    await tg.send(message("办签注要交钱吗"))
    assert tg.runtime.metrics.messages.value("telegram", "faq.fee") == 1
