"""Digits that Python calls digits but int() refuses (²), or more digits than int() reads (4,300): answered, never
raised (issue 10, item 2)."""

from __future__ import annotations

from bot.catalog.catalog import Catalog
from bot.channels.telegram.buttons import ButtonCodec
from bot.channels.wechat.choices import pick
from bot.cli.chat import pick as terminal_pick
from bot.core.engine import Engine
from bot.core.messages import Message

HUGE = "1" * 5_000


def test_telegram_callback_data_with_odd_digits_is_ignored(catalog: Catalog) -> None:
    codec = ButtonCodec(catalog)
    for data in ("p:²", "p:٣", f"p:{HUGE}", "r:２０２６１２０１:not_expired"):
        assert codec.read(data) is None


def test_wechat_and_terminal_choices_take_only_short_numbers() -> None:
    choices = ("北京", "上海")
    for text in ("²", HUGE, "٣"):
        assert terminal_pick(text, choices) == text
    for text in (HUGE, "٣"):
        assert pick(text, choices) == text
    assert pick("２", choices) == "上海"  # WeChat folds full-width (and superscript) digits first: still a choice


async def test_a_message_of_5000_digits_gets_an_answer(engine: Engine) -> None:
    replies = await engine.handle(Message("test", "digits", HUGE))
    assert replies
    assert "出了点问题" not in replies[0].text
