"""POST /telegram over real HTTP: the secret header decides, each update runs once, start-up sets commands."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr

from bot.channels.telegram.webhook import CLAIM_WAIT, MAX_BODY, SECRET_HEADER, mount_telegram, secret_matches
from bot.core.engine import Engine
from bot.runtime import Runtime
from bot.server import build_app
from bot.store.extras import Stores
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore
from tests.fake_telegram import FakeBotApi, FakeRequest, message, private
from tests.servers import serving
from tests.sqlite_kit import raw
from tests.telegram_harness import telegram_runtime

SECRET = "s3cret-Webhook_token"


@asynccontextmanager
async def webhook(
    engine: Engine, store: Stores | None = None, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeBotApi, Runtime]]:
    """The webhook over real HTTP with the fake Bot API, on `store` (a fresh memory store if None)."""
    api = FakeBotApi()
    own = store or MemoryStore(engine.clock)
    runtime = telegram_runtime(engine, own, **settings)
    app = build_app(runtime, [mount_telegram(runtime, request=FakeRequest(api))])
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield client, api, runtime
    if store is None:
        await own.close()


def update(text: str, update_id: int = 1) -> dict[str, Any]:
    return {"update_id": update_id, **message(text)}


async def test_the_right_secret_is_answered(engine: Engine) -> None:
    async with webhook(engine, telegram_webhook_secret=SecretStr(SECRET)) as (client, api, _):
        assert [method for method, _ in api.calls] == ["getMe", "setMyCommands"]
        response = await client.post("/telegram", json=update("办签注要交钱吗"), headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200
        [sent] = api.sent()
        assert "费" in sent


async def test_a_wrong_or_missing_secret_is_refused(engine: Engine) -> None:
    async with webhook(engine, telegram_webhook_secret=SecretStr(SECRET)) as (client, api, runtime):
        wrong = await client.post("/telegram", json=update("你好"), headers={SECRET_HEADER: SECRET + "x"})
        missing = await client.post("/telegram", json=update("你好"))
        assert (wrong.status_code, missing.status_code) == (403, 403)
        assert api.sent() == []
        assert runtime.metrics.errors.value("telegram", "bad_secret") == 2


async def test_without_a_configured_secret_everything_is_refused(engine: Engine) -> None:
    async with webhook(engine) as (client, api, _):
        for headers in ({SECRET_HEADER: ""}, {SECRET_HEADER: "anything"}, {}):
            response = await client.post("/telegram", json=update("你好"), headers=headers)
            assert response.status_code == 403
        assert api.sent() == []


async def test_a_redelivered_update_runs_once(engine: Engine) -> None:
    async with webhook(engine, telegram_webhook_secret=SecretStr(SECRET)) as (client, api, runtime):
        for _ in range(2):
            response = await client.post("/telegram", json=update("/start", 77), headers={SECRET_HEADER: SECRET})
            assert response.status_code == 200
        assert len(api.sent()) == 1
        assert runtime.metrics.retries.value("telegram") == 1


async def test_a_body_that_is_not_an_update_is_a_bad_request(engine: Engine) -> None:
    async with webhook(engine, telegram_webhook_secret=SecretStr(SECRET)) as (client, _, _):
        headers = {SECRET_HEADER: SECRET}
        assert (await client.post("/telegram", content=b"{not json", headers=headers)).status_code == 400
        assert (await client.post("/telegram", json=[1, 2], headers=headers)).status_code == 400
        assert (await client.get("/telegram")).status_code == 405


def test_secret_comparison() -> None:
    assert secret_matches("abc", "abc")
    assert not secret_matches("abd", "abc")
    assert not secret_matches(None, "abc")
    assert not secret_matches("", "")
    assert not secret_matches("abc", None)


async def status_of_a_raw_post(client: httpx.AsyncClient, headers: str, chunks: list[bytes]) -> bytes:
    """Sends a POST /telegram by hand, never finishing its body, and returns the status line of the answer."""
    address = urlsplit(str(client.base_url))
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(f"POST /telegram HTTP/1.1\r\nHost: x\r\n{SECRET_HEADER}: {SECRET}\r\n{headers}\r\n".encode())
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
        async with asyncio.timeout(10):  # the body is not over: only an answer given while reading it comes
            return await reader.readline()
    finally:
        writer.close()


async def test_a_body_over_the_limit_is_refused_while_it_is_read(engine: Engine) -> None:
    """The answer comes as soon as the body passes 1 MB, or says it will: the rest is never read (D17)."""
    async with webhook(engine, telegram_webhook_secret=SecretStr(SECRET)) as (client, _, runtime):
        declared = await status_of_a_raw_post(client, "Content-Length: 50000000\r\n", [b"{" * 1000])
        chunk = b"x" * 65536
        chunked = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (MAX_BODY // len(chunk) + 2)  # no final 0 chunk
        streamed = await status_of_a_raw_post(client, "Transfer-Encoding: chunked\r\n", chunked)
        small = await client.post("/telegram", json=update("办签注要交钱吗", 5), headers={SECRET_HEADER: SECRET})
    assert declared.startswith(b"HTTP/1.1 413")
    assert streamed.startswith(b"HTTP/1.1 413")
    assert small.status_code == 200
    assert runtime.metrics.errors.value("telegram", "too_large") == 2


def from_user(n: int, text: str) -> dict[str, Any]:
    user = {"id": 9100 + n, "is_bot": False, "first_name": f"用户{n}"}
    return {"update_id": 500 + n, **message(text, user=user, chat=private(user))}


@pytest.mark.slow
async def test_a_locked_store_gets_503_at_once_and_each_update_is_handled_once(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another connection holds the SQLite write lock for 8 s (the review's row 2b): every delivery is
    answered 503 within CLAIM_WAIT, never with a traceback; Telegram's redeliveries after the lock are answered
    200, and each update is handled exactly once (whether its claim landed late or on the redelivery)."""
    store = await SqliteStore.open(tmp_path / "q.db", engine.clock)
    headers = {SECRET_HEADER: SECRET}
    updates = [from_user(n, "办签注要交钱吗") for n in range(3)]

    async def post(body: dict[str, Any]) -> tuple[float, int]:
        started = time.monotonic()
        response = await client.post("/telegram", json=body, headers=headers)
        return time.monotonic() - started, response.status_code

    with caplog.at_level(logging.WARNING):
        async with webhook(engine, store, telegram_webhook_secret=SecretStr(SECRET)) as (client, api, runtime):
            with raw(tmp_path / "q.db") as other:
                other.execute("BEGIN IMMEDIATE")
                during = await asyncio.gather(*(post(body) for body in updates))
                await asyncio.sleep(8 - CLAIM_WAIT)
                other.execute("ROLLBACK")
            after = [await post(body) for body in updates]  # Telegram delivering each again
            async with asyncio.timeout(10):
                while len(api.sent()) < len(updates):  # noqa: ASYNC110 - claims that landed late, handled now
                    await asyncio.sleep(0.05)
            again = [await post(body) for body in updates]
    await store.close()
    print(f"\nTelegram under an 8 s lock: {[f'{s:.2f} s -> {c}' for s, c in during]}")
    assert [code for _, code in during] == [503] * 3
    assert all(seconds < CLAIM_WAIT + 1 for seconds, _ in during)  # a liveness bound
    assert [code for _, code in after + again] == [200] * 6
    assert len(api.sent()) == 3
    assert sorted(str(params["chat_id"]) for params in api.called("sendMessage")) == ["9100", "9101", "9102"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert runtime.metrics.store_errors.value("telegram_once_claim") == 3
