"""POST /telegram over real HTTP: the secret header decides, each update runs once, start-up sets commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from bot.channels.telegram.webhook import SECRET_HEADER, mount_telegram, secret_matches
from bot.cli.runtime import Runtime
from bot.core.engine import Engine
from bot.server import build_app
from bot.store.memory import MemoryStore
from tests.fake_telegram import FakeBotApi, FakeRequest, message
from tests.servers import serving
from tests.telegram_harness import telegram_runtime

SECRET = "s3cret-Webhook_token"


@asynccontextmanager
async def webhook(engine: Engine, **settings: Any) -> AsyncIterator[tuple[httpx.AsyncClient, FakeBotApi, Runtime]]:
    api = FakeBotApi()
    store = MemoryStore(engine.clock)
    runtime = telegram_runtime(engine, store, **settings)
    app = build_app(runtime, [mount_telegram(runtime, request=FakeRequest(api))])
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        yield client, api, runtime
    await store.close()


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
