"""Reminders and once-only records in the memory store (a mixin of MemoryStore)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.store.extras import Button, Deadline, Reminder, id_of

ONCE_SWEEP_EVERY = timedelta(seconds=60)


class MemoryExtras:
    _clock: Clock

    def _init_extras(self) -> None:
        self._reminders: dict[int, tuple[Reminder, str]] = {}  # id -> (reminder, state)
        self._ids = itertools.count(1)
        self._once: dict[str, tuple[str | None, datetime]] = {}  # key -> (result, expires)
        self._once_swept = self._clock.now()

    def _drop_key(self, key: str) -> None:
        for rid in [rid for rid, (r, _) in self._reminders.items() if r.key == key]:
            del self._reminders[rid]

    async def add_reminders(
        self,
        key: str,
        channel: str,
        address: str,
        items: Sequence[tuple[datetime, str]],
        deadline: Deadline | None = None,
        buttons: Sequence[Button] = (),
    ) -> list[Reminder]:
        group = id_of(deadline)
        await self.cancel_reminders(key, group)
        for due_at, text in items:
            rid = next(self._ids)
            reminder = Reminder(rid, key, channel, address, due_at, text, deadline, tuple(buttons))
            self._reminders[rid] = (reminder, "pending")
        return [r for r in await self.reminders_for(key) if r.deadline_id == group]

    async def reminders_for(self, key: str) -> list[Reminder]:
        found = [r for r, state in self._reminders.values() if r.key == key and state == "pending"]
        return sorted(found, key=lambda r: r.due_at)

    async def cancel_reminders(self, key: str, deadline_id: str | None = None) -> int:
        pending = [
            rid
            for rid, (r, state) in self._reminders.items()
            if r.key == key and state == "pending" and deadline_id in (None, r.deadline_id)
        ]
        for rid in pending:
            del self._reminders[rid]
        return len(pending)

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[Reminder]:
        due = [r for r, state in self._reminders.values() if state == "pending" and r.due_at <= now]
        return sorted(due, key=lambda r: r.due_at)[:limit]

    async def claim_reminder(self, reminder_id: int) -> bool:
        entry = self._reminders.get(reminder_id)
        if entry is None or entry[1] != "pending":
            return False
        self._reminders[reminder_id] = (entry[0], "claimed")
        return True

    async def finish_reminder(self, reminder_id: int) -> None:
        self._reminders.pop(reminder_id, None)

    async def claim_once(self, key: str, ttl: timedelta) -> bool:
        now = self._clock.now()
        self._sweep_once(now)
        entry = self._once.get(key)
        if entry is not None and entry[1] > now:
            return False
        self._once[key] = (None, now + ttl)
        return True

    async def finish_once(self, key: str, result: str, ttl: timedelta) -> None:
        if key in self._once:
            self._once[key] = (result, self._clock.now() + ttl)

    async def once_result(self, key: str) -> str | None:
        entry = self._once.get(key)
        if entry is None or entry[1] <= self._clock.now():
            return None
        return entry[0]

    async def remember_first(self, key: str, value: str, ttl: timedelta) -> str:
        now = self._clock.now()
        self._sweep_once(now)
        entry = self._once.get(key)
        if entry is not None and entry[1] > now and entry[0] is not None:
            return entry[0]
        self._once[key] = (value, now + ttl)
        return value

    def _sweep_once(self, now: datetime) -> None:
        """Drops expired once-only records about once a minute: one arrives with every message, and they live
        only as long as retries come (SqliteStore purges them in the background)."""
        if now - self._once_swept < ONCE_SWEEP_EVERY:
            return
        self._once_swept = now
        for key in [key for key, (_, expires) in self._once.items() if expires <= now]:
            del self._once[key]
