"""Traffic records in the memory store (a mixin of MemoryStore): the tally is the record itself."""

from __future__ import annotations

from datetime import date

from bot.core.clock import Clock
from bot.store.traffic import Asked, Tally, Traffic, oldest_kept


class MemoryTraffic:
    _clock: Clock

    def _init_traffic(self) -> None:
        self._tally = Tally()

    def count_turn(self, day: date, intent: str, asked: Asked | None = None) -> None:
        self._tally.add(day, intent, asked)

    async def flush_traffic(self) -> None:
        """Nothing to write: the records live in memory."""

    async def traffic(self, since: date) -> Traffic:
        return self._tally.since(max(since, oldest_kept(self._clock.today())))

    def _purge_traffic(self) -> None:
        self._tally.drop_before(oldest_kept(self._clock.today()))
