"""Exactly once: each delivery key is handled once, and every repeat of it gets the same answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.channels.wechat import CHANNEL
from bot.metrics import Metrics
from bot.store.extras import OnceStore

log = logging.getLogger(__name__)
PENDING_TTL = timedelta(seconds=60)  # WeChat's three deliveries span about 15 s
RESULT_TTL = timedelta(minutes=5)
NO_REPLY = ""  # the answer went out another way, or there is none: the delivery is answered "success"

Work = Callable[[], Awaitable[str]]
Late = Callable[[str], Awaitable[None]]


@dataclass
class _Running:
    answer: asyncio.Future[str]
    late: bool = False  # the first delivery gave up waiting: the answer must go out as a late message


class OnceGate:
    """Claims each key in the store, so the record holds across processes and restarts.

    The first delivery starts the work as a task of its own, which finishes even if the request is gone, and
    waits at most `deadline` seconds for it. A repeat in this process awaits the same task; a repeat in another
    process polls the store for the result. Work that misses the first delivery's deadline is handed to `late`
    (the customer-service message) and every delivery of it is answered "success".
    """

    def __init__(self, store: OnceStore, metrics: Metrics, deadline: float, poll_interval: float = 0.05) -> None:
        self._store = store
        self._metrics = metrics
        self._deadline = deadline
        self._poll_interval = poll_interval
        self._running: dict[str, _Running] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def answer(self, key: str, work: Work, late: Late) -> str:
        """The passive reply for one delivery of `key`: a text, or NO_REPLY."""
        running = self._running.get(key)
        if running is not None:
            self._metrics.retries.inc(CHANNEL)
            return await self._await(running, first=False, within=self._deadline)
        if not await self._claim(key):
            self._metrics.retries.inc(CHANNEL)
            return await self._poll(key)
        running = _Running(asyncio.get_running_loop().create_future())
        self._running[key] = running
        task = asyncio.create_task(self._complete(key, running, work, late))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await self._await(running, first=True, within=self._deadline)

    async def drain(self, grace: float = 10.0) -> None:
        """At shutdown: lets running work finish (and late answers go out), then cancels what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _await(self, running: _Running, first: bool, within: float) -> str:
        answer = running.answer
        if not answer.done():
            # asyncio.wait, pared down to the one future and the one timer this needs: it runs on every message.
            loop = asyncio.get_running_loop()
            woken = loop.create_future()

            def wake(_: object = None) -> None:
                if not woken.done():
                    woken.set_result(None)

            timer = loop.call_later(max(within, 0), wake)
            answer.add_done_callback(wake)
            try:
                await woken
            finally:
                timer.cancel()
                answer.remove_done_callback(wake)
                # Checking and marking happen with no await in between, and so does the task's reading of
                # `late` and its setting of the answer: the answer goes out passively or late, never both.
                if first and not answer.done():
                    running.late = True
        return answer.result() if answer.done() else NO_REPLY

    async def _complete(self, key: str, running: _Running, work: Work, late: Late) -> None:
        try:
            try:
                answer = await work()
            except Exception:  # the channel's one boundary for its own work: log without ids, answer nothing
                log.exception("a WeChat message could not be answered")
                self._metrics.errors.inc(CHANNEL, "handler")
                answer = NO_REPLY
            if running.late:
                running.answer.set_result(NO_REPLY)
                try:
                    await late(answer)
                except Exception:  # the record must still be finished, or repeats would wait for nothing
                    log.exception("a late answer could not be handed over")
                    self._metrics.errors.inc(CHANNEL, "handler")
                answer = NO_REPLY
            else:
                running.answer.set_result(answer)
            await self._finish(key, answer)
        finally:
            self._running.pop(key, None)
            if not running.answer.done():  # cancelled at shutdown
                running.answer.set_result(NO_REPLY)

    async def _claim(self, key: str) -> bool:
        try:
            return await self._store.claim_once(key, PENDING_TTL)
        except Exception:  # availability first: without the record a repeat may be answered twice
            log.warning("the once-only record is unavailable; handling this delivery without it", exc_info=True)
            self._metrics.errors.inc(CHANNEL, "once_store")
            return True

    async def _finish(self, key: str, answer: str) -> None:
        try:
            await self._store.finish_once(key, answer, RESULT_TTL)
        except Exception:
            log.warning("could not record a finished delivery", exc_info=True)
            self._metrics.errors.inc(CHANNEL, "once_store")

    async def _poll(self, key: str) -> str:
        """A repeat whose first delivery runs elsewhere: its result, if it lands within the deadline."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self._deadline
        pause = self._poll_interval
        while True:
            running = self._running.get(key)  # the claim raced with a first delivery in this process
            if running is not None:
                return await self._await(running, first=False, within=give_up - loop.time())
            try:
                result = await self._store.once_result(key)
            except Exception:
                result = None
            if result is not None:
                return result
            remaining = give_up - loop.time()
            if remaining <= 0:
                return NO_REPLY
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.5)
