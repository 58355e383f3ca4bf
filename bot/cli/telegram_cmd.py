"""`qianzhu telegram`: long polling until SIGTERM or Ctrl-C; `qianzhu telegram set-webhook URL`."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import signal
import socket
import sys

from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from bot import exits
from bot.channels.telegram.app import ALLOWED_UPDATES, TelegramBot, file_url, guard_logs
from bot.channels.telegram.texts import TelegramTexts, load_texts
from bot.core.errors import ContentError, StoreError
from bot.runtime import EXIT_CONFIG, EXIT_CONTENT, Runtime, StartupFailed, warn_if_unsalted
from bot.settings import Settings
from bot.store.lease import Lease

log = logging.getLogger(__name__)
POLL_TIMEOUT = 30  # seconds one getUpdates call may wait for news
EXIT_UNREACHABLE = exits.TELEGRAM_UNREACHABLE  # worth restarting, unlike EXIT_CONFIG


def _texts(settings: Settings) -> TelegramTexts:
    try:
        return load_texts(settings.content_dir)
    except ContentError as exc:
        raise StartupFailed(EXIT_CONTENT, f"内容文件有误，无法启动 / content error: {exc}") from exc


def _safe(error: Exception, settings: Settings) -> str:
    """The error's message, never with the token in it."""
    text = str(error)
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    return text.replace(token, "<token>") if token else text


def start_failure(error: Exception, settings: Settings, texts: TelegramTexts | None = None) -> tuple[int, str] | None:
    """The exit code and message for a Bot API error at start-up, or None when it is not one."""
    texts = texts or _texts(settings)
    if isinstance(error, InvalidToken):
        return EXIT_CONFIG, texts.cli.bad_token.format(error=_safe(error, settings))
    if isinstance(error, BadRequest):  # a NetworkError in PTB's hierarchy, but a refusal, not an outage
        return EXIT_CONFIG, texts.cli.refused.format(error=_safe(error, settings))
    if isinstance(error, NetworkError):
        return EXIT_UNREACHABLE, texts.cli.unreachable.format(error=_safe(error, settings))
    return None


async def run_polling(runtime: Runtime) -> int:
    settings = runtime.settings
    texts = _texts(settings)
    if settings.telegram_token is None:
        print(texts.cli.missing_token, file=sys.stderr)
        return EXIT_CONFIG
    guard_logs(settings.telegram_token, settings.log_level)
    warn_if_unsalted(settings)
    bot = TelegramBot.create(runtime, texts, polling=True)
    updater = bot.application.updater
    assert updater is not None  # built with polling=True
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    lease = poll_lease(runtime)
    renewing: asyncio.Task[None] | None = None
    lost = asyncio.Event()
    try:
        if not await wait_for_lease(lease, stop):
            return 0  # stopped while waiting
        renewing = asyncio.create_task(keep_lease(lease, stop, lost))
        await bot.start()
        await updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
        await bot.application.start()
        log.info("polling Telegram as @%s", bot.application.bot.username)
        await stop.wait()
    except TelegramError as exc:
        failure = start_failure(exc, settings, texts)
        if failure is None:
            raise
        print(failure[1], file=sys.stderr)
        return failure[0]
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        # Stop fetching first, then let the application answer what it already fetched, then stop the rest.
        if updater.running:
            await updater.stop()
        if bot.application.running:
            await bot.application.stop()
        await bot.stop()
        if renewing is not None:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
        await release_quietly(lease)
    return exits.FAILED if lost.is_set() else 0


def poll_lease(runtime: Runtime) -> Lease:
    """The lease on this bot token's updates, shared by every `qianzhu telegram` on the same store."""
    token = runtime.settings.telegram_token
    digest = hashlib.sha256(token.get_secret_value().encode() if token else b"").hexdigest()[:16]
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    return Lease(runtime.store, f"telegram:{digest}", owner, runtime.clock, runtime.settings.poll_lease)


async def wait_for_lease(lease: Lease, stop: asyncio.Event) -> bool:
    """True once this process holds the lease; False if stopped first. Says once that it is waiting."""
    said = False
    while not stop.is_set():
        try:
            if await lease.acquire():
                if said:
                    log.warning("took over polling: the other poller's lease ended")
                return True
        except StoreError as exc:
            log.warning("the store is unreachable (%s); trying again", type(exc).__name__)
        if not said:
            log.warning(
                "another qianzhu telegram polls this bot; waiting for its lease (QIANZHU_POLL_LEASE=%.0f s). "
                "For several processes, use the webhook (qianzhu serve) instead.",
                lease.ttl,
            )
            said = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), lease.ttl / 3)
    return False


async def keep_lease(lease: Lease, stop: asyncio.Event, lost: asyncio.Event) -> None:
    """Renews the lease every third of its ttl; if another process took it over, polling stops (exit 1, so
    that a supervisor restarts this one as a waiting poller)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), lease.ttl / 3)
        if stop.is_set():
            return
        try:
            held = await lease.acquire()
        except StoreError as exc:  # keep polling: nobody else can take a lease from an unreachable store either
            log.warning("the poll lease could not be renewed (%s); trying again", type(exc).__name__)
            continue
        if not held:
            log.error("another poller took over this bot's updates; stopping")
            lost.set()
            stop.set()
            return


async def release_quietly(lease: Lease) -> None:
    try:
        await lease.release()
    except StoreError as exc:
        log.warning("the poll lease was not released (%s); it ends by itself", type(exc).__name__)


async def set_webhook(settings: Settings, url: str) -> int:
    texts = _texts(settings)
    if settings.telegram_token is None:
        print(texts.cli.missing_token, file=sys.stderr)
        return EXIT_CONFIG
    if settings.telegram_webhook_secret is None:
        print(texts.cli.missing_secret, file=sys.stderr)
        return EXIT_CONFIG
    guard_logs(settings.telegram_token, settings.log_level)
    base = settings.telegram_api_base_url
    files = file_url(base)
    token = settings.telegram_token.get_secret_value()
    bot = Bot(token, base_url=base, base_file_url=files) if files else Bot(token, base_url=base)
    try:
        async with bot:
            await bot.set_webhook(
                url, secret_token=settings.telegram_webhook_secret.get_secret_value(), allowed_updates=ALLOWED_UPDATES
            )
    except TelegramError as exc:
        print(texts.cli.webhook_failed.format(error=_safe(exc, settings)), file=sys.stderr)
        return EXIT_CONFIG
    print(texts.cli.webhook_set.format(url=url))
    return 0
