"""Traffic records through the real engine on the real stores (issue 9, item 13): what is kept of unanswered
questions (masked, no user key), what is not, the setting that turns it off, and the 90 days."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.core.masking import MAX_CHARS, mask
from bot.core.messages import Message
from bot.settings import Settings
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.store.redis.keys import Keys
from bot.store.sqlite import SqliteStore
from bot.store.traffic import RETENTION_DAYS, Asked, AskedCount, Tally
from bot.store.traffic_buffer import TrafficBuffer
from tests.conftest import TODAY
from tests.redis_kit import STORE_KINDS, any_store, redis_url
from tests.sqlite_kit import raw, statements

Stores = MemoryStore | SqliteStore | RedisStore
USER = "oAbCdEf-wechat-openid-42"
LONG_AGO = date(2000, 1, 1)


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest, clock: FixedClock, tmp_path: Path) -> AsyncIterator[Stores]:
    async with any_store(request.param, clock, tmp_path, "bot.db") as opened:
        yield opened


@pytest.fixture
def engine(shared_engine_parts: Engine, store: Stores, clock: FixedClock) -> Engine:
    return shared_engine_parts.with_store(store, clock)


def on_disk(folder: Path) -> bytes:
    """The store's files (the database and its WAL), as they are."""
    return b"".join(path.read_bytes() for path in folder.glob("bot.db*"))


async def redis_days(store: RedisStore) -> list[str]:
    client = Redis.from_url(redis_url(), decode_responses=True)
    try:
        return [str(day) for day in await client.zrange(Keys(store.root).traffic_days, 0, -1)]
    finally:
        await client.aclose()


async def ask(engine: Engine, text: str, user: str = USER) -> str:
    turn = await engine.handle_turn(Message("wechat", user, text))
    return turn.intent


async def test_an_unanswered_message_is_recorded_masked_and_without_any_user_key(
    engine: Engine, store: Stores, tmp_path: Path
) -> None:
    assert await ask(engine, "广州到深圳的高铁G1234几点，我是13900007777") == "fallback"
    traffic = await store.traffic(LONG_AGO)
    assert list(traffic.asked) == [
        AskedCount(TODAY, Asked("[地名]到[地名]的高铁g0几点,我是0", "fallback", "faq.impact_daily", 1.5), 1)
    ]
    assert dict(traffic.turns) == {(TODAY, "fallback"): 1}
    key = engine.key("wechat", USER)
    assert USER not in repr(traffic)
    assert key not in repr(traffic)
    if isinstance(store, SqliteStore):  # nothing on disk holds the number, the places, the id or the key
        await store.close()
        written = on_disk(tmp_path)
        for secret in ("13900007777", "广州", "深圳", USER, key):
            assert secret.encode() not in written, secret


async def test_an_answered_message_is_counted_but_not_recorded(engine: Engine, store: Stores) -> None:
    assert await ask(engine, "居住证签注要带什么材料") == "faq.materials_general"  # score 6.0
    assert await ask(engine, "我的居住证10月20号过期了", user="other") == "flow.expired"
    traffic = await store.traffic(LONG_AGO)
    assert list(traffic.asked) == []
    assert dict(traffic.turns) == {(TODAY, "faq.materials_general"): 1, (TODAY, "flow.expired"): 1}


async def test_a_faq_answered_with_a_low_score_is_recorded(engine: Engine, store: Stores) -> None:
    assert await ask(engine, "办签注要交钱吗") == "faq.fee"  # the threshold, 2.0: below 2.0 + 1.0
    traffic = await store.traffic(LONG_AGO)
    assert list(traffic.asked) == [AskedCount(TODAY, Asked("办签注要交钱吗", "faq.fee", "faq.fee", 2.0), 1)]


async def test_the_same_question_from_two_users_is_one_record_counted_twice(engine: Engine, store: Stores) -> None:
    await ask(engine, "深圳的房价2026年会涨吗", user="a")
    await ask(engine, "上海的房价2027年会涨吗", user="b")
    traffic = await store.traffic(LONG_AGO)
    assert [(r.asked.text, r.count) for r in traffic.asked] == [("[地名]的房价0年会涨吗", 2)]


async def test_the_setting_turns_recording_off(shared_engine_parts: Engine, store: Stores, clock: FixedClock) -> None:
    settings = Settings.from_env({"QIANZHU_RECORD_UNMATCHED": "0"})
    assert settings.record_unmatched is False
    engine = Engine(
        shared_engine_parts.catalog,
        store,
        clock,
        dialog=shared_engine_parts.dialog,
        record_unmatched=settings.record_unmatched,
    )
    assert await ask(engine, "股票明天会涨吗") == "fallback"
    assert await ask(engine.with_store(store, clock), "给我讲个笑话") == "fallback"  # kept by with_store
    traffic = await store.traffic(LONG_AGO)
    assert dict(traffic.turns) == {}
    assert list(traffic.asked) == []


@pytest.mark.parametrize(("value", "expected"), [("", True), ("1", True), ("on", True), ("0", False), ("No", False)])
def test_the_setting_is_on_by_default_and_reads_yes_and_no(value: str, expected: bool) -> None:
    assert Settings.from_env({"QIANZHU_RECORD_UNMATCHED": value}).record_unmatched is expected


def test_the_setting_refuses_anything_else() -> None:
    with pytest.raises(ValueError, match="QIANZHU_RECORD_UNMATCHED"):
        Settings.from_env({"QIANZHU_RECORD_UNMATCHED": "maybe"})


async def test_records_older_than_90_days_are_purged(
    engine: Engine, store: Stores, clock: FixedClock, tmp_path: Path
) -> None:
    start = clock.current
    await ask(engine, "股票明天会涨吗")
    await store.flush_traffic()
    clock.current = start + timedelta(days=RETENTION_DAYS - 1)
    await ask(engine, "我的居住证10月20号过期了", user="saver")  # saves a session (the memory store's hourly sweep)
    assert (TODAY, "fallback") in (await store.traffic(LONG_AGO)).turns
    clock.current = start + timedelta(days=RETENTION_DAYS)
    await ask(engine, "我在上海", user="saver")
    traffic = await store.traffic(LONG_AGO)
    assert (TODAY, "fallback") not in traffic.turns
    assert list(traffic.asked) == []
    if isinstance(store, SqliteStore):  # gone from the file, not only hidden, once the background purge ran
        await store.purge()
        await store.close()
        with raw(tmp_path / "bot.db") as conn:
            old = TODAY.isoformat()
            assert conn.execute("SELECT count(*) FROM traffic_turns WHERE day = ?", (old,)).fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM traffic_asked").fetchone() == (0,)
    elif isinstance(store, RedisStore):  # the day is off the index, and its hashes expire when it is no longer kept
        assert TODAY.isoformat() not in await redis_days(store)
    else:
        assert all(day > TODAY for day, _ in store._tally.turns)


async def test_sqlite_writes_no_statement_per_turn_and_keeps_the_counts_across_a_restart(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(path, clock)
    engine = shared_engine_parts.with_store(store, clock)
    seen = statements(store)
    await ask(engine, "股票明天会涨吗")
    await ask(engine, "办签注要交钱吗", user="b")
    assert not [sql for sql in seen if "traffic" in sql]  # counted in memory
    await store.close()  # written here
    store = await SqliteStore.open(path, clock)
    try:
        traffic = await store.traffic(LONG_AGO)
        assert dict(traffic.turns) == {(TODAY, "fallback"): 1, (TODAY, "faq.fee"): 1}
        assert len(traffic.asked) == 2
    finally:
        await store.close()


async def test_sqlite_writes_the_counts_with_the_next_save_once_they_are_due(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    store = await SqliteStore.open(tmp_path / "bot.db", clock)
    try:
        store._traffic._interval = 0.0  # due at once
        engine = shared_engine_parts.with_store(store, clock)
        await ask(engine, "股票明天会涨吗")
        seen = statements(store)
        await ask(engine, "我的居住证10月20号过期了", user="saver")  # its save writes the counts first
        assert any("INSERT INTO traffic_asked" in sql for sql in seen)
        with raw(tmp_path / "bot.db") as conn:
            assert conn.execute("SELECT text, turns FROM traffic_asked").fetchall() == [("股票明天会涨吗", 1)]
    finally:
        await store.close()


async def test_the_buffer_writes_from_a_timer_when_no_save_comes() -> None:
    written: list[Tally] = []

    async def write(tally: Tally) -> None:
        written.append(tally)

    buffer = TrafficBuffer(write, interval=0.01)
    buffer.add(TODAY, "fallback", Asked("给我讲个笑话", "fallback"))
    buffer.add(TODAY, "fallback", Asked("给我讲个笑话", "fallback"))
    assert written == []
    await asyncio.sleep(0.05)
    assert [dict(t.turns) for t in written] == [{(TODAY, "fallback"): 2}]
    await buffer.close()
    assert len(written) == 1  # nothing left to write


async def test_a_failed_write_is_logged_and_never_reaches_the_turn(caplog: pytest.LogCaptureFixture) -> None:
    async def write(tally: Tally) -> None:
        raise RuntimeError("disk full")

    buffer = TrafficBuffer(write, interval=60)
    buffer.add(TODAY, "slot", None)
    await buffer.flush()
    assert "could not be written" in caplog.text


def test_masking_caps_the_length_and_masks_every_number() -> None:
    assert mask("二〇二五年3月15号，电话138 1234 5678，十一前后一下") == "0年0月0号，电话0 0 0，十一前后一下"
    assert mask("我在广州上班", ["广州"]) == "我在[地名]上班"
    long = mask("啊" * 200)
    assert len(long) == MAX_CHARS
    assert long.endswith("…")
