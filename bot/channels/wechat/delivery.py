"""Answers that miss the passive-reply deadline go out afterwards: as a customer-service (客服) message when the
API is configured, else (or when that send fails) kept and sent with the user's next reply. Nothing is lost."""

from __future__ import annotations

import asyncio
import logging

from bot.channels.wechat import CHANNEL
from bot.channels.wechat.answers import Answers
from bot.channels.wechat.api import WeChatApi, WeChatApiError
from bot.channels.wechat.deferred import Composed, Deferred
from bot.channels.wechat.parse import Inbound
from bot.metrics import Metrics

log = logging.getLogger(__name__)


class LateDelivery:
    """Sends or keeps a late answer; never raises, so the once-only record is always finished.

    Each outcome is counted in `qianzhu_late_answers_total{channel="wechat",outcome=...}`: `sent` (客服 message),
    `deferred` (kept for the next message), `failed` (neither worked: the answer is lost); `delivered` counts
    kept answers that went out with a later reply (see Deferred).
    """

    def __init__(self, api: WeChatApi | None, deferred: Deferred, metrics: Metrics) -> None:
        self._api = api
        self._deferred = deferred
        self._metrics = metrics

    async def send(self, openid: str, user: str, composed: Composed) -> None:
        if not composed.text:
            return
        if self._api is not None:
            try:
                await self._api.send_text(openid, composed.text)
            except WeChatApiError as exc:
                log.warning("a late answer could not be sent as a customer-service message (%s); keeping it", exc)
                self._metrics.errors.inc(CHANNEL, "late_send_failed")
            else:
                log.info("a late answer went out as a customer-service message")
                self._metrics.late.inc(CHANNEL, "sent")
                return
        own = () if composed.own_kept else (composed.own,)
        try:
            kept = await self._deferred.keep(user, own, earlier=composed.earlier)
        except asyncio.CancelledError:  # shutdown came while the store was still failing
            log.error("a late answer was lost: the service stopped before the store could keep it")
            self._metrics.late.inc(CHANNEL, "failed")
            raise
        if kept:
            log.info("a late answer is kept for the user's next message")
            self._metrics.late.inc(CHANNEL, "deferred")
        else:
            self._metrics.late.inc(CHANNEL, "failed")


class Outgoing:
    """One message's answer on its way out: worked out inside the once-only gate (`work`), and handed to
    LateDelivery (`late`) if it missed the first delivery's budget."""

    __slots__ = ("_answers", "_composed", "_delivery", "_inbound", "_user")

    def __init__(self, answers: Answers, delivery: LateDelivery, inbound: Inbound, user: str) -> None:
        self._answers = answers
        self._delivery = delivery
        self._inbound = inbound
        self._user = user  # the user's pseudonymous key
        self._composed: Composed | None = None

    async def work(self) -> str:
        self._composed = await self._answers.compose(self._inbound, self._user)
        return self._composed.text

    async def late(self, text: str) -> None:
        composed = self._composed if self._composed is not None else Composed(text, text)
        await self._delivery.send(self._inbound.openid, self._user, composed)
