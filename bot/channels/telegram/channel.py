"""What the Telegram handlers share, and the one path from a user's text to the engine and back."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from telegram import Bot, Chat, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from telegram.error import Forbidden, TelegramError

from bot.calendar_file import file_name, has_calendar, verdict_calendar
from bot.calendar_texts import CalendarTexts
from bot.calendar_texts import load_texts as load_calendar_texts
from bot.catalog.catalog import Catalog
from bot.channels.telegram.buttons import ButtonCodec
from bot.channels.telegram.delivery import Retrying, send, send_file
from bot.channels.telegram.reminders import due_times
from bot.channels.telegram.texts import TelegramTexts
from bot.channels.telegram.translate import CHANNEL, GROUPS, Outgoing, escape, render, to_message, user_id
from bot.core.clock import Clock, calendar_now
from bot.core.dialog import Turn
from bot.core.engine import Engine
from bot.core.messages import Reply
from bot.core.render import fmt_date
from bot.core.verdicts import Verdict
from bot.metrics import Metrics
from bot.runtime import Runtime
from bot.store.extras import Stores

log = logging.getLogger(__name__)
KEYBOARD_SUFFIX = ":keyboard"  # beside the session: the id of the message whose buttons act
NONE_LIVE = 0  # recorded after a press: no keyboard acts until the next answer brings one


@dataclass(frozen=True)
class TelegramChannel:
    """The engine and everything else a handler needs; no per-user state is kept here."""

    engine: Engine
    store: Stores
    clock: Clock
    metrics: Metrics
    texts: TelegramTexts
    codec: ButtonCodec
    calendar: CalendarTexts
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
            load_calendar_texts(runtime.settings.content_dir),
            retrying or Retrying(),
        )

    @property
    def catalog(self) -> Catalog:
        return self.engine.catalog

    def key(self, chat: Chat, user: User) -> str:
        return self.engine.key(CHANNEL, user_id(chat, user))

    async def converse(self, bot: Bot, chat: Chat, user: User, text: str, reply_to: int | None = None) -> Turn:
        """Runs one engine turn and sends its replies. After a verdict with a deadline ahead it offers 🔔 (the
        reminders) and 加到日历 (the calendar file); 加到日历 itself is answered with the file."""
        turn = await self.engine.handle_turn(to_message(chat, user, text))
        replies, verdict = turn.replies, turn.verdict
        extra: list[InlineKeyboardButton] = []
        remindable = verdict is not None and verdict.deadline is not None and self._remindable(verdict.deadline)
        if verdict is not None and remindable:
            extra.append(self._remind_button(bot, chat, verdict))
            if turn.intent == "action.remind":  # typed 提醒我: the button that sets them, not a text about it
                replies = [Reply(self.catalog.prompt("remind_offer"))]
        calendar = verdict is not None and has_calendar(verdict)
        if calendar and turn.intent != "action.calendar":
            extra.append(
                InlineKeyboardButton(self._calendar_label, callback_data=self.codec.choice_data(self._calendar_label))
            )
        pieces = render(replies, self.codec, extra)
        if chat.type in GROUPS and turn.session.pending is not None and pieces and pieces[-1].markup is None:
            # A question in a group: the member's app opens a reply to it, so a plain answer reaches the bot
            # (which hears only mentions and replies there); `selective`: only the member who was asked.
            pieces[-1] = Outgoing(pieces[-1].html, ForceReply(selective=True))
        data = self._calendar(turn) if calendar and turn.intent == "action.calendar" else None  # built when asked
        if data is not None and verdict is not None:
            pieces = pieces[-1:]  # the file, with the answer's buttons, instead of the text about it
            sent = await self._send_calendar(bot, chat, user, data, verdict, pieces[0], reply_to)
        else:
            sent = await self.deliver(bot, chat, user, pieces, reply_to)
        keyboards = [
            message.message_id
            for piece, message in zip(pieces, sent, strict=False)
            if isinstance(piece.markup, InlineKeyboardMarkup)
        ]
        if keyboards:
            await self._replace_keyboard(bot, chat, user, keyboards[-1])
        return turn

    def _remind_button(self, bot: Bot, chat: Chat, verdict: Verdict) -> InlineKeyboardButton:
        texts = self.texts.reminders
        assert verdict.deadline is not None
        if chat.type in GROUPS:  # a reminder in the group would tell everyone this member's deadline
            return self.codec.private_remind_button(texts.offer_private, bot.username, verdict.deadline, verdict.case)
        return self.codec.remind_button(texts.offer, verdict.deadline, verdict.case)

    @property
    def _calendar_label(self) -> str:
        return self.catalog.prompts.details["calendar"][0]

    def _calendar(self, turn: Turn) -> bytes | None:
        """The calendar file of the turn's verdict; None when the case has no deadline to put in a calendar."""
        session, verdict = turn.session, turn.verdict
        if verdict is None or session.city is None:
            return None
        verdicts = self.engine.dialog.verdicts
        city, label = verdicts.rule_city(session), verdicts.label(session)
        return verdict_calendar(self.catalog, self.calendar, verdict, city, label, calendar_now(self.clock))

    async def _send_calendar(
        self, bot: Bot, chat: Chat, user: User, data: bytes, verdict: Verdict, last: Outgoing, reply_to: int | None
    ) -> list[Message]:
        """The calendar file as a document, its caption naming the deadline, with the answer's buttons."""
        assert verdict.deadline is not None
        caption = self.calendar.document.caption.format(deadline=fmt_date(verdict.deadline))
        markup = last.markup if isinstance(last.markup, InlineKeyboardMarkup) else None
        target = reply_to if chat.type in GROUPS else None
        try:
            piece = Outgoing(escape(caption), markup)
            return [await send_file(bot, self.retrying, chat.id, data, file_name(verdict), piece, target)]
        except Forbidden:
            await self.store.cancel_reminders(self.key(chat, user))
            self.metrics.errors.inc(CHANNEL, "blocked")
            return []

    def _remindable(self, deadline: date) -> bool:
        """Whether a reminder is still ahead (the day before, at 09:00): 🔔 is never offered to be refused."""
        return bool(due_times(deadline, calendar_now(self.clock)))

    async def deliver(
        self, bot: Bot, chat: Chat, user: User, pieces: Sequence[Outgoing], reply_to: int | None = None
    ) -> list[Message]:
        """Sends the pieces in order and returns what went out; in a group the first one answers `reply_to`. A
        user who blocked the bot loses their reminders."""
        target = reply_to if chat.type in GROUPS else None
        sent: list[Message] = []
        try:
            for piece in pieces:
                sent.append(await send(bot, self.retrying, chat.id, piece, target))
                target = None
        except Forbidden:
            await self.store.cancel_reminders(self.key(chat, user))
            self.metrics.errors.inc(CHANNEL, "blocked")
            log.info("a chat is closed to the bot; its reminders were dropped")
        return sent

    # -- the one keyboard that is live -------------------------------------------------------------------------
    # The buttons of the newest answer are the only ones that act: an older keyboard is taken off its message
    # when a newer one arrives, and a press that still reaches us from one (a client that had not caught up,
    # another member of a group) gets a short notice instead of moving the conversation.

    def _keyboard_key(self, chat: Chat, user: User) -> str:
        return self.key(chat, user) + KEYBOARD_SUFFIX

    async def live_keyboard(self, chat: Chat, user: User) -> int | None:
        """The id of the message whose buttons act; NONE_LIVE after a press; None if nothing was recorded (a
        keyboard sent before this was kept: it acts)."""
        document = await self.store.load(self._keyboard_key(chat, user))
        return int(document) if document is not None and document.lstrip("-").isdigit() else None

    async def keyboard_used(self, chat: Chat, user: User) -> None:
        await self.store.save(self._keyboard_key(chat, user), str(NONE_LIVE))

    async def _replace_keyboard(self, bot: Bot, chat: Chat, user: User, message_id: int) -> None:
        previous = await self.live_keyboard(chat, user)
        await self.store.save(self._keyboard_key(chat, user), str(message_id))
        if previous is not None and previous not in (NONE_LIVE, message_id):
            await self.drop_keyboard(bot, chat.id, previous)

    async def drop_keyboard(self, bot: Bot, chat_id: int, message_id: int) -> None:
        """Takes the buttons off a message; a message already without them, or too old, is left as it is."""
        try:
            await self.retrying.call(
                lambda: bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
            )
        except TelegramError as exc:
            log.debug("old buttons were not taken off: %s", type(exc).__name__)
