"""Edited texts are answered as they now read; a photo's caption is read as text (in groups only when meant for
the bot)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.engine import Engine
from tests.fake_telegram import BOT, GROUP, USER, message
from tests.telegram_harness import Harness, running_bot

PICTURE = [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]


@pytest.fixture
async def tg(engine: Engine) -> AsyncIterator[Harness]:
    async with running_bot(engine, engine.store) as harness:  # type: ignore[arg-type]
        yield harness


def edited(original: dict[str, Any], text: str) -> dict[str, Any]:
    body = {**original["message"], "text": text, "edit_date": original["message"]["date"] + 60}
    return {"edited_message": body}


def captioned(caption: str, chat: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return message(None, USER, chat, photo=PICTURE, caption=caption, **extra)


async def test_an_edited_message_is_answered_as_it_now_reads(tg: Harness) -> None:
    first = message("我的居住证10月20号过期了")
    await tg.send(first)
    await tg.send(message("上海"))
    assert "2026年12月19日" in tg.api.sent()[-1]  # 10月20日 and 60 days of grace
    await tg.send(edited(first, "我的居住证11月20号过期了"))
    assert "2027年1月19日" in tg.api.sent()[-1]
    assert tg.api.called("sendMessage")[-1]["text"] != tg.texts.unsupported


async def test_a_photo_caption_is_read_as_text(tg: Harness) -> None:
    await tg.send(captioned("上海，居住证10月20号过期了"))
    reply = tg.api.sent()[-1]
    assert "上海｜" in reply
    assert reply != tg.texts.unsupported


async def test_a_photo_without_caption_still_gets_the_polite_reply(tg: Harness) -> None:
    await tg.send(message(None, USER, photo=PICTURE))
    assert tg.api.sent()[-1] == tg.texts.unsupported


async def test_in_a_group_a_caption_counts_only_when_it_mentions_the_bot(tg: Harness) -> None:
    await tg.send(captioned("上海，居住证10月20号过期了", GROUP))
    assert tg.api.sent() == []
    caption = f"@{BOT['username']} 上海，居住证10月20号过期了"
    mention = [{"type": "mention", "offset": 0, "length": len(BOT["username"]) + 1}]
    await tg.send(captioned(caption, GROUP, caption_entities=mention))
    assert "上海｜" in tg.api.sent()[-1]
