"""Translation at the Telegram edge: splitting under 4096, HTML escaping, keyboards, who is talking, group rules."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import InlineKeyboardButton, Message, Update, User

from bot.catalog.catalog import Catalog
from bot.channels.telegram.buttons import ButtonCodec
from bot.channels.telegram.translate import LIMIT, addressed_text, escape, is_for_bot, render, split_text, user_id
from bot.core.messages import Reply
from tests.fake_telegram import BOT, GROUP, OTHER, message, sticker

ME = User(BOT["id"], BOT["first_name"], True, username=BOT["username"])


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parsed(update: dict[str, Any]) -> Message:
    found = Update.de_json({"update_id": 1, **update}, None).message
    assert found is not None
    return found


def test_short_text_is_one_piece() -> None:
    assert split_text("你好") == ["你好"]
    assert split_text("字" * LIMIT) == ["字" * LIMIT]


def test_long_text_splits_at_paragraphs_and_keeps_every_character() -> None:
    paragraphs = [f"第{n}段：" + "签注" * 300 for n in range(12)]
    text = "\n\n".join(paragraphs)
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(utf16(piece) <= LIMIT for piece in pieces)
    assert all(piece.startswith("第") for piece in pieces)  # every cut fell on a paragraph boundary
    assert "\n\n".join(pieces) == text


def test_text_without_breaks_is_cut_hard_and_emoji_are_never_halved() -> None:
    text = "😀" * 5000  # each is 2 UTF-16 units, so 2048 fit in one message
    pieces = split_text(text)
    assert [len(piece) for piece in pieces] == [2048, 2048, 904]
    assert "".join(pieces) == text


def test_user_text_is_escaped_for_html(catalog: Catalog) -> None:
    out = render([Reply("「<b>上海</b> & <script>」不在我的城市列表里")], ButtonCodec(catalog))
    assert out[0].html == "「&lt;b&gt;上海&lt;/b&gt; &amp; &lt;script&gt;」不在我的城市列表里"
    assert escape("a<b") == "a&lt;b"


def test_escaping_happens_after_splitting_so_no_entity_is_cut(catalog: Catalog) -> None:
    out = render([Reply("&" * (LIMIT + 10))], ButtonCodec(catalog))
    assert [o.html for o in out] == ["&amp;" * LIMIT, "&amp;" * 10]


def test_choices_become_a_keyboard_under_the_last_piece(catalog: Catalog) -> None:
    codec = ButtonCodec(catalog)
    out = render([Reply("请选择" + "。" * LIMIT, ("北京", "上海", "广州", "深圳")), Reply("好")], codec)
    assert len(out) == 3
    assert out[0].markup is None
    assert out[1].markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in out[1].markup.inline_keyboard]
    assert rows == [[("北京", "c:北京"), ("上海", "c:上海"), ("广州", "c:广州")], [("深圳", "c:深圳")]]
    assert out[2].markup is None


def test_long_choices_get_a_row_each_and_extra_buttons_go_last(catalog: Catalog) -> None:
    extra = InlineKeyboardButton("提醒", callback_data="r:20261219:within_grace")
    out = render([Reply("您是不是想问：", ("办签注要带什么材料？", "办签注收费吗"))], ButtonCodec(catalog), [extra])
    assert out[-1].markup is not None
    labels = [[b.text for b in row] for row in out[-1].markup.inline_keyboard]
    assert labels == [["办签注要带什么材料？"], ["办签注收费吗"], ["提醒"]]


def test_sessions_are_per_user_and_per_user_within_a_group() -> None:
    alone = parsed(message("hi"))
    in_group = parsed(message("hi", chat=GROUP))
    assert alone.from_user is not None
    assert in_group.from_user is not None
    assert user_id(alone.chat, alone.from_user) == "42"
    assert user_id(in_group.chat, in_group.from_user) == f"{GROUP['id']}:42"


def test_private_chats_are_always_for_the_bot() -> None:
    assert addressed_text(parsed(message("我在上海")), ME) == "我在上海"
    assert is_for_bot(parsed(sticker()), ME)


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        (message("大家好，我在上海", chat=GROUP), None),
        (message("@qianzhu_test_bot 我在上海", chat=GROUP), "我在上海"),
        (message("我在上海 @QIANZHU_TEST_BOT", chat=GROUP), "我在上海"),
        (message("@other_bot 我在上海", chat=GROUP), None),
        (message("10月20号过期了", chat=GROUP, reply_to_bot=True), "10月20号过期了"),
        (message("10月20号过期了", user=OTHER, chat=GROUP), None),
    ],
)
def test_groups_answer_only_mentions_and_replies_to_the_bot(update: dict[str, Any], expected: str | None) -> None:
    assert addressed_text(parsed(update), ME) == expected


def test_non_text_in_a_group_is_answered_only_as_a_reply_to_the_bot() -> None:
    assert not is_for_bot(parsed(sticker(chat=GROUP)), ME)
    assert is_for_bot(parsed(sticker(chat=GROUP, reply_to_bot=True)), ME)
