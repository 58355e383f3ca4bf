"""Builds, starts and stops the python-telegram-bot Application that both polling and the webhook use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr
from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.delivery import Retrying
from bot.channels.telegram.handlers import COMMANDS, Handlers
from bot.channels.telegram.reminders import ReminderLoop
from bot.channels.telegram.texts import TelegramTexts
from bot.runtime import Runtime

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
STOP_WAIT = 10.0  # seconds the reminder loop gets to finish at shut-down


class RedactToken(logging.Filter):
    """Replaces the bot token in a log record, or drops the record when `drop` is set."""

    def __init__(self, token: str, drop: bool = False) -> None:
        super().__init__()
        self.token, self.drop = token, drop

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token and self.token in message:
            if self.drop:
                return False
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def _install(target: logging.Filterer, redact: RedactToken) -> None:
    for old in [f for f in target.filters if isinstance(f, RedactToken)]:
        target.removeFilter(old)
    target.addFilter(redact)


def guard_logs(token: SecretStr, log_level: str) -> None:
    """Keeps the token, chat ids and texts out of the logs. python-telegram-bot logs only warnings, and at
    DEBUG also its INFO lines, never its DEBUG ones: those carry every Bot API call's parameters and results
    (chat ids, reply texts). httpx's request lines for the Bot API (their URLs hold the token) are dropped,
    and at DEBUG redacted. The httpx logger's level is left alone, as the WeChat channel shares it. Every root
    handler redacts too."""
    secret, debug = token.get_secret_value(), log_level == "DEBUG"
    logging.getLogger("telegram").setLevel(logging.INFO if debug else logging.WARNING)
    _install(logging.getLogger("httpx"), RedactToken(secret, drop=not debug))
    for handler in logging.getLogger().handlers:
        _install(handler, RedactToken(secret))


def file_url(base_url: str) -> str | None:
    """The file URL that goes with a Bot API URL ending in /bot, as on api.telegram.org and local servers."""
    return f"{base_url.removesuffix('/bot')}/file/bot" if base_url.endswith("/bot") else None


def build_application(
    token: SecretStr, base_url: str, *, polling: bool, request: BaseRequest | None = None
) -> TelegramApp:
    """The Application; `request` replaces the HTTP layer (both for getUpdates and for every other call)."""
    builder = ApplicationBuilder().token(token.get_secret_value()).base_url(base_url).job_queue(None)
    files = file_url(base_url)
    if files is not None:
        builder = builder.base_file_url(files)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if not polling:
        builder = builder.updater(None)
    return builder.build()


@dataclass
class TelegramBot:
    """The application with our handlers, its command menu and the reminder loop."""

    application: TelegramApp
    channel: TelegramChannel
    reminders: ReminderLoop
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _loop_task: asyncio.Task[None] | None = None

    @classmethod
    def create(
        cls,
        runtime: Runtime,
        texts: TelegramTexts,
        *,
        polling: bool,
        request: BaseRequest | None = None,
        retrying: Retrying | None = None,
    ) -> TelegramBot:
        """`request` replaces the Bot API's HTTP layer and `retrying` the waits between retries (for tests)."""
        token = runtime.settings.telegram_token
        if token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        application = build_application(token, runtime.settings.telegram_api_base_url, polling=polling, request=request)
        channel = TelegramChannel.create(runtime, texts, retrying)
        Handlers(channel).register(application)
        loop = ReminderLoop(application.bot, runtime.store, runtime.clock, runtime.metrics, channel.retrying)
        return cls(application, channel, loop)

    async def start(self) -> None:
        """Initialises the application (getMe), sets the command menu and starts the reminder loop."""
        await self.application.initialize()
        descriptions = self.channel.texts.commands
        commands = [BotCommand(name, getattr(descriptions, name)) for name in COMMANDS]
        await self.channel.retrying.call(lambda: self.application.bot.set_my_commands(commands))
        self._stop.clear()
        self._loop_task = asyncio.create_task(self.reminders.run(self._stop), name="qianzhu-telegram-reminders")

    async def stop(self) -> None:
        """Lets the reminder loop finish its current reminder, then shuts the application down."""
        self._stop.set()
        task, self._loop_task = self._loop_task, None
        if task is not None:
            done, _ = await asyncio.wait([task], timeout=STOP_WAIT)
            if not done:  # stuck waiting out flood control: a claimed reminder is dropped, never sent twice
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.application.shutdown()
        await self.application.bot.shutdown()  # closes its HTTP clients even when getMe failed at start-up
