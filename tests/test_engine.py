"""The engine on real stores: persistence, expiry, one user at a time, and failures that lose nothing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import FixedClock
from bot.core.engine import ATTEMPTS, Engine
from bot.core.keys import conversation_key
from bot.core.messages import Message
from bot.core.session import Session
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from tests.sqlite_kit import opened, raw


def say(text: str, user: str = "u1") -> Message:
    return Message("test", user, text)


async def test_state_survives_closing_and_reopening_sqlite(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    store = await SqliteStore.open(path, clock)
    await shared_engine_parts.with_store(store, clock).handle(say("我的签注10月20号过期了"))
    await store.close()

    store = await SqliteStore.open(path, clock)
    replies = await shared_engine_parts.with_store(store, clock).handle(say("上海"))
    await store.close()
    assert "上海｜已过期，可能还在宽限期" in replies[0].text  # the 60 days rest on a medium-low source


async def test_a_session_expires_after_thirty_days_unused(engine: Engine, clock: FixedClock) -> None:
    await engine.handle(say("我在上海"))
    clock.current += timedelta(days=29)
    assert "哪天到期" in (await engine.handle(say("你好")))[-1].text  # still remembers the city
    clock.current += timedelta(days=30, seconds=1)
    await engine.handle(say("10月20号过期了"))
    turn = await engine.handle_turn(say("1"))
    assert turn.session.city is None


async def test_users_do_not_see_each_other(engine: Engine) -> None:
    await engine.handle(say("我在上海", user="alice"))
    turn = await engine.handle_turn(say("10月20号过期了", user="bob"))
    assert turn.session.city is None


async def test_concurrent_messages_of_one_user_are_serialised(engine: Engine) -> None:
    await asyncio.gather(engine.handle(say("我在上海")), engine.handle(say("10月20号过期了")))
    turn = await engine.handle_turn(say("办签注收费吗"))
    assert (turn.session.city, str(turn.session.expiry)) == ("上海", "2026-10-20")


async def test_a_locked_database_gives_an_apology_and_loses_nothing(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    store = await SqliteStore.open(path, clock, busy_timeout=0.2)
    engine = shared_engine_parts.with_store(store, clock)
    await engine.handle(say("我在上海"))

    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        replies = await engine.handle(say("10月20号过期了"))
        assert "没能处理成功" in replies[0].text  # not kept: the user is asked to send it again
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    turn = await engine.handle_turn(say("10月20号过期了"))
    await store.close()
    assert turn.verdict is not None
    assert turn.session.city == "上海"


async def test_an_unreadable_stored_session_starts_fresh(engine: Engine) -> None:
    await engine.store.save(conversation_key("test", "u1"), "{not json")
    replies = await engine.handle(say("我在上海"))
    assert "哪天到期" in replies[-1].text


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "😀🎉👍",
        "。。。！！！",
        "签" * 10_000,
        "啊" * 10_000 + "我在上海",  # past the 500 characters that are read
        "<b>hi</b><script>alert(1)</script>",
        "What should I do if my residence permit expired?",
        "2月30日",
        "1899年",
        "\x00\x01\x02",
        "\u202e\u200b",
        "DROP TABLE documents; --",
    ],
)
async def test_bad_input_gets_a_reply_and_keeps_state(engine: Engine, text: str) -> None:
    await engine.handle(say("我在北京"))
    replies = await engine.handle(say(text))
    assert replies
    assert all(reply.text.strip() for reply in replies)
    assert "出了点问题" not in replies[0].text
    turn = await engine.handle_turn(say("你好"))
    assert turn.session.city == "北京"


async def test_forget_deletes_the_conversation(engine: Engine) -> None:
    await engine.handle(say("我在上海"))
    await engine.forget("test", "u1")
    assert await engine.store.load(conversation_key("test", "u1")) is None


async def test_stored_documents_hold_no_raw_user_id(engine: Engine) -> None:
    await engine.handle(say("我在上海", user="wx-openid-12345"))
    key = conversation_key("test", "wx-openid-12345")
    assert "wx-openid-12345" not in key
    assert await engine.store.load(key) is not None


def test_session_round_trips_through_json() -> None:
    session = Session(city="上海", pending="date")
    assert Session.from_json(session.to_json()) == session


async def test_memory_store_engine_fixture_is_isolated(engine: Engine) -> None:
    assert isinstance(engine.store, MemoryStore)


async def test_a_visitor_who_only_asks_questions_leaves_nothing_stored(engine: Engine) -> None:
    await engine.handle(say("办签注要交钱吗"))
    await engine.handle(say("谢谢"))
    assert await engine.store.load(conversation_key("test", "u1")) is None


async def test_an_unchanged_session_is_saved_again_only_to_keep_it_alive(engine: Engine, clock: FixedClock) -> None:
    key = conversation_key("test", "u1")
    await engine.handle(say("我在上海"))
    first = await engine.store.load(key)
    clock.current += timedelta(minutes=5)
    await engine.handle(say("办签注要交钱吗"))
    assert await engine.store.load(key) == first  # nothing new: not written
    clock.current += timedelta(minutes=6)
    await engine.handle(say("办签注要交钱吗"))
    assert await engine.store.load(key) != first  # touched, so the 30 days start again


# -- two processes on one store: each turn's save is conditional on the version it read ----------------------


def lines_of(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records)


async def together(path: Path, jobs: list[Coroutine[Any, Any, object]]) -> None:
    """Runs the jobs while another connection holds the file's write lock until each job has started: every
    store's first turn then reads before any of them can write, as two processes' turns do when they meet.
    The rest run as they come, on the stores' worker threads."""
    with raw(path) as other:
        other.execute("BEGIN IMMEDIATE")

        async def release() -> None:
            other.execute("ROLLBACK")

        await asyncio.gather(*jobs, release())


async def test_two_engines_on_one_file_keep_both_messages_of_every_user(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two engines (as two processes have them: separate stores, caches and locks on one file) get the date
    and the city of 100 users at the same moment; a third message, on a third store, finds both for all 100,
    and every turn was counted once however often it ran."""
    caplog.set_level(logging.DEBUG, logger="bot.core.engine")
    path, users = tmp_path / "shared.db", [f"user{i}" for i in range(100)]
    async with opened(path, clock) as a_store, opened(path, clock) as b_store:
        a, b = (shared_engine_parts.with_store(store, clock) for store in (a_store, b_store))
        await together(
            path, [job for u in users for job in (a.handle(say("10月20号过期了", u)), b.handle(say("上海", u)))]
        )
        await a_store.flush_traffic()
        await b_store.flush_traffic()
        counted = sum((await a_store.traffic(clock.today())).turns.values())
    reruns = lines_of(caplog, "the turn runs again")
    async with opened(path, clock) as c_store:
        c = shared_engine_parts.with_store(c_store, clock)
        sessions = [(await c.handle_turn(say("办签注收费吗", u))).session for u in users]
    assert [(s.city, str(s.expiry)) for s in sessions] == [("上海", "2026-10-20")] * 100
    assert counted == 200
    assert reruns > 0  # at least the first user's two turns met


async def test_a_turn_in_another_process_does_not_bring_a_forgotten_session_back(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Engine B forgets 50 users while engine A, on another store of the same file, answers their next
    message: A's turns either come after the delete or run again on an empty session; the city is gone."""
    path, users = tmp_path / "shared.db", [f"user{i}" for i in range(50)]
    async with opened(path, clock) as a_store, opened(path, clock) as b_store:
        a, b = (shared_engine_parts.with_store(store, clock) for store in (a_store, b_store))
        for u in users:
            await a.handle(say("我在上海", u))
        await together(path, [job for u in users for job in (b.forget("test", u), a.handle(say("10月20号过期了", u)))])
    async with opened(path, clock) as c_store:
        c = shared_engine_parts.with_store(c_store, clock)
        sessions = [(await c.handle_turn(say("办签注收费吗", u))).session for u in users]
    assert [s.city for s in sessions] == [None] * 50


async def test_a_turn_that_loses_every_race_apologises_and_writes_nothing(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A trigger on the file drops every write to the session, as if another process saved it each time just
    before: the turn runs ATTEMPTS times, then apologises; the stored session is what it was."""
    caplog.set_level(logging.DEBUG, logger="bot.core.engine")
    path = tmp_path / "state.db"
    async with opened(path, clock) as store:
        engine = shared_engine_parts.with_store(store, clock)
        await engine.handle(say("我在上海"))
        with raw(path) as other:
            other.execute("CREATE TRIGGER always_beaten BEFORE UPDATE ON documents BEGIN SELECT RAISE(IGNORE); END")
        replies = await engine.handle(say("10月20号过期了"))
        with raw(path) as other:
            other.execute("DROP TRIGGER always_beaten")
        turn = await engine.handle_turn(say("办签注收费吗"))
    assert "没能处理成功" in replies[0].text
    assert lines_of(caplog, "the turn runs again") == ATTEMPTS
    assert (turn.session.city, turn.session.expiry) == ("上海", None)
