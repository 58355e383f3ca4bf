"""Exactly once within a deadline: each delivery key is handled once, every repeat of it gets the same answer,
and no delivery waits for the store past its passive-reply budget."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.channels.wechat import CHANNEL
from bot.channels.wechat.budget import Budget, eager
from bot.core.errors import StoreError
from bot.metrics import Metrics
from bot.store.extras import OnceStore

log = logging.getLogger(__name__)
# A pending claim lives this long past the reply timeout. Its owner has answered or given up by then, so a claim
# still pending later was left by a process that died, and a redelivery may take it over (D13).
PENDING_MARGIN = 2.0  # seconds
RESULT_TTL = timedelta(seconds=60)  # WeChat's three deliveries span about 15 s; nothing asks for a result later
POLL_CEILING = 0.5  # seconds between two looks at another process's claim, at most
NO_REPLY = ""  # the answer went out another way, or there is none: the delivery is answered "success"

Work = Callable[[], Awaitable[str]]
Late = Callable[[str], Awaitable[None]]


@dataclass
class _Running:
    answer: asyncio.Future[str]
    late: bool = False  # the first delivery gave up waiting: the answer must go out as a late message


class OnceGate:
    """Claims each key in the store, so the record holds across processes and restarts.

    The first delivery of a key in this process starts a job of its own, which outlives the request: it claims
    the key, or, when another process holds the claim, waits for that process's result (and takes the claim over
    if it expires unfinished); then it runs the work and records the answer. The delivery itself waits for that
    job only until its budget (see `Budget`) runs out, and repeats in this process wait for the same job.
    Work that misses the first delivery's budget is handed to `late` (a customer-service message, or kept for
    the user's next message) and every delivery of it is answered "success". So a locked store delays answers,
    never the reply WeChat waits for.
    """

    def __init__(self, store: OnceStore, metrics: Metrics, deadline: float, poll_interval: float = 0.05) -> None:
        self._store = store
        self._metrics = metrics
        self._deadline = deadline
        self._pending_ttl = timedelta(seconds=deadline + PENDING_MARGIN)
        self._poll_interval = poll_interval
        self._running: dict[str, _Running] = {}
        self._tasks: set[asyncio.Future[None]] = set()

    def budget(self) -> Budget:
        """A request's budget, started now: call it when the request arrives."""
        return Budget(self._deadline)

    async def answer(self, key: str, work: Work, late: Late, budget: Budget) -> str:
        """The passive reply for one delivery of `key`: a text, or NO_REPLY; ready by the budget's deadline."""
        running = self._running.get(key)
        if running is not None:
            self._metrics.retries.inc(CHANNEL)
            return await self._await(running, budget, first=False)
        running = _Running(asyncio.get_running_loop().create_future())
        self._running[key] = running
        settling = eager(self._settle(key, running, work, late))  # mostly done at once: nothing had to wait
        if not settling.done():
            self._tasks.add(settling)
            settling.add_done_callback(self._tasks.discard)
        return await self._await(running, budget, first=True)

    async def drain(self, grace: float = 10.0) -> None:
        """At shutdown: lets running work finish (and late answers go out), then cancels what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _await(self, running: _Running, budget: Budget, first: bool) -> str:
        answer = running.answer
        if not answer.done():
            # asyncio.wait, pared down to the one future and the one timer this needs: it runs on every message.
            loop = asyncio.get_running_loop()
            woken = loop.create_future()

            def wake(_: object = None) -> None:
                if not woken.done():
                    woken.set_result(None)

            timer = loop.call_at(budget.deadline, wake)
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

    async def _settle(self, key: str, running: _Running, work: Work, late: Late) -> None:
        try:
            if not await self._claim(key):
                self._metrics.retries.inc(CHANNEL)
                result = await self._poll(key)
                if result is not None:
                    running.answer.set_result(result)
                    return
            await self._complete(key, running, work, late)
        finally:
            self._running.pop(key, None)
            if not running.answer.done():  # cancelled at shutdown
                running.answer.set_result(NO_REPLY)

    async def _complete(self, key: str, running: _Running, work: Work, late: Late) -> None:
        try:
            answer = await work()
        except Exception:  # the channel's one boundary for its own work: log without ids, answer nothing
            log.exception("a WeChat message could not be answered")
            self._metrics.errors.inc(CHANNEL, "handler")
            answer = NO_REPLY
        if not running.late:
            running.answer.set_result(answer)
            await self._finish(key, answer)
            return
        running.answer.set_result(NO_REPLY)
        await self._finish(key, NO_REPLY)  # before the late answer, which may take a while: repeats say "success"
        try:
            await late(answer)
        except Exception:
            log.exception("a late answer could not be handed over")
            self._metrics.errors.inc(CHANNEL, "handler")

    async def _claim(self, key: str) -> bool:
        try:
            return await self._store.claim_once(key, self._pending_ttl)
        except Exception as exc:  # availability first: without the record a repeat may be answered twice
            log.warning("the once-only record is unavailable (%s); handling this delivery without it", _why(exc))
            self._metrics.errors.inc(CHANNEL, "once_store")
            self._metrics.store_errors.inc("wechat_once_claim")
            return True

    async def _finish(self, key: str, answer: str) -> None:
        try:
            await self._store.finish_once(key, answer, RESULT_TTL)
        except Exception as exc:
            log.warning("could not record a finished delivery (%s)", _why(exc))
            self._metrics.errors.inc(CHANNEL, "once_store")
            self._metrics.store_errors.inc("wechat_once_finish")

    async def _poll(self, key: str) -> str | None:
        """Another process holds the claim: its result, or None once this delivery may run the work itself.

        This runs in the background, past the delivery's own budget if need be: once the delivery is answered
        "success", WeChat sends the message no more, so this is the last chance to answer it. A claim still
        pending after its lifetime belonged to a process that died: it is taken over (at least once beats
        never). A store that refuses every look for two lifetimes gets the existing answer to an unusable
        record: handle the message without it.
        """
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 2 * self._pending_ttl.total_seconds()
        pause = self._poll_interval
        while True:
            try:
                result = await self._store.once_result(key)
            except Exception:
                self._metrics.store_errors.inc("wechat_once_poll")
                result = None
            if result is not None:
                self._metrics.once_hits.inc(CHANNEL)
                return result
            if loop.time() >= give_up:
                log.warning("a once-only claim stayed unreadable; handling this delivery without it")
                self._metrics.errors.inc(CHANNEL, "once_store")
                return None
            await asyncio.sleep(pause)
            pause = min(pause * 2, POLL_CEILING)
            if await self._take_over(key):
                return None

    async def _take_over(self, key: str) -> bool:
        try:
            taken = await self._store.claim_once(key, self._pending_ttl)
        except Exception:
            self._metrics.store_errors.inc("wechat_once_poll")
            return False
        if taken:
            log.warning("took over a once-only claim that its process left unfinished; handling the delivery here")
            self._metrics.errors.inc(CHANNEL, "claim_taken_over")
        return taken


def _why(error: Exception) -> str:
    """One line about a store failure (an outage is expected now and then: no traceback); anything else in full."""
    if isinstance(error, StoreError):
        return f"{type(error).__name__}: {error}"
    log.debug("store call failed", exc_info=error)
    return repr(error)
