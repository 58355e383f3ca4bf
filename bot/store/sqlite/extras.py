"""Reminders and once-only records in the SQLite store (a mixin of SqliteStore).

Reminders gained their deadline (id, day, case, label) and buttons after files with reminders were on users'
disks: `add_reminder_columns` adds those columns in place, and the rows already there become the group without
a deadline (NO_DEADLINE), still sent and listed. The schema version stays 1: an older program names its columns,
so it still reads and writes the file (its rows get the defaults).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.core.clock import Clock
from bot.core.errors import StoreError
from bot.store.extras import Button, Deadline, Reminder, id_of

Execute = Callable[..., tuple[list[Any], int]]  # SqliteStore._execute: (sql, parameters) -> (rows, changed)

EXTRA_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS reminders (id INTEGER PRIMARY KEY, key TEXT NOT NULL, channel TEXT NOT NULL, "
    "address TEXT NOT NULL, due_at REAL NOT NULL, text TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending')",
    "CREATE INDEX IF NOT EXISTS reminders_due ON reminders (state, due_at)",
    "CREATE INDEX IF NOT EXISTS reminders_key ON reminders (key)",
    "CREATE TABLE IF NOT EXISTS once (key TEXT PRIMARY KEY, result TEXT, expires_at REAL NOT NULL) WITHOUT ROWID",
)
# Added in place (ALTER TABLE) to the reminders table, old or new; the defaults describe a row without a deadline.
REMINDER_COLUMNS = {
    "deadline_id": "TEXT NOT NULL DEFAULT ''",
    "deadline_day": "TEXT",  # ISO date, NULL without a deadline
    "deadline_case": "TEXT NOT NULL DEFAULT ''",
    "deadline_label": "TEXT NOT NULL DEFAULT ''",
    "buttons": "TEXT NOT NULL DEFAULT '[]'",  # JSON: [[label, data], ...]
}
_COLUMNS = "id, key, channel, address, due_at, text, deadline_day, deadline_case, deadline_label, buttons"


def add_reminder_columns(execute: Execute) -> None:
    """Gives a reminders table from before deadlines its new columns. Idempotent, and safe when two processes
    open the same old file at once (the second one's ALTER fails and finds the column)."""
    for name, declaration in REMINDER_COLUMNS.items():
        if name in _reminder_columns(execute):
            continue
        try:
            execute(f"ALTER TABLE reminders ADD COLUMN {name} {declaration}")
        except StoreError:
            if name not in _reminder_columns(execute):
                raise


def _reminder_columns(execute: Execute) -> set[str]:
    return {str(row[1]) for row in execute("PRAGMA table_info(reminders)")[0]}


def _reminder(row: Sequence[Any]) -> Reminder:
    deadline = Deadline(date.fromisoformat(row[6]), row[7], row[8]) if row[6] else None
    buttons = tuple((str(label), str(data)) for label, data in json.loads(row[9] or "[]"))
    return Reminder(int(row[0]), row[1], row[2], row[3], datetime.fromtimestamp(row[4], UTC), row[5], deadline, buttons)


class SqliteExtras:
    _clock: Clock

    async def _run(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        raise NotImplementedError

    async def _change(self, sql: str, parameters: tuple[Any, ...] = (), wait: bool = True) -> int:
        raise NotImplementedError

    async def _statement(self, sql: str, parameters: tuple[Any, ...], wait: bool = True) -> tuple[list[Any], int]:
        raise NotImplementedError

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
        day = deadline.day.isoformat() if deadline is not None else None
        case, label = (deadline.case, deadline.label) if deadline is not None else ("", "")
        encoded = json.dumps([list(button) for button in buttons], ensure_ascii=False)
        for due_at, text in items:
            await self._run(
                "INSERT INTO reminders (key, channel, address, due_at, text, deadline_id, deadline_day, "
                "deadline_case, deadline_label, buttons) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, channel, address, due_at.timestamp(), text, group, day, case, label, encoded),
            )
        return [r for r in await self.reminders_for(key) if r.deadline_id == group]

    async def reminders_for(self, key: str) -> list[Reminder]:
        rows = await self._run(
            f"SELECT {_COLUMNS} FROM reminders WHERE key = ? AND state = 'pending' ORDER BY due_at", (key,)
        )
        return [_reminder(row) for row in rows]

    async def cancel_reminders(self, key: str, deadline_id: str | None = None) -> int:
        if deadline_id is None:
            return await self._change("DELETE FROM reminders WHERE key = ? AND state = 'pending'", (key,))
        return await self._change(
            "DELETE FROM reminders WHERE key = ? AND deadline_id = ? AND state = 'pending'", (key, deadline_id)
        )

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[Reminder]:
        rows = await self._run(
            f"SELECT {_COLUMNS} FROM reminders WHERE state = 'pending' AND due_at <= ? ORDER BY due_at LIMIT ?",
            (now.timestamp(), limit),
        )
        return [_reminder(row) for row in rows]

    async def claim_reminder(self, reminder_id: int) -> bool:
        changed = await self._change(
            "UPDATE reminders SET state = 'claimed' WHERE id = ? AND state = 'pending'", (reminder_id,)
        )
        return changed == 1

    async def finish_reminder(self, reminder_id: int) -> None:
        await self._run("DELETE FROM reminders WHERE id = ?", (reminder_id,))

    async def claim_once(self, key: str, ttl: timedelta) -> bool:
        """Decided at once: the INSERT runs under the file's write lock, which another process's claim waits
        for, so nobody else can win the same key; others see the claim when this tick's COMMIT lands, and
        nobody needs to wait for that."""
        now = self._clock.now()
        changed = await self._change(
            "INSERT INTO once (key, result, expires_at) VALUES (?, NULL, ?) "
            "ON CONFLICT (key) DO UPDATE SET result = NULL, expires_at = excluded.expires_at "
            "WHERE once.expires_at <= ?",
            (key, (now + ttl).timestamp(), now.timestamp()),
            wait=False,
        )
        return changed == 1

    async def finish_once(self, key: str, result: str, ttl: timedelta) -> None:
        """Like the claim, it lands with this tick's COMMIT; this process's repeats have the result already."""
        expires = (self._clock.now() + ttl).timestamp()
        await self._change(
            "UPDATE once SET result = ?, expires_at = ? WHERE key = ?", (result, expires, key), wait=False
        )

    async def once_result(self, key: str) -> str | None:
        rows = await self._run(
            "SELECT result FROM once WHERE key = ? AND expires_at > ?", (key, self._clock.now().timestamp())
        )
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    async def remember_first(self, key: str, value: str, ttl: timedelta) -> str:
        """One statement under the file's write lock, so of two processes one writes and the other reads it: a
        live row is left as it is and its value returned, an expired or missing one is replaced by `value`."""
        now = self._clock.now()
        rows, _ = await self._statement(
            "INSERT INTO once (key, result, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET "
            "result = iif(once.expires_at <= ?4, excluded.result, once.result), "
            "expires_at = iif(once.expires_at <= ?4, excluded.expires_at, once.expires_at) RETURNING result",
            (key, value, (now + ttl).timestamp(), now.timestamp()),
            False,
        )
        return str(rows[0][0]) if rows and rows[0][0] is not None else value
