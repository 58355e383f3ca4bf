"""`POST /telegram` for `qianzhu serve`: checks the secret, reads the update once, and hands it to PTB."""

from __future__ import annotations

import hmac
import json
import logging
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.request import BaseRequest

from bot.channels.telegram.app import TelegramBot, guard_logs
from bot.channels.telegram.texts import load_texts
from bot.channels.telegram.translate import CHANNEL
from bot.cli.runtime import EXIT_CONTENT, Runtime, StartupFailed
from bot.core.errors import ContentError
from bot.server import Mounted

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000  # bytes; an update is a few kilobytes
SEEN_FOR = timedelta(hours=1)  # a redelivered update within this time is answered without running again


def secret_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; with no secret configured nothing matches."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def mount_telegram(runtime: Runtime, *, request: BaseRequest | None = None) -> Mounted:
    """The webhook route plus start-up and shut-down of the bot; `request` replaces the Bot API's HTTP layer."""
    settings = runtime.settings
    if settings.telegram_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    try:
        texts = load_texts(settings.content_dir)
    except ContentError as exc:
        raise StartupFailed(EXIT_CONTENT, f"内容文件有误，无法启动 / content error: {exc}") from exc
    guard_logs(settings.telegram_token, settings.log_level)
    bot = TelegramBot.create(runtime, texts, polling=False, request=request)
    secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
    if secret is None:
        log.warning("TELEGRAM_WEBHOOK_SECRET is not set: POST /telegram refuses every request")

    async def telegram_webhook(request: Request) -> Response:
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            runtime.metrics.errors.inc(CHANNEL, "bad_secret")
            return Response(status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413)
        try:
            update = Update.de_json(json.loads(body), bot.application.bot)
        except Exception:  # not JSON, or not an update
            runtime.metrics.errors.inc(CHANNEL, "bad_update")
            return Response(status_code=400)
        once = f"{CHANNEL}:update:{update.update_id}"
        if not await runtime.store.claim_once(once, SEEN_FOR):
            runtime.metrics.retries.inc(CHANNEL)
            return Response(status_code=200)
        await bot.application.process_update(update)  # handler errors end in the error handler, not here
        await runtime.store.finish_once(once, "done", SEEN_FOR)
        return Response(status_code=200)

    return Mounted(
        routes=[Route("/telegram", telegram_webhook, methods=["POST"])],
        startup=[bot.start],
        shutdown=[bot.stop],
    )
