"""Answers that miss the passive-reply deadline go out afterwards as customer-service (客服) messages."""

from __future__ import annotations

import logging

from bot.channels.wechat import CHANNEL
from bot.channels.wechat.api import WeChatApi, WeChatApiError
from bot.metrics import Metrics

log = logging.getLogger(__name__)


class LateDelivery:
    """Sends a late answer through the API; never raises, so the once-only record is always finished."""

    def __init__(self, api: WeChatApi | None, metrics: Metrics) -> None:
        self._api = api
        self._metrics = metrics

    async def send(self, openid: str, text: str) -> None:
        if not text:
            return
        if self._api is None:
            log.warning(
                "an answer missed the passive-reply deadline and WECHAT_APPID/WECHAT_APPSECRET are not set, "
                "so it could not be sent as a customer-service message"
            )
            self._metrics.errors.inc(CHANNEL, "late_undelivered")
            return
        try:
            await self._api.send_text(openid, text)
        except WeChatApiError as exc:
            log.warning("a late answer could not be sent as a customer-service message: %s", exc)
            self._metrics.errors.inc(CHANNEL, "late_send_failed")
            return
        log.info("a late answer went out as a customer-service message")
