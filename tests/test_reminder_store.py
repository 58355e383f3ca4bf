"""Reminders grouped by deadline, the same contract on the memory, SQLite and Redis stores, and SQLite files from before
deadlines: migrated in place, their reminders still sent, listed and cancelled (also through the fake Bot API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import SHANGHAI, FixedClock
from bot.core.engine import Engine
from bot.store.extras import NO_DEADLINE, Deadline
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.schema import SCHEMA_VERSION
from tests.fake_telegram import USER, button, message
from tests.redis_kit import STORE_KINDS, any_store
from tests.sqlite_kit import raw
from tests.telegram_harness import running_bot

Extras = MemoryStore | SqliteStore | RedisStore
SHANGHAI_DEADLINE = Deadline(date(2026, 12, 19), "within_grace", "上海")
WIFE_DEADLINE = Deadline(date(2027, 3, 1), "not_expired", "老婆｜北京")
BUTTONS = (("材料", "c:材料"), ("✅ 我办好了", f"d:{SHANGHAI_DEADLINE.id}"))
OLD_REMINDERS = (  # the reminders table before deadlines, as files on users' disks have it
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE documents (key TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at REAL NOT NULL)",
    "INSERT INTO meta (name, value) VALUES ('schema_version', '1')",
    "CREATE TABLE reminders (id INTEGER PRIMARY KEY, key TEXT NOT NULL, channel TEXT NOT NULL, "
    "address TEXT NOT NULL, due_at REAL NOT NULL, text TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending')",
)
OLD_INSERT = "INSERT INTO reminders (key, channel, address, due_at, text) VALUES (?, ?, ?, ?, ?)"


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest, clock: FixedClock, tmp_path: Path) -> AsyncIterator[Extras]:
    async with any_store(request.param, clock, tmp_path) as opened:
        yield opened


def test_a_deadline_id_is_stable_short_and_tells_people_apart() -> None:
    assert SHANGHAI_DEADLINE.id == Deadline(date(2026, 12, 19), "late_endorse", "上海").id
    assert SHANGHAI_DEADLINE.id != Deadline(date(2026, 12, 19), "within_grace", "老婆｜上海").id
    assert SHANGHAI_DEADLINE.id.startswith("20261219-")
    assert len(f"xd:{WIFE_DEADLINE.id}".encode()) <= 64


async def test_adding_for_one_deadline_keeps_the_others(store: Extras, clock: FixedClock) -> None:
    now = clock.now()
    await store.add_reminders("k", "telegram", "42", [(now + timedelta(days=3), "a")], SHANGHAI_DEADLINE, BUTTONS)
    await store.add_reminders("k", "telegram", "42", [(now + timedelta(days=1), "b")], WIFE_DEADLINE)
    again = await store.add_reminders("k", "telegram", "42", [(now + timedelta(days=4), "c")], SHANGHAI_DEADLINE)
    assert [r.text for r in again] == ["c"]  # returned: this deadline's
    kept = await store.reminders_for("k")
    assert [(r.text, r.deadline) for r in kept] == [("b", WIFE_DEADLINE), ("c", SHANGHAI_DEADLINE)]
    assert kept[0].buttons == ()


async def test_buttons_and_deadline_come_back_with_a_due_reminder(store: Extras, clock: FixedClock) -> None:
    now = clock.now()
    await store.add_reminders("k", "telegram", "42", [(now, "a")], SHANGHAI_DEADLINE, BUTTONS)
    [due] = await store.due_reminders(now)
    assert (due.deadline, due.buttons, due.deadline_id) == (SHANGHAI_DEADLINE, BUTTONS, SHANGHAI_DEADLINE.id)


async def test_cancelling_one_deadline_leaves_the_others(store: Extras, clock: FixedClock) -> None:
    now = clock.now()
    await store.add_reminders("k", "telegram", "42", [(now, "a"), (now, "a2")], SHANGHAI_DEADLINE)
    await store.add_reminders("k", "telegram", "42", [(now, "b")], WIFE_DEADLINE)
    await store.add_reminders("k", "telegram", "42", [(now, "c")])  # without a deadline
    await store.add_reminders("other", "telegram", "43", [(now, "d")], SHANGHAI_DEADLINE)
    assert await store.cancel_reminders("k", SHANGHAI_DEADLINE.id) == 2
    assert await store.cancel_reminders("k", SHANGHAI_DEADLINE.id) == 0
    assert await store.cancel_reminders("k", NO_DEADLINE) == 1
    assert [r.text for r in await store.reminders_for("k")] == ["b"]
    assert [r.text for r in await store.reminders_for("other")] == ["d"]
    assert await store.cancel_reminders("k") == 1


async def test_a_claimed_reminder_is_not_cancelled_or_replaced(store: Extras, clock: FixedClock) -> None:
    """At most once: a reminder being sent stays claimed whatever happens to its deadline meanwhile."""
    now = clock.now()
    [first] = await store.add_reminders("k", "telegram", "42", [(now, "a")], SHANGHAI_DEADLINE)
    assert await store.claim_reminder(first.id)
    await store.add_reminders("k", "telegram", "42", [(now + timedelta(days=1), "b")], SHANGHAI_DEADLINE)
    assert await store.cancel_reminders("k", SHANGHAI_DEADLINE.id) == 1  # only the pending one
    assert not await store.claim_reminder(first.id)


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    """A store file from before deadlines, holding one pending reminder of the user's."""
    path = tmp_path / "old.db"
    with raw(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in OLD_REMINDERS:
            conn.execute(statement)
    return path


def add_old_reminder(path: Path, key: str, due_at: datetime, text: str) -> None:
    with raw(path) as conn:
        conn.execute(OLD_INSERT, (key, "telegram", str(USER["id"]), due_at.timestamp(), text))


async def test_an_old_file_is_migrated_in_place_and_its_reminders_kept(old_file: Path, clock: FixedClock) -> None:
    due = clock.now() + timedelta(days=1)
    add_old_reminder(old_file, "k", due, "旧提醒")
    store = await SqliteStore.open(old_file, clock)
    [old] = await store.reminders_for("k")
    assert (old.text, old.deadline, old.buttons, old.deadline_id) == ("旧提醒", None, (), NO_DEADLINE)
    await store.add_reminders("k", "telegram", "42", [(due, "新提醒")], SHANGHAI_DEADLINE)
    assert [r.text for r in await store.reminders_for("k")] == ["旧提醒", "新提醒"]  # both kept
    await store.close()
    again = await SqliteStore.open(old_file, clock)  # opening it again changes nothing
    assert len(await again.reminders_for("k")) == 2
    await again.close()
    add_old_reminder(old_file, "k", due, "旧程序的提醒")  # the program before deadlines still writes the file
    with raw(old_file) as conn:
        assert conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    third = await SqliteStore.open(old_file, clock)
    assert {r.text for r in await third.reminders_for("k")} == {"旧提醒", "新提醒", "旧程序的提醒"}
    await third.close()


async def test_an_old_files_reminder_is_listed_sent_and_cancelled_through_the_bot(
    old_file: Path, clock: FixedClock, engine: Engine
) -> None:
    key = engine.key("telegram", str(USER["id"]))
    add_old_reminder(old_file, key, datetime(2026, 12, 12, 9, tzinfo=SHANGHAI), "⏰ 旧的提醒")
    add_old_reminder(old_file, key, datetime(2026, 12, 18, 9, tzinfo=SHANGHAI), "⏰ 旧的提醒，明天截止")
    store = await SqliteStore.open(old_file, clock)
    async with running_bot(engine.with_store(store, clock), store) as tg:
        await tg.send(message("/remind"))
        assert "之前设置的提醒：下次提醒 2026年12月12日（周六） 09:00" in tg.api.sent()[-1]
        [(earlier, cancel_earlier), _] = tg.api.buttons()
        assert earlier == tg.texts.reminders.cancel_earlier_button
        clock.current = datetime(2026, 12, 12, 9, 5, tzinfo=SHANGHAI)
        assert await tg.bot.reminders.tick() == 1
        assert tg.api.sent()[-1] == "⏰ 旧的提醒"
        await tg.send(button(cancel_earlier))
        assert tg.api.sent()[-1] == tg.texts.reminders.cancelled_earlier
        assert await store.reminders_for(key) == []
    await store.close()
