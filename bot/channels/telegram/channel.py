"""What the Telegram handlers share, and the one path from a user's text to the engine and back."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram import Bot, Chat, InlineKeyboardButton, User
from telegram.error import Forbidden

from bot.catalog.catalog import Catalog
from bot.channels.telegram.buttons import ButtonCodec
from bot.channels.telegram.delivery import Retrying, send
from bot.channels.telegram.texts import TelegramTexts
from bot.channels.telegram.translate import CHANNEL, GROUPS, Outgoing, render, to_message, user_id
from bot.cli.runtime import Runtime
from bot.core.clock import Clock
from bot.core.engine import Engine
from bot.metrics import Metrics
from bot.store.extras import Stores

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TelegramChannel:
    """The engine and everything else a handler needs; no per-user state is kept here."""

    engine: Engine
    store: Stores
    clock: Clock
    metrics: Metrics
    texts: TelegramTexts
    codec: ButtonCodec
    retrying: Retrying = field(default_factory=Retrying)

    @classmethod
    def create(cls, runtime: Runtime, texts: TelegramTexts, retrying: Retrying | None = None) -> TelegramChannel:
        return cls(
            runtime.engine,
            runtime.store,
            runtime.clock,
            runtime.metrics,
            texts,
            ButtonCodec(runtime.catalog),
            retrying or Retrying(),
        )

    @property
    def catalog(self) -> Catalog:
        return self.engine.catalog

    def key(self, chat: Chat, user: User) -> str:
        return self.engine.key(CHANNEL, user_id(chat, user))

    async def converse(self, bot: Bot, chat: Chat, user: User, text: str, reply_to: int | None = None) -> None:
        """Runs one engine turn and sends its replies, offering reminders after a verdict with a deadline ahead."""
        turn = await self.engine.handle_turn(to_message(chat, user, text))
        extra: list[InlineKeyboardButton] = []
        verdict = turn.verdict
        if verdict is not None and verdict.deadline is not None and verdict.deadline > self.clock.today():
            extra.append(self.codec.remind_button(self.texts.reminders.offer, verdict.deadline, verdict.case))
        await self.deliver(bot, chat, user, render(turn.replies, self.codec, extra), reply_to)

    async def deliver(
        self, bot: Bot, chat: Chat, user: User, pieces: Sequence[Outgoing], reply_to: int | None = None
    ) -> None:
        """Sends the pieces in order; in a group the first one answers `reply_to`. A user who blocked the bot
        loses their reminders."""
        target = reply_to if chat.type in GROUPS else None
        try:
            for piece in pieces:
                await send(bot, self.retrying, chat.id, piece, target)
                target = None
        except Forbidden:
            await self.store.cancel_reminders(self.key(chat, user))
            self.metrics.errors.inc(CHANNEL, "blocked")
            log.info("a chat is closed to the bot; its reminders were dropped")
