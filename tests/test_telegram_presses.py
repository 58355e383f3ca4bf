"""A pressed button shows in the chat and stops acting; buttons of older answers say they have expired."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.engine import Engine
from tests.fake_telegram import GROUP, KEYBOARDS, OTHER, USER, button, message
from tests.telegram_harness import Harness, running_bot


@pytest.fixture
async def tg(engine: Engine) -> AsyncIterator[Harness]:
    async with running_bot(engine, engine.store) as harness:  # type: ignore[arg-type]
        yield harness


def newest_keyboard() -> int:
    """The id of the newest message the bot sent the user with buttons."""
    return int(KEYBOARDS[int(USER["id"])]["message_id"])


async def city_question(tg: Harness) -> int:
    """Asks for the city with buttons; the id of that message."""
    await tg.send(message("我的居住证10月20号过期了"))
    assert ("上海", "c:上海") in tg.api.buttons()
    return newest_keyboard()


async def test_a_press_is_shown_under_its_message_and_the_buttons_go(tg: Harness) -> None:
    asked = await city_question(tg)
    await tg.send(button("c:上海"))
    [edit] = tg.api.called("editMessageText")
    assert int(edit["message_id"]) == asked
    assert edit["text"].startswith("您现在在哪个城市")  # the question stays as it was
    assert edit["text"].endswith(tg.texts.chosen.format(choice="上海"))
    assert not edit.get("reply_markup")  # no buttons left to press
    assert "上海｜" in tg.api.sent()[-1]  # and the conversation goes on


async def test_the_same_button_twice_moves_the_conversation_once(tg: Harness) -> None:
    await city_question(tg)
    press = button("c:上海")
    await tg.send(press)
    sent = len(tg.api.sent())
    await tg.send(press)  # a second tap before the client caught up
    assert len(tg.api.sent()) == sent
    assert tg.api.called("answerCallbackQuery")[-1]["text"] == tg.texts.button_expired


async def test_buttons_of_an_older_answer_expire_and_are_taken_off(tg: Harness) -> None:
    asked = await city_question(tg)
    await tg.send(message("在北京"))  # typed instead of pressed
    assert "北京｜" in tg.api.sent()[-1]
    newest = newest_keyboard()
    assert newest != asked
    taken_off = [int(p["message_id"]) for p in tg.api.called("editMessageReplyMarkup")]
    assert asked in taken_off  # the city buttons went when the verdict brought its own

    sent = len(tg.api.sent())
    await tg.send(button("c:上海", message_id=asked))  # a client that still shows them
    assert len(tg.api.sent()) == sent  # the verdict for 北京 stands
    assert tg.api.called("answerCallbackQuery")[-1]["text"] == tg.texts.button_expired


async def test_help_pages_keep_their_buttons(tg: Harness) -> None:
    await tg.send(button("p:1", message_id=77))  # a /help message from before the categories
    assert tg.api.called("editMessageReplyMarkup")  # the page turned, in place
    assert not tg.api.called("editMessageText")


async def test_in_a_group_buttons_belong_to_the_member_they_were_shown_to(tg: Harness) -> None:
    await tg.send(message("@qianzhu_test_bot 我的居住证10月20号过期了", chat=GROUP))
    assert ("上海", "c:上海") in tg.api.buttons()
    sent = len(tg.api.sent())
    await tg.send(button("c:上海", user=OTHER, chat=GROUP))  # another member taps them
    assert len(tg.api.sent()) == sent
    assert tg.api.called("answerCallbackQuery")[-1]["text"] == tg.texts.button_not_yours
    assert not tg.api.called("editMessageText")  # the buttons stay for their owner
    await tg.send(button("c:上海", chat=GROUP))
    assert "上海｜" in tg.api.sent()[-1]


async def test_a_question_in_a_group_opens_a_reply_for_the_member_who_was_asked(tg: Harness) -> None:
    await tg.send(message("@qianzhu_test_bot 我在上海", chat=GROUP))
    asked = tg.api.called("sendMessage")[-1]
    assert "哪天到期" in asked["text"]
    assert asked["reply_markup"] == {"force_reply": True, "selective": True}
    assert asked["reply_parameters"]["message_id"]  # it answers the member's message, so selective finds them
    await tg.send(message("10月20号过期了", chat=GROUP, reply_to_bot=True))  # what their app then sends
    assert "上海｜" in tg.api.sent()[-1]


async def test_a_private_question_needs_no_forced_reply(tg: Harness) -> None:
    await tg.send(message("我在上海"))
    assert not tg.api.called("sendMessage")[-1].get("reply_markup")
