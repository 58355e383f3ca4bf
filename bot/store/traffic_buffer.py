"""Traffic counts held in memory between writes, so that counting a turn costs a dict update, not a statement."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import date

from bot.store.traffic import Asked, Tally

log = logging.getLogger(__name__)
FLUSH_SECONDS = 5.0


class TrafficBuffer:
    """Counts turns in memory and hands them to `write` at most `interval` seconds after the first of them:
    from the store's next write (`due`, so they share its transaction), from a timer when no write comes, and
    at `close`. A failed write is logged and its counts are dropped: they are statistics, never worth a turn."""

    def __init__(self, write: Callable[[Tally], Awaitable[None]], interval: float = FLUSH_SECONDS) -> None:
        self._write = write
        self._interval = interval
        self._tally = Tally()
        self._empty = True  # cheaper to test on every turn than the tally
        self._started = 0.0  # time.monotonic() of the first count in the tally
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, day: date, intent: str, asked: Asked | None) -> None:
        if self._empty:
            self._empty = False
            self._started = time.monotonic()
            self._arm()
        self._tally.add(day, intent, asked)

    @property
    def due(self) -> bool:
        return not self._empty and time.monotonic() - self._started >= self._interval

    async def flush(self) -> None:
        taken = self._take()
        if not taken:
            return
        try:
            await self._write(taken)
        except Exception:
            log.exception("traffic counts could not be written; %d turns were not counted", sum(taken.turns.values()))

    async def close(self) -> None:
        """Waits for timer-started writes, then writes what is left."""
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        await self.flush()

    def _take(self) -> Tally:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        taken, self._tally, self._empty = self._tally, Tally(), True
        return taken

    def _arm(self) -> None:
        with suppress(RuntimeError):  # no running loop: the counts wait for the next write or for close
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class BufferedTraffic:
    """The TrafficStore methods of a store that keeps counts in a TrafficBuffer (`_traffic`) between writes."""

    _traffic: TrafficBuffer

    def count_turn(self, day: date, intent: str, asked: Asked | None = None) -> None:
        self._traffic.add(day, intent, asked)

    async def flush_traffic(self) -> None:
        await self._traffic.flush()
