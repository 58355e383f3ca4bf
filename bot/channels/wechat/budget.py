"""The passive-reply budget: one deadline per request, from its arrival, that bounds every wait before the reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
_overdue: set[asyncio.Future[Any]] = set()  # jobs that outlived their budget: kept referenced until they end


class OutOfTime(Exception):
    """The budget ran out before the job finished; the job itself goes on in the background."""


class Budget:
    """The event-loop time by which a passive reply must be ready: the request's arrival plus the reply timeout.

    WeChat gives up after 5 s, whatever the reason. So every wait before the reply (the (timestamp, nonce)
    memory, the once-only claim, polling for another process's result, the engine's turn with its store calls)
    is bounded by this one moment rather than by a timeout of its own: waits cannot add up past it.
    """

    __slots__ = ("_loop", "deadline")

    def __init__(self, seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self.deadline = self._loop.time() + seconds

    def left(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self.deadline - self._loop.time()

    async def within(self, job: Coroutine[Any, Any, T]) -> T:
        """The job's result (or its exception) if it ends in time, else OutOfTime.

        A job that misses the deadline is not cancelled but left to finish: a store call on SQLite's worker
        thread cannot be stopped halfway, and abandoning its await would let the next statement share the
        connection with it. Its outcome is only logged.
        """
        task = eager(job)
        if not task.done():
            woken = self._loop.create_future()

            def wake(_: object = None) -> None:
                if not woken.done():
                    woken.set_result(None)

            timer = self._loop.call_at(self.deadline, wake)
            task.add_done_callback(wake)
            try:
                await woken
            finally:
                timer.cancel()
                task.remove_done_callback(wake)
                if not task.done():  # out of time, or this request was cancelled
                    _overdue.add(task)
                    task.add_done_callback(_settled)
            if not task.done():
                raise OutOfTime
        return task.result()


def eager(job: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    """`job`, started at once: a future that is already done if the job finished without waiting (a store call
    that ran inline, the usual case), else a Task that goes on from the job's first wait.

    This is Python 3.12's eager task start, pared down: a Task costs an extra turn of the event loop before its
    first step, and these jobs run on every message.
    """
    try:
        waiting = job.send(None)
    except StopIteration as stop:
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        done.set_result(stop.value)
        return done
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        failed: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        failed.set_exception(exc)
        return failed
    return asyncio.ensure_future(_Started(job, waiting))


class _Started(Generic[T]):
    """A coroutine that already ran to its first wait, as an awaitable that goes on from there: it hands the
    awaited future to the Task that drives it, and whatever the Task sends or throws back to the coroutine."""

    __slots__ = ("_job", "_waiting")

    def __init__(self, job: Coroutine[Any, Any, T], waiting: Any) -> None:
        self._job = job
        self._waiting = waiting

    def __await__(self) -> Generator[Any, Any, T]:
        job, waiting = self._job, self._waiting
        while True:
            try:
                sent = yield waiting
            except GeneratorExit:
                job.close()
                raise
            except BaseException as exc:
                try:
                    waiting = job.throw(exc)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
            else:
                try:
                    waiting = job.send(sent)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]


def _settled(task: asyncio.Future[Any]) -> None:
    _overdue.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("a store call that missed the reply deadline failed later: %s", type(task.exception()).__name__)
