"""What the channels keep beside sessions: scheduled reminders and once-only records for retried deliveries
(traffic records are in bot.store.traffic)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.store.base import Store
from bot.store.traffic import TrafficStore

NO_DEADLINE = ""  # the group of reminders added without a deadline (and of those kept from before deadlines)
Button = tuple[str, str]  # (label, data the channel reads back when it is pressed)


@dataclass(frozen=True, slots=True)
class Deadline:
    """What a group of reminders is about: one deadline of one person, the user or a family member."""

    day: date
    case: str
    label: str  # as the verdict card names it: 「上海」 or 「老婆｜上海」

    @property
    def id(self) -> str:
        """Stable and short (ASCII, 17 characters), so a button can carry it: the day and a digest of the label."""
        return f"{self.day:%Y%m%d}-{hashlib.sha256(self.label.encode()).hexdigest()[:8]}"


@dataclass(frozen=True, slots=True)
class Reminder:
    """One message to send at `due_at` (aware). `address` says where (a Telegram chat id): never log it.
    `deadline` is None for reminders added without one; `buttons` go under the message when it is sent."""

    id: int
    key: str
    channel: str
    address: str
    due_at: datetime
    text: str
    deadline: Deadline | None = None
    buttons: tuple[Button, ...] = ()

    @property
    def deadline_id(self) -> str:
        return id_of(self.deadline)


def id_of(deadline: Deadline | None) -> str:
    return deadline.id if deadline is not None else NO_DEADLINE


class ReminderStore(Protocol):
    """Reminders live beside the sessions, so they survive restarts.

    Delivery is at most once: a sender claims a reminder (pending -> claimed, atomically) before sending it
    and deletes it afterwards, so a crash right after sending never sends it twice.
    """

    async def add_reminders(
        self,
        key: str,
        channel: str,
        address: str,
        items: Sequence[tuple[datetime, str]],
        deadline: Deadline | None = None,
        buttons: Sequence[Button] = (),
    ) -> list[Reminder]:
        """Replaces the key's pending reminders for this deadline with these, each with the same `buttons`; the
        key's reminders for other deadlines stay. Returns the key's pending reminders for this deadline."""
        ...

    async def reminders_for(self, key: str) -> list[Reminder]:
        """The key's pending reminders for every deadline, earliest first."""
        ...

    async def cancel_reminders(self, key: str, deadline_id: str | None = None) -> int:
        """Cancels the key's pending reminders for one deadline (see Deadline.id, NO_DEADLINE), or for all of
        them when `deadline_id` is None; returns how many."""
        ...

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[Reminder]: ...

    async def claim_reminder(self, reminder_id: int) -> bool: ...

    async def finish_reminder(self, reminder_id: int) -> None: ...


class OnceStore(Protocol):
    """Records that make a retried delivery run once: the first claim wins, later ones read its result."""

    async def claim_once(self, key: str, ttl: timedelta) -> bool:
        """True for the first claim of `key` within `ttl`; False while that claim or its result lives."""
        ...

    async def finish_once(self, key: str, result: str, ttl: timedelta) -> None: ...

    async def once_result(self, key: str) -> str | None:
        """The result of a finished claim, or None while it is still running (or unknown)."""
        ...

    async def remember_first(self, key: str, value: str, ttl: timedelta) -> str:
        """Keeps `value` under `key` for `ttl` unless a live value is there already; returns the value kept.

        The first caller gets its own value back, every later one (in any process) the first one's: a WeChat
        (timestamp, nonce) pair remembered with the digest of its body tells a retry from a forgery.
        """
        ...


class Stores(Store, ReminderStore, OnceStore, TrafficStore, Protocol):
    """Everything a running bot keeps: sessions (Store) plus reminders, once-only records and traffic records."""
