"""Telegram to engine and back: who is talking, what they said, and replies as HTML pieces under 4096."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Chat, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, User
from telegram import Message as TgMessage

from bot.channels.telegram.buttons import ButtonCodec
from bot.core.messages import Message, Reply

CHANNEL = "telegram"
LIMIT = 4096  # Telegram's limit for one message, in UTF-16 code units after entity parsing
GROUPS = (Chat.GROUP, Chat.SUPERGROUP)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One sendMessage: HTML text and an optional inline keyboard (or, for a question in a group, a ForceReply)."""

    html: str
    markup: InlineKeyboardMarkup | ForceReply | None = None


def user_id(chat: Chat, user: User) -> str:
    """The engine's user id: the Telegram user in a private chat, the user within the chat in a group."""
    return f"{chat.id}:{user.id}" if chat.type in GROUPS else str(user.id)


def to_message(chat: Chat, user: User, text: str) -> Message:
    return Message(channel=CHANNEL, user_id=user_id(chat, user), text=text)


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at a blank line, a line end, a sentence end or a space
    in the second half of a piece when there is one, otherwise anywhere (never inside a character)."""
    pieces: list[str] = []
    rest = text
    while sum(_units(c) for c in rest) > limit:
        end, used = 0, 0
        while used + _units(rest[end]) <= limit:
            used += _units(rest[end])
            end += 1
        head = rest[:end]
        cut = end
        for separator in ("\n\n", "\n", "。", " "):
            at = head.rfind(separator)
            if at >= end // 2:
                cut = at + len(separator)
                break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]


def render(replies: Sequence[Reply], codec: ButtonCodec, extra: Sequence[InlineKeyboardButton] = ()) -> list[Outgoing]:
    """Each reply as escaped HTML pieces; its choices as a keyboard under its last piece, and `extra` buttons
    (🔔, 加到日历: one row) under the very last piece."""
    out: list[Outgoing] = []
    for reply in replies:
        pieces = split_text(reply.text)
        for piece in pieces[:-1]:
            out.append(Outgoing(escape(piece)))
        rows = codec.choice_rows(reply.choices)
        out.append(Outgoing(escape(pieces[-1]) if pieces else "…", InlineKeyboardMarkup(rows) if rows else None))
    if extra and out:
        last = out[-1]
        kept = (
            [list(row) for row in last.markup.inline_keyboard] if isinstance(last.markup, InlineKeyboardMarkup) else []
        )
        rows = [*kept, list(extra)]
        out[-1] = Outgoing(last.html, InlineKeyboardMarkup(rows))
    return out


def addressed_text(message: TgMessage, bot: User) -> str | None:
    """The text meant for the bot (a message's text, or a photo's caption), without the mention of it; None when
    a group message is not for the bot.

    In a group the bot answers only mentions of it and replies to its own messages (commands have their own
    handlers); in a private chat every text is for it.
    """
    captioned = message.text is None  # a photo's caption is read like a text
    text = (message.caption if captioned else message.text) or ""
    if message.chat.type not in GROUPS:
        return text
    mentioned = False
    kinds: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    found = message.parse_caption_entities(kinds) if captioned else message.parse_entities(kinds)
    for entity, value in found.items():
        if (entity.type == MessageEntity.MENTION and value.lower() == f"@{(bot.username or '').lower()}") or (
            entity.user is not None and entity.user.id == bot.id
        ):
            mentioned = True
            if entity.type == MessageEntity.MENTION:
                text = text.replace(value, " ")
    replied = message.reply_to_message
    if mentioned or (replied is not None and replied.from_user is not None and replied.from_user.id == bot.id):
        return " ".join(text.split())
    return None


def is_for_bot(message: TgMessage, bot: User) -> bool:
    """Whether a non-text message should be answered: always in a private chat, in a group only as a reply."""
    if message.chat.type not in GROUPS:
        return True
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot.id
