"""The real Telegram channel, built through the real ApplicationBuilder, talking to the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr
from telegram import Update

from bot.channels.telegram.app import TelegramBot
from bot.channels.telegram.delivery import Retrying
from bot.channels.telegram.texts import TelegramTexts, load_texts
from bot.core.engine import Engine
from bot.metrics import Metrics
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.extras import Stores
from tests.fake_telegram import TOKEN, FakeBotApi, FakeRequest


@dataclass
class Sleeps:
    """Stands in for asyncio.sleep: records how long the code wanted to wait, and returns at once."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def telegram_runtime(engine: Engine, store: Stores, **settings: Any) -> Runtime:
    metrics = Metrics()
    engine = engine.with_store(store, engine.clock, observer=metrics.observe_turn)
    values: dict[str, Any] = {"db": "memory:", "telegram_token": SecretStr(TOKEN), **settings}
    return Runtime(Settings(**values), engine.catalog, engine.clock, store, metrics, engine)


@dataclass
class Harness:
    api: FakeBotApi
    bot: TelegramBot
    runtime: Runtime
    sleeps: Sleeps

    @property
    def texts(self) -> TelegramTexts:
        return self.bot.channel.texts

    async def send(self, update: dict[str, Any]) -> None:
        """Feeds one update as PTB would after fetching it."""
        application = self.bot.application
        parsed = Update.de_json({"update_id": 1, **update}, application.bot)
        await application.process_update(parsed)


@asynccontextmanager
async def running_bot(engine: Engine, store: Stores) -> AsyncIterator[Harness]:
    api, sleeps = FakeBotApi(), Sleeps()
    runtime = telegram_runtime(engine, store)
    bot = TelegramBot.create(
        runtime, load_texts(), polling=False, request=FakeRequest(api), retrying=Retrying(sleep=sleeps)
    )
    await bot.start()
    try:
        yield Harness(api, bot, runtime, sleeps)
    finally:
        await bot.stop()
