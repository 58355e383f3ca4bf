"""What the reminder buttons and commands do: set one deadline's reminders, stop one, stop them all."""

from __future__ import annotations

from datetime import date

from telegram import Bot, Chat, User

from bot.channels.telegram.buttons import RemindOn, RemindStop
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.reminders import day_of, reminder_buttons, reminder_items
from bot.channels.telegram.translate import CHANNEL, Outgoing, escape, user_id
from bot.core.clock import calendar_now
from bot.core.render import fmt_date
from bot.store.extras import Deadline


class ReminderActions:
    """Each action answers in the chat; none holds state."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel

    async def _say(self, bot: Bot, chat: Chat, user: User, html: str) -> None:
        await self.channel.deliver(bot, chat, user, [Outgoing(html)])

    async def schedule(self, bot: Bot, chat: Chat, user: User, action: RemindOn) -> None:
        """Sets one deadline's reminders, leaving the user's other deadlines' alone. Whose deadline it is and
        when its window opens come from the conversation, as long as it still gives this deadline."""
        channel, texts = self.channel, self.channel.texts.reminders
        label, window_start = await self._about(chat, user, action)
        items = []
        if action.deadline > channel.clock.today():
            title = channel.catalog.cases[action.case].title
            now = calendar_now(channel.clock)
            items = reminder_items(action.deadline, title, now, texts, label, window_start)
        if not items:
            await self._say(bot, chat, user, texts.too_late)
            return
        deadline = Deadline(action.deadline, action.case, label)
        details = [channel.catalog.prompts.details[name][0] for name in ("materials", "office")]
        buttons = reminder_buttons(channel.codec, details, texts.done_button, deadline)
        key = channel.key(chat, user)
        stored = await channel.store.add_reminders(key, CHANNEL, str(chat.id), items, deadline, buttons)
        dates = "、".join(escape(day_of(r)) for r in stored)
        values = {"label": escape(label or texts.default_label), "deadline": escape(fmt_date(action.deadline))}
        await self._say(bot, chat, user, texts.scheduled.format(dates=dates, **values))

    async def _about(self, chat: Chat, user: User, action: RemindOn) -> tuple[str, date | None]:
        """(label, the day the window opens) of the user's current verdict when it is this deadline's; ("",
        None) when the conversation has moved on or is elsewhere (a link from a group opens a new chat)."""
        engine = self.channel.engine
        session = await engine.stored(CHANNEL, user_id(chat, user))
        if session is None or session.expiry is None:
            return "", None
        verdict, _ = engine.dialog.verdict_for(session, self.channel.clock.today())
        if verdict is None or (verdict.deadline, verdict.case) != (action.deadline, action.case):
            return "", None
        window = verdict.window_start if verdict.case == "not_expired" else None
        return engine.dialog.label_of(session), window

    async def stop(self, bot: Bot, chat: Chat, user: User, action: RemindStop) -> None:
        """One deadline's reminders stop: cancelled from /remind, or 我办好了 under a reminder (which then
        shows the press and loses its buttons)."""
        channel, texts = self.channel, self.channel.texts.reminders
        key = channel.key(chat, user)
        gone = [r for r in await channel.store.reminders_for(key) if r.deadline_id == action.deadline_id]
        if not await channel.store.cancel_reminders(key, action.deadline_id) and not action.done:
            await self._say(bot, chat, user, texts.already_stopped)
            return
        deadline = gone[0].deadline if gone else None
        if deadline is None:  # kept from before deadlines (or already gone): nothing to name
            await self._say(bot, chat, user, texts.cancelled_earlier)
            return
        values = {"label": escape(deadline.label or texts.default_label), "deadline": escape(fmt_date(deadline.day))}
        await self._say(bot, chat, user, (texts.done if action.done else texts.cancelled_one).format(**values))

    async def cancel_all(self, bot: Bot, chat: Chat, user: User) -> None:
        cancelled = await self.channel.store.cancel_reminders(self.channel.key(chat, user))
        texts = self.channel.texts.reminders
        await self._say(bot, chat, user, texts.cancelled if cancelled else texts.nothing_to_cancel)
