"""Answers kept for the user's next message, when neither the passive reply nor a customer-service message
could carry them (a 订阅号 cannot send customer-service messages; a send can fail)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.channels.wechat import CHANNEL
from bot.channels.wechat.replies import fit
from bot.channels.wechat.texts import MAX_TEXT_BYTES, WechatTexts
from bot.core.errors import StoreError
from bot.metrics import Metrics
from bot.store.base import Store

log = logging.getLogger(__name__)
SUFFIX = ":later"  # the kept answers' key: the user's pseudonymous key plus this
MAX_KEPT = 10  # per user; a user can only fall this far behind while the store or the API is failing
# Seconds before each try to keep an answer: about a minute of store trouble, on top of each try's own busy wait.
KEEP_PAUSES = (0.0, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0)
GAP = "\n\n"


@dataclass(frozen=True, slots=True)
class Composed:
    """What goes out for one message: its own answer, after any answers kept for the user."""

    text: str  # the reply
    own: str = ""  # this message's own answer
    earlier: tuple[str, ...] = ()  # kept answers the text carries; they are out of the store now
    own_kept: bool = False  # the own answer did not fit beside them: it is in the store for the next message


def _size(text: str) -> int:
    return len(text.encode())


def without_choices(answer: str, texts: WechatTexts) -> str:
    """The answer without its numbered choices: a number the user sends picks from the newest turn's choices,
    so an older answer that is shown again must not offer its own."""
    cut = answer.rfind(GAP + texts.choices_heading + "\n")
    return answer[:cut] if cut > 0 else answer


def combine(kept: Sequence[str], own: str, texts: WechatTexts, limit: int = MAX_TEXT_BYTES) -> tuple[str, int, bool]:
    """The reply carrying the oldest kept answers first, then `own`: (text, kept answers carried, own carried).

    Everything, when it fits in one passive reply. Otherwise the kept answers that fit and the `held` line: the
    own answer waits for the next message, so the oldest answer always goes out first, and whole. An oldest
    answer too long for the lines around it (answers are up to 2,048 bytes themselves) goes out alone, or
    with just the `earlier` line, and the own answer waits without a word: it comes next time, under `earlier`.
    """
    if not kept:
        return own, 0, True
    head = [texts.earlier, *kept]
    whole = GAP.join([*head, texts.now, own])
    if _size(whole) <= limit:
        return whole, len(kept), True
    room = limit - _size(GAP + texts.held)
    carried = 0
    while carried < len(kept) and _size(GAP.join(head[: carried + 2])) <= room:
        carried += 1
    if carried:
        return GAP.join(head[: carried + 1]) + GAP + texts.held, carried, False
    for text in (GAP.join(head[:2]), kept[0]):
        if _size(text) <= limit:
            return text, 1, False
    return fit(kept[0], "", texts, limit), 1, False  # only a hand-edited store holds an answer this long


class Deferred:
    """The answers kept for each user, oldest first, as a small JSON list in the store beside the session."""

    def __init__(
        self,
        store: Store,
        texts: WechatTexts,
        metrics: Metrics,
        pauses: Sequence[float] = KEEP_PAUSES,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._texts = texts
        self._metrics = metrics
        self._pauses = tuple(pauses)
        self._sleep = sleep

    async def attach(self, user: str, own: str) -> Composed:
        """`own` (this message's answer), after the answers kept for `user`, which leave the store.

        If the store cannot be read or written, the reply is `own` alone and the kept answers stay where they
        are, for a later message: shown twice rather than never.
        """
        key = user + SUFFIX
        try:
            if await self._store.load(key) is None:  # nearly always: a look without the lock, on every message
                return Composed(own, own)
            async with self._store.lock(key):
                document = await self._store.load(key)
                if document is None:
                    return Composed(own, own)
                kept = _parse(document)
                shown = without_choices(own, self._texts)
                fresh = [answer for answer in kept if answer != shown]  # asked again after getting nothing
                text, carried, fits = combine(fresh, own, self._texts)
                rest = fresh[carried:] if fits else [*fresh[carried:], shown]
                if rest:
                    await self._store.save(key, _dump(rest))
                else:
                    await self._store.delete(key)
        except StoreError as exc:
            log.warning("the kept answers could not be read or updated (%s); replying without them", exc)
            self._metrics.store_errors.inc("wechat_later_take")
            return Composed(own, own)
        delivered = len(kept) - len(fresh) + carried
        if delivered:
            self._metrics.late.inc(CHANNEL, "delivered", amount=delivered)
        return Composed(text, own, tuple(fresh[:carried]), own_kept=not fits)

    async def keep(self, user: str, answers: Sequence[str], earlier: Sequence[str] = ()) -> bool:
        """Adds `answers` after the user's kept answers and puts `earlier` (taken out for a reply that then
        could not go out) back before them. Tries again for about a minute while the store fails; False if the
        answers could still not be kept."""
        front = [without_choices(a, self._texts) for a in earlier if a]
        back = [without_choices(a, self._texts) for a in answers if a]
        if not front and not back:
            return True
        key = user + SUFFIX
        for pause in self._pauses:
            if pause:
                await self._sleep(pause)
            try:
                async with self._store.lock(key):
                    document = await self._store.load(key)
                    kept = [*front, *(_parse(document) if document is not None else []), *back]
                    await self._store.save(key, _dump(kept[-MAX_KEPT:]))
            except StoreError as exc:
                log.warning("a late answer could not be kept yet (%s); trying again", type(exc).__name__)
                self._metrics.store_errors.inc("wechat_later_keep")
                continue
            if len(kept) > MAX_KEPT:
                log.warning("a user had more than %d kept answers; the oldest were dropped", MAX_KEPT)
            return True
        log.error("a late answer could not be kept: the store kept failing")
        return False


def _parse(document: str) -> list[str]:
    try:
        loaded = json.loads(document)
    except ValueError:
        return []
    return [item for item in loaded if isinstance(item, str) and item] if isinstance(loaded, list) else []


def _dump(answers: Sequence[str]) -> str:
    return json.dumps(list(answers), ensure_ascii=False)
