"""`POST /telegram` for `qianzhu serve`: checks the secret, reads the update once, and hands it to PTB.

What the route answers tells Telegram whether to deliver the update again, so it follows what was done:

- 200 once the update was handled here, or was already handled (its once-only record says so): never twice;
- 503 when nothing was done because the store could not record the claim (an error, or no answer within
  CLAIM_WAIT seconds): Telegram delivers it again later. A claim that lands after the 503 is still honoured in
  the background, and the redelivery then finds it: handled once either way;
- 403, 400 and 413 for a wrong secret, a body that is not an update, and a body over MAX_BODY (refused while
  reading it, never buffered whole).

No store error reaches the server as an exception (a traceback and a 500 for Telegram to guess at).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.request import BaseRequest

from bot.channels.telegram.app import TelegramBot, guard_logs
from bot.channels.telegram.texts import load_texts
from bot.channels.telegram.translate import CHANNEL
from bot.core.errors import ContentError, StoreError
from bot.runtime import EXIT_CONTENT, Runtime, StartupFailed
from bot.server import Mounted

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000  # bytes; an update is a few kilobytes
SEEN_FOR = timedelta(hours=1)  # a redelivered update within this time is answered without running again
CLAIM_WAIT = 2.0  # seconds a request waits for its once-only claim before answering 503
DRAIN = 10.0  # seconds at shutdown for updates still being handled in the background


class TooLarge(Exception):
    """The body is, or says it is, over MAX_BODY."""


def secret_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; with no secret configured nothing matches."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


async def read_capped(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, read chunk by chunk and abandoned as soon as it passes `limit` (or says it will)."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


class Updates:
    """Handles each update once: claims it in the store, lets PTB process it, records it as done."""

    def __init__(self, runtime: Runtime, bot: TelegramBot) -> None:
        self._runtime = runtime
        self._bot = bot
        self._background: set[asyncio.Task[None]] = set()

    async def deliver(self, update: Update) -> int:
        """The status for this delivery of `update` (see the module's docstring)."""
        metrics, once = self._runtime.metrics, f"{CHANNEL}:update:{update.update_id}"
        claim = asyncio.ensure_future(self._runtime.store.claim_once(once, SEEN_FOR))
        done, _ = await asyncio.wait({claim}, timeout=CLAIM_WAIT)
        if not done:  # the store is slow or locked: Telegram will ask again; the claim may still land
            log.warning("the once-only record did not answer in %.0f s; answering 503", CLAIM_WAIT)
            metrics.store_errors.inc("telegram_once_claim")
            self._later(self._after(claim, once, update))
            return 503
        try:
            claimed = claim.result()
        except StoreError as exc:
            log.warning("the once-only record is unavailable (%s); answering 503", exc)
            metrics.store_errors.inc("telegram_once_claim")
            return 503
        if not claimed:
            metrics.retries.inc(CHANNEL)
            metrics.once_hits.inc(CHANNEL)
            return 200
        await self._process(once, update)
        return 200

    async def drain(self, grace: float = DRAIN) -> None:
        """At shutdown: lets updates whose claim landed late finish, then cancels what is left."""
        if not self._background:
            return
        _, pending = await asyncio.wait(set(self._background), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    def _later(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _after(self, claim: asyncio.Future[bool], once: str, update: Update) -> None:
        """A claim that landed after its request was answered 503 is still this process's to handle."""
        try:
            claimed = await claim
        except Exception as exc:  # nothing was recorded: the redelivery claims the update afresh
            log.warning("a late once-only claim failed too (%s)", type(exc).__name__)
            return
        if claimed:
            log.info("a once-only claim landed after its request was answered; handling the update now")
            await self._process(once, update)

    async def _process(self, once: str, update: Update) -> None:
        metrics = self._runtime.metrics
        try:
            await self._bot.application.process_update(update)  # handler errors end in the error handler
        except Exception:
            log.exception("an update could not be processed")
            metrics.errors.inc(CHANNEL, "handler")
        try:
            await self._runtime.store.finish_once(once, "done", SEEN_FOR)
        except StoreError as exc:  # the claim stays pending for SEEN_FOR: still no second run
            log.warning("could not record a handled update (%s)", exc)
            metrics.store_errors.inc("telegram_once_finish")


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
    updates = Updates(runtime, bot)
    secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
    if secret is None:
        log.warning("TELEGRAM_WEBHOOK_SECRET is not set: POST /telegram refuses every request")

    async def telegram_webhook(request: Request) -> Response:
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            runtime.metrics.errors.inc(CHANNEL, "bad_secret")
            return Response(status_code=403)
        try:
            body = await read_capped(request)
        except TooLarge:
            runtime.metrics.errors.inc(CHANNEL, "too_large")
            return Response(status_code=413)
        except ClientDisconnect:
            return Response(status_code=400)
        try:
            update = Update.de_json(json.loads(body), bot.application.bot)
        except Exception:  # not JSON, or not an update
            runtime.metrics.errors.inc(CHANNEL, "bad_update")
            return Response(status_code=400)
        return Response(status_code=await updates.deliver(update))

    async def stop() -> None:
        await updates.drain()
        await bot.stop()

    return Mounted(
        routes=[Route("/telegram", telegram_webhook, methods=["POST"])],
        startup=[bot.start],
        shutdown=[stop],
    )
