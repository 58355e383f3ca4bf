"""Deadline reminders: which to store when the user asks for them, and the loop that sends the due ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot.channels.telegram.delivery import Retrying, send
from bot.channels.telegram.texts import ReminderTexts
from bot.channels.telegram.translate import CHANNEL, Outgoing, escape
from bot.core.clock import SHANGHAI, Clock, calendar_now
from bot.core.render import fmt_date
from bot.metrics import Metrics
from bot.store.extras import Reminder, ReminderStore

log = logging.getLogger(__name__)
SEND_AT = time(9, 0)  # Asia/Shanghai
BEFORE = (7, 1)  # days before the deadline
INTERVAL = 5.0  # seconds between two looks at the store
STALE_AFTER = timedelta(hours=12)  # a reminder this late ("7 days left" two days later) is dropped, not sent
Wait = Callable[[asyncio.Event, float], Awaitable[None]]


def reminder_items(deadline: date, case_title: str, now: datetime, texts: ReminderTexts) -> list[tuple[datetime, str]]:
    """(due time, HTML text) for 7 days and 1 day before the deadline, at 09:00 Beijing time; past ones are
    left out."""
    values = {"deadline": escape(fmt_date(deadline)), "case": escape(case_title)}
    templates = {7: texts.week_before, 1: texts.day_before}
    return [(due, templates[days].format(**values)) for days, due in due_times(deadline, now)]


def due_times(deadline: date, now: datetime) -> list[tuple[int, datetime]]:
    """(days before, due time) of the reminders for `deadline` still ahead of `now`."""
    dues = ((days, datetime.combine(deadline - timedelta(days=days), SEND_AT, tzinfo=SHANGHAI)) for days in BEFORE)
    return [(days, due) for days, due in dues if due > now]


def day_of(reminder: Reminder) -> str:
    return fmt_date(reminder.due_at.astimezone(SHANGHAI).date())


def when(reminder: Reminder) -> str:
    local = reminder.due_at.astimezone(SHANGHAI)
    return f"{fmt_date(local.date())} {local:%H:%M}"


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


@dataclass
class ReminderLoop:
    """Sends due reminders at most once each: claim, send, finish. A crash between claim and finish leaves the
    reminder claimed, and a claimed reminder is never sent again."""

    bot: Bot
    store: ReminderStore
    clock: Clock
    metrics: Metrics
    retrying: Retrying
    interval: float = INTERVAL
    wait: Wait = wait_or_stop

    async def run(self, stop: asyncio.Event) -> None:
        """Ticks until `stop` is set; a failing tick is logged and the loop goes on."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("the reminder loop failed; trying again")
                self.metrics.errors.inc(CHANNEL, "reminder_loop")
            await self.wait(stop, self.interval)

    async def tick(self) -> int:
        """Sends every reminder due now; returns how many were sent."""
        sent, now = 0, calendar_now(self.clock)
        for reminder in await self.store.due_reminders(now):
            if reminder.channel != CHANNEL or not await self.store.claim_reminder(reminder.id):
                continue
            if now - reminder.due_at > STALE_AFTER:
                await self.store.finish_reminder(reminder.id)
                self.metrics.errors.inc(CHANNEL, "reminder_stale")
                log.warning("reminder %d was due %s ago; dropped as out of date", reminder.id, now - reminder.due_at)
            elif await self._deliver(reminder):
                sent += 1
        return sent

    async def _deliver(self, reminder: Reminder) -> bool:
        try:
            await send(self.bot, self.retrying, int(reminder.address), Outgoing(reminder.text))
        except Forbidden:  # the user blocked the bot or left the chat: drop all of their reminders
            await self.store.cancel_reminders(reminder.key)
            await self.store.finish_reminder(reminder.id)
            self.metrics.errors.inc(CHANNEL, "blocked")
            log.info("reminder %d: the chat is closed to the bot; its reminders were dropped", reminder.id)
            return False
        except TelegramError as exc:  # it may or may not have arrived: it stays claimed, never sent twice
            self.metrics.errors.inc(CHANNEL, "reminder_failed")
            log.error("reminder %d could not be sent (%s); it will not be retried", reminder.id, type(exc).__name__)
            return False
        await self.store.finish_reminder(reminder.id)
        return True
