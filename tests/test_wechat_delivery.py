"""The 5-second limit: a late answer is acknowledged with "success" and sent as a customer-service message."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from pydantic import SecretStr

from bot.channels.wechat.api import WeChatApi, WeChatApiError
from bot.channels.wechat.texts import load_texts
from bot.core.clock import FixedClock
from bot.core.engine import Engine
from bot.runtime import Runtime
from bot.store.memory import MemoryStore
from tests.fake_wechat_api import fake_wechat_api
from tests.servers import free_port
from tests.wechat_kit import (
    AES_KEY,
    APPID,
    SECRET,
    TOKEN,
    WeChat,
    full_verdicts,
    next_msg_id,
    runtime,
    settings,
    text_xml,
    wechat_server,
)

USER = "oUser-late-1"
DEADLINE = 0.3
TEXTS = load_texts()


async def late_reply(
    client: httpx.AsyncClient, run: Runtime, wechat: WeChat, text: str, user: str = USER
) -> tuple[dict[str, str], dict[str, str], str]:
    """Holds the user's conversation past the deadline, so the engine answers late.

    Returns the first delivery's reply, the reply to a repeat that arrived while the engine ran, and the XML.
    """
    xml = text_xml(user, text, next_msg_id(), wechat.now())
    async with run.store.lock(run.engine.key("wechat", user)):
        first = await wechat.send(client, xml)
        repeat = asyncio.create_task(wechat.send(client, xml))  # WeChat retrying while the engine still runs
        await asyncio.sleep(0.05)
    return first, await repeat, xml


async def test_a_late_answer_goes_out_as_a_customer_service_message(
    shared_engine_parts: Engine, clock: FixedClock
) -> None:
    store = MemoryStore(clock)
    async with fake_wechat_api() as (fake, base):
        config = settings(wechat_api_base_url=base, wechat_reply_timeout=DEADLINE)
        run = runtime(shared_engine_parts, store, clock, config)
        wechat = WeChat(clock, "safe")
        async with wechat_server(run) as client:
            first, repeat, xml = await late_reply(client, run, wechat, "办签注要交钱吗")
            assert first == {}
            assert repeat == {}
            await fake.wait_for_send()
            await settled(run, "sent")
            again = await wechat.send(client, xml)  # a repeat after it went out: not answered twice
    await store.close()
    assert again == {}
    assert len(fake.sent) == 1
    message = fake.sent[0]
    assert (message["touser"], message["msgtype"]) == (USER, "text")
    assert "不收费" in message["text"]["content"]
    assert "不收费".encode() in fake.raw_bodies[0]  # UTF-8, not \\u escapes, which WeChat would show as is
    assert run.metrics.messages.value("wechat", "faq.fee") == 1


async def test_the_token_is_cached_and_renewed_when_wechat_calls_it_stale(
    shared_engine_parts: Engine, clock: FixedClock
) -> None:
    store = MemoryStore(clock)
    async with fake_wechat_api() as (fake, base):
        run = runtime(
            shared_engine_parts, store, clock, settings(wechat_api_base_url=base, wechat_reply_timeout=DEADLINE)
        )
        wechat = WeChat(clock)
        async with wechat_server(run) as client:
            await late_reply(client, run, wechat, "办签注要交钱吗")
            await fake.wait_for_send(1)
            await late_reply(client, run, wechat, "去哪里办签注")
            await fake.wait_for_send(2)
            assert fake.token_fetches == 1  # cached
            for n, code in enumerate((42001, 40001), start=3):  # expired, then invalid
                fake.expire(code)
                await late_reply(client, run, wechat, "签注可以在网上办吗")
                await fake.wait_for_send(n)
    await store.close()
    assert fake.token_fetches == 3
    assert len(fake.sent) == 4


async def test_concurrent_callers_share_one_token_fetch() -> None:
    async with fake_wechat_api() as (fake, base):
        api = WeChatApi(base, APPID, SecretStr(SECRET))
        await asyncio.gather(*(api.send_text(f"o{n}", "你好") for n in range(5)))
        await api.aclose()
    assert fake.token_fetches == 1
    assert len(fake.sent) == 5


async def test_api_errors_are_reported_without_secrets() -> None:
    async with fake_wechat_api() as (fake, base):
        wrong = WeChatApi(base, APPID, SecretStr("not-the-secret"))
        with pytest.raises(WeChatApiError, match="40125") as refused:
            await wrong.send_text("o1", "你好")
        await wrong.aclose()
    unreachable = WeChatApi(f"http://127.0.0.1:{free_port()}", APPID, SecretStr(SECRET))
    with pytest.raises(WeChatApiError, match="ConnectError") as down:
        await unreachable.send_text("o1", "你好")
    await unreachable.aclose()
    for error in (refused.value, down.value):
        assert "not-the-secret" not in str(error)
        assert SECRET not in str(error)
    assert fake.sent == []


async def settled(run: Runtime, outcome: str, count: int = 1) -> None:
    """Waits (at most 10 s) until `count` late answers had `outcome`: they go out after the reply."""
    async with asyncio.timeout(10):
        while run.metrics.late.value("wechat", outcome) < count:  # noqa: ASYNC110 - a counter has no event
            await asyncio.sleep(0.01)


async def test_without_credentials_a_late_answer_comes_with_the_next_reply(
    shared_engine_parts: Engine, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore(clock)
    config = settings(wechat_appid=None, wechat_appsecret=None, wechat_aes_key=None, wechat_reply_timeout=DEADLINE)
    run = runtime(shared_engine_parts, store, clock, config)
    wechat = WeChat(clock)
    with caplog.at_level(logging.INFO):
        async with wechat_server(run) as client:
            first, repeat, _ = await late_reply(client, run, wechat, "办签注要交钱吗")
            await settled(run, "deferred")
            then = await wechat.send(client, text_xml(USER, "谢谢", next_msg_id(), wechat.now()))
            after = await wechat.send(client, text_xml(USER, "谢谢", next_msg_id(), wechat.now()))
            other = await wechat.send(client, text_xml("oUser-other", "谢谢", next_msg_id(), wechat.now()))
    await store.close()
    assert (first, repeat) == ({}, {})
    earlier, fee, now, thanks = then["Content"].split("\n\n")
    assert (earlier, now) == (TEXTS.earlier, TEXTS.now)
    assert "不收费" in fee
    assert thanks == after["Content"] == other["Content"] == "不客气！还有别的问题随时问我。"
    assert run.metrics.late.value("wechat", "delivered") == 1
    assert run.metrics.messages.value("wechat", "faq.fee") == 1
    assert "kept for the user's next message" in caplog.text
    assert USER not in caplog.text


async def test_a_failed_send_is_kept_and_comes_with_the_next_reply(
    shared_engine_parts: Engine, clock: FixedClock
) -> None:
    store = MemoryStore(clock)
    config = settings(wechat_api_base_url=f"http://127.0.0.1:{free_port()}", wechat_reply_timeout=DEADLINE)
    run = runtime(shared_engine_parts, store, clock, config)
    wechat = WeChat(clock)
    async with wechat_server(run) as client:
        await late_reply(client, run, wechat, "办签注要交钱吗")
        await settled(run, "deferred")
        then = await wechat.send(client, text_xml(USER, "去哪里办签注", next_msg_id(), wechat.now()))
    await store.close()
    assert run.metrics.errors.value("wechat", "late_send_failed") == 1
    assert run.metrics.late.value("wechat", "sent") == 0
    text = then["Content"]
    assert text.startswith(TEXTS.earlier)
    assert text.index("不收费") < text.index(TEXTS.now)


async def test_a_repeated_question_is_answered_once(shared_engine_parts: Engine, clock: FixedClock) -> None:
    """Someone who got nothing usually asks again: the kept answer is the new one, and is shown once."""
    store = MemoryStore(clock)
    run = runtime(shared_engine_parts, store, clock, settings(wechat_appsecret=None, wechat_reply_timeout=DEADLINE))
    wechat = WeChat(clock, "safe")
    async with wechat_server(run) as client:
        await late_reply(client, run, wechat, "办签注要交钱吗")
        await settled(run, "deferred")
        again = await wechat.send(client, text_xml(USER, "办签注要交钱吗", next_msg_id(), wechat.now()))
    await store.close()
    assert "不收费" in again["Content"]
    assert TEXTS.earlier not in again["Content"]
    assert run.metrics.late.value("wechat", "delivered") == 1


async def test_an_answer_that_does_not_fit_beside_the_kept_one_follows_next_time(
    shared_engine_parts: Engine, clock: FixedClock
) -> None:
    """The kept answer goes out first; the new one waits for the next message, and the reply says so. (The
    whole verdict of `--full` is long enough not to fit beside the kept answer; the card would.)"""
    store = MemoryStore(clock)
    parts = full_verdicts(shared_engine_parts, store, clock)
    run = runtime(parts, store, clock, settings(wechat_appsecret=None, wechat_reply_timeout=DEADLINE))
    wechat = WeChat(clock)
    verdict = "我在上海，居住证10月20号过期了"
    async with wechat_server(run) as client:
        await late_reply(client, run, wechat, "办签注要交钱吗")
        await settled(run, "deferred")
        alone = await wechat.send(client, text_xml("oUser-alone", verdict, next_msg_id(), wechat.now()))
        second = await wechat.send(client, text_xml(USER, verdict, next_msg_id(), wechat.now()))
        third = await wechat.send(client, text_xml(USER, "谢谢", next_msg_id(), wechat.now()))
        fourth = await wechat.send(client, text_xml(USER, "谢谢", next_msg_id(), wechat.now()))
    await store.close()
    text = second["Content"]
    assert text.startswith(TEXTS.earlier)
    assert text.endswith(TEXTS.held)
    assert "不收费" in text
    assert "上海" not in text
    assert len(text.encode()) <= 2048
    # The verdict is near the limit itself: it goes out whole, and "谢谢"'s answer waits once more (and is then
    # the same as the next one's, so it is shown once).
    assert third["Content"] in (alone["Content"], TEXTS.earlier + "\n\n" + alone["Content"])
    assert fourth["Content"] == "不客气！还有别的问题随时问我。"
    assert run.metrics.late.value("wechat", "delivered") == 3


async def test_logs_hold_no_token_secret_key_or_openid(
    shared_engine_parts: Engine, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore(clock)
    async with fake_wechat_api() as (fake, base):
        run = runtime(
            shared_engine_parts, store, clock, settings(wechat_api_base_url=base, wechat_reply_timeout=DEADLINE)
        )
        wechat = WeChat(clock, "safe")
        with caplog.at_level(logging.DEBUG):
            async with wechat_server(run) as client:
                await late_reply(client, run, wechat, "办签注要交钱吗")
                await fake.wait_for_send()
                fake.expire()
                await late_reply(client, run, wechat, "去哪里办签注")
                await fake.wait_for_send(2)
                params, body = wechat.post("<xml>junk")
                assert (await client.post("/wechat", params=params, content=body)).status_code == 400
    await store.close()
    assert "access_token=***" in caplog.text  # httpx logged the calls, redacted
    for secret in ("tok-1", "tok-2", SECRET, TOKEN, AES_KEY, USER):
        assert secret not in caplog.text, secret
