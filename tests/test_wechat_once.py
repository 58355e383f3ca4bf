"""Exactly once: WeChat's repeated deliveries run the engine once and all get the same answer."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.channels.wechat.once import RESULT_TTL
from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from tests.wechat_kit import Mode, WeChat, event_xml, metric, next_msg_id, runtime, text_xml, wechat_server

USER = "oUser-once-1"
QUESTION = "办签注要交钱吗"
HANDLED = 'qianzhu_messages_total{channel="wechat",intent="faq.fee"}'
REPEATS = 'qianzhu_duplicate_deliveries_total{channel="wechat"}'


async def scrape(client: httpx.AsyncClient) -> str:
    return (await client.get("/metrics")).text


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
async def test_three_deliveries_add_one_to_the_message_count(
    shared_engine_parts: Engine, clock: FixedClock, mode: Mode
) -> None:
    store = MemoryStore(clock)
    run = runtime(shared_engine_parts, store, clock)
    wechat = WeChat(clock, mode)
    xml = text_xml(USER, QUESTION, next_msg_id(), wechat.now())
    async with wechat_server(run) as client:
        before = await scrape(client)
        # Each delivery is signed (and in safe mode encrypted) afresh, with its own nonce, as WeChat does;
        # `send` checks that each answer is sealed for its own request.
        replies = [await wechat.send(client, xml) for _ in range(3)]
        after = await scrape(client)
    await store.close()
    assert replies[0]["Content"]
    assert "不收费" in replies[0]["Content"]
    assert [r["Content"] for r in replies] == [replies[0]["Content"]] * 3
    assert metric(before, HANDLED) == 0
    assert metric(after, HANDLED) == 1
    assert metric(after, REPEATS) == 2


async def test_repeats_that_arrive_while_the_first_runs_await_it(
    shared_engine_parts: Engine, clock: FixedClock
) -> None:
    store = MemoryStore(clock)
    run = runtime(shared_engine_parts, store, clock)
    wechat = WeChat(clock, "compatible")
    xml = text_xml(USER, QUESTION, next_msg_id(), wechat.now())
    async with wechat_server(run) as client:
        async with store.lock(run.engine.key("wechat", USER)):  # the engine cannot finish while this is held
            deliveries = [asyncio.create_task(wechat.send(client, xml)) for _ in range(3)]
            await asyncio.sleep(0.3)
            assert not any(d.done() for d in deliveries)
        replies = await asyncio.gather(*deliveries)
        metrics = await scrape(client)
    await store.close()
    assert len({r["Content"] for r in replies}) == 1
    assert "不收费" in replies[0]["Content"]
    assert metric(metrics, HANDLED) == 1
    assert metric(metrics, REPEATS) == 2


async def test_the_record_survives_a_restart(shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path) -> None:
    wechat = WeChat(clock, "safe")
    xml = text_xml(USER, QUESTION, next_msg_id(), wechat.now())
    answers = []
    for _ in range(2):  # the same database file, a fresh process's worth of state each time
        store = await SqliteStore.open(tmp_path / "q.db", clock)
        run = runtime(shared_engine_parts, store, clock)
        async with wechat_server(run) as client:
            answers.append(await wechat.send(client, xml))
            metrics = await scrape(client)
        await store.close()
    assert answers[0]["Content"] == answers[1]["Content"]  # CreateTime is the time of each reply
    assert metric(metrics, HANDLED) == 0  # the second server answered from the record
    assert metric(metrics, REPEATS) == 1


async def test_a_repeat_in_another_process_waits_for_the_first(
    shared_engine_parts: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Two servers on one SQLite file: the repeat polls the shared record until the first one finishes."""
    first_store = await SqliteStore.open(tmp_path / "q.db", clock)
    second_store = await SqliteStore.open(tmp_path / "q.db", clock)
    first, second = runtime(shared_engine_parts, first_store, clock), runtime(shared_engine_parts, second_store, clock)
    wechat = WeChat(clock)
    xml = text_xml(USER, QUESTION, next_msg_id(), wechat.now())
    async with wechat_server(first) as one, wechat_server(second) as other:
        async with first_store.lock(first.engine.key("wechat", USER)):
            original = asyncio.create_task(wechat.send(one, xml))
            await asyncio.sleep(0.2)
            repeat = asyncio.create_task(wechat.send(other, xml))
            await asyncio.sleep(0.3)
            assert not original.done()
            assert not repeat.done()
        answers = await asyncio.gather(original, repeat)
        counts = [metric(await scrape(c), HANDLED) for c in (one, other)]
        repeats = [metric(await scrape(c), REPEATS) for c in (one, other)]
    await first_store.close()
    await second_store.close()
    assert answers[0]["Content"] == answers[1]["Content"]  # CreateTime is the time of each reply
    assert "不收费" in answers[0]["Content"]
    assert counts == [1, 0]
    assert repeats == [0, 1]


async def test_events_are_keyed_by_time_and_event_not_by_msg_id(shared_engine_parts: Engine, clock: FixedClock) -> None:
    """wechatpy gives every event id 0: keying on it would swallow each click after the first."""
    store = MemoryStore(clock)
    run = runtime(shared_engine_parts, store, clock)
    wechat = WeChat(clock)
    now = wechat.now()
    async with wechat_server(run) as client:
        for created in (now - 60, now - 30, now):
            for _ in range(3):  # each click delivered three times
                reply = await wechat.send(client, event_xml(USER, "CLICK", created, "FAQ_FEE"))
                assert "不收费" in reply["Content"]
        other_user = await wechat.send(client, event_xml("oUser-once-2", "CLICK", now, "FAQ_FEE"))
        metrics = await scrape(client)
    await store.close()
    assert "不收费" in other_user["Content"]
    assert metric(metrics, HANDLED) == 4  # three clicks by one user, one by another
    assert metric(metrics, REPEATS) == 6


async def test_msg_ids_are_per_user(shared_engine_parts: Engine, clock: FixedClock) -> None:
    """MsgIds collide across users, so the key is the user and the MsgId together."""
    store = MemoryStore(clock)
    run = runtime(shared_engine_parts, store, clock)
    wechat = WeChat(clock)
    msg_id = next_msg_id()
    async with wechat_server(run) as client:
        fee = await wechat.send(client, text_xml("oUser-a", QUESTION, msg_id, wechat.now()))
        where = await wechat.send(client, text_xml("oUser-b", "去哪里办签注", msg_id, wechat.now()))
        metrics = await scrape(client)
    await store.close()
    assert fee["Content"] != where["Content"]
    assert metric(metrics, REPEATS) == 0


async def test_the_record_is_kept_while_wechat_retries_and_then_forgotten(
    shared_engine_parts: Engine, clock: FixedClock
) -> None:
    """WeChat's three deliveries span about 15 s: the answer is kept for a minute (RESULT_TTL), not longer."""
    store = MemoryStore(clock)
    run = runtime(shared_engine_parts, store, clock)
    wechat = WeChat(clock)
    xml = text_xml(USER, QUESTION, next_msg_id(), wechat.now())
    async with wechat_server(run) as client:
        first = await wechat.send(client, xml)
        clock.current += RESULT_TTL - timedelta(seconds=1)
        within = await wechat.send(client, xml)
        clock.current += timedelta(seconds=2)
        after = await wechat.send(client, xml)
        metrics = await scrape(client)
    await store.close()
    assert first["Content"] == within["Content"] == after["Content"]
    assert metric(metrics, HANDLED) == 2  # the repeat a minute later is a new message to the store
