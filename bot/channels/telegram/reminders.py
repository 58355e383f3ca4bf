"""Deadline reminders: which to store when the user asks for them, how /remind lists them, and the loop that
sends the due ones with their buttons."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError

from bot.channels.telegram.buttons import CANCEL_REMINDERS, ButtonCodec
from bot.channels.telegram.delivery import Retrying, send
from bot.channels.telegram.texts import ReminderTexts
from bot.channels.telegram.translate import CHANNEL, Outgoing, escape
from bot.core.clock import SHANGHAI, Clock, calendar_now
from bot.core.render import fmt_date
from bot.metrics import Metrics
from bot.store.extras import Button, Deadline, Reminder, ReminderStore

log = logging.getLogger(__name__)
SEND_AT = time(9, 0)  # Asia/Shanghai
BEFORE = (7, 1)  # days before the deadline
INTERVAL = 5.0  # seconds between two looks at the store
STALE_AFTER = timedelta(hours=12)  # a reminder this late ("7 days left" two days later) is dropped, not sent
Wait = Callable[[asyncio.Event, float], Awaitable[None]]


def reminder_items(
    deadline: date,
    case_title: str,
    now: datetime,
    texts: ReminderTexts,
    label: str = "",
    window_start: date | None = None,
) -> list[tuple[datetime, str]]:
    """(due time, HTML text) for the day the window opens (when given), 7 days and 1 day before the deadline,
    at 09:00 Beijing time; past ones are left out. `label` names whose deadline it is (「老婆｜上海」)."""
    values = {"deadline": escape(fmt_date(deadline)), "case": escape(case_title), "label": escape(label)}
    values["label"] = values["label"] or escape(texts.default_label)
    templates = {7: texts.week_before, 1: texts.day_before}
    return [
        (due, templates.get(days, texts.window_open).format(**values))
        for days, due in due_times(deadline, now, window_start)
    ]


def due_times(deadline: date, now: datetime, window_start: date | None = None) -> list[tuple[int, datetime]]:
    """(days before the deadline, due time) of the reminders for `deadline` still ahead of `now`, earliest
    first. The window's opening, when given, is one more unless it falls on the day of another one; it is
    always before the day-before reminder, so it never makes a deadline remindable that was not."""
    before = set(BEFORE)
    if window_start is not None and window_start < deadline:
        before.add((deadline - window_start).days)
    dues = (
        (days, datetime.combine(deadline - timedelta(days=days), SEND_AT, tzinfo=SHANGHAI))
        for days in sorted(before, reverse=True)
    )
    return [(days, due) for days, due in dues if due > now]


def reminder_buttons(codec: ButtonCodec, details: Sequence[str], done: str, deadline: Deadline) -> list[Button]:
    """Under each reminder: the detail quick replies (材料, 去哪办: fed to the engine like typed text) and
    我办好了, which stops this deadline's reminders."""
    return [*((label, codec.choice_data(label)) for label in details), (done, codec.stop_data(deadline.id, True))]


def short_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def listing(
    pending: Sequence[Reminder], texts: ReminderTexts, titles: Mapping[str, str], codec: ButtonCodec
) -> Outgoing:
    """/remind: each deadline with whose it is, its day and case and the next reminder, and its own cancel
    button; then cancel-all. `pending` is earliest first, so a deadline's first reminder is its next."""
    firsts: dict[str, Reminder] = {}
    for reminder in pending:
        firsts.setdefault(reminder.deadline_id, reminder)
    items, rows = [], []
    for group, first in firsts.items():
        deadline = first.deadline
        if deadline is None:
            items.append(texts.item_earlier.format(next=escape(when(first))))
            cancel = codec.stop_data(group, False)
            rows.append([InlineKeyboardButton(texts.cancel_earlier_button, callback_data=cancel)])
            continue
        label = deadline.label or texts.default_label
        items.append(
            texts.item.format(
                label=escape(label),
                deadline=escape(fmt_date(deadline.day)),
                case=escape(titles.get(deadline.case, "")),
                next=escape(when(first)),
            )
        )
        button = texts.cancel_one_button.format(label=label, deadline=short_day(deadline.day))
        rows.append([InlineKeyboardButton(button, callback_data=codec.stop_data(group, False))])
    rows.append([InlineKeyboardButton(texts.cancel_button, callback_data=CANCEL_REMINDERS)])
    return Outgoing(texts.listing.format(items="\n".join(items)), InlineKeyboardMarkup(rows))


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
            await send(self.bot, self.retrying, int(reminder.address), Outgoing(reminder.text, _markup(reminder)))
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


def _markup(reminder: Reminder) -> InlineKeyboardMarkup | None:
    if not reminder.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in reminder.buttons]])
