"""Calls to the Bot API that honour flood control and retry network errors with backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, InputFile, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.channels.telegram.translate import Outgoing

log = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
MAX_FLOOD_WAIT = 300.0  # a longer RetryAfter is not waited out inside one call


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass(frozen=True)
class Retrying:
    """Runs a Bot API call up to `attempts` times: waits out RetryAfter, backs off on network errors and
    timeouts (1 s, 2 s, 4 s, …), and raises anything else (Forbidden, BadRequest, …) at once."""

    sleep: Sleep = asyncio.sleep
    attempts: int = 4
    backoff: float = 1.0

    async def call(self, action: Callable[[], Awaitable[T]]) -> T:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return await action()
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                if attempt == self.attempts or wait > MAX_FLOOD_WAIT:
                    raise
                log.warning("Telegram flood control: waiting %.0f s", wait)
                await self.sleep(wait)
            except BadRequest:  # a NetworkError in PTB's hierarchy, but retrying cannot help
                raise
            except NetworkError as exc:  # includes TimedOut
                if attempt == self.attempts:
                    raise
                log.warning("Telegram API call failed (%s); retrying in %.0f s", type(exc).__name__, delay)
                await self.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # the loop always returns or raises


async def send(
    bot: Bot, retrying: Retrying, chat_id: int | str, outgoing: Outgoing, reply_to: int | None = None
) -> Message:
    """Sends one piece as HTML, without link previews; in groups it answers the message it replies to."""
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to is not None else None
    return await retrying.call(
        lambda: bot.send_message(
            chat_id=chat_id,
            text=outgoing.html,
            parse_mode=ParseMode.HTML,
            reply_markup=outgoing.markup,
            reply_parameters=reply,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    )


async def send_file(
    bot: Bot,
    retrying: Retrying,
    chat_id: int | str,
    data: bytes,
    filename: str,
    caption: Outgoing,
    reply_to: int | None = None,
) -> Message:
    """Sends a file as a document with an HTML caption (and the caption's keyboard)."""
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to is not None else None
    return await retrying.call(
        lambda: bot.send_document(
            chat_id=chat_id,
            document=InputFile(data, filename=filename),
            caption=caption.html,
            parse_mode=ParseMode.HTML,
            reply_markup=caption.markup,
            reply_parameters=reply,
        )
    )
