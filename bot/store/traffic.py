"""Traffic records for the people who keep the content: turns per intent and day, and the questions that the
content did not answer (masked, with no user key), kept RETENTION_DAYS days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol, runtime_checkable

RETENTION_DAYS = 90  # a record of day D is kept through D + 89 and gone from D + 90 on (like SESSION_TTL)


def oldest_kept(today: date) -> date:
    """The first day whose records are still kept on `today` (Asia/Shanghai)."""
    return today - timedelta(days=RETENTION_DAYS - 1)


@dataclass(frozen=True, slots=True)
class Asked:
    """A question the content did not answer well, as recorded: nothing in it says who asked."""

    text: str  # normalised, digits and names masked, capped in length (see bot.core.masking)
    intent: str  # the turn's intent: "fallback", or the FAQ ("faq.fee") that answered with a low score
    match: str | None = None  # the best-ranked intent, even one below the threshold
    score: float | None = None  # its score


@dataclass(frozen=True, slots=True)
class AskedCount:
    day: date
    asked: Asked
    count: int


@dataclass(frozen=True)
class Traffic:
    """What a store returns: turns per (day, intent), and the questions, one per (day, text, intent)."""

    turns: Mapping[tuple[date, str], int] = field(default_factory=dict)
    asked: Sequence[AskedCount] = ()


@runtime_checkable
class TrafficStore(Protocol):
    """Counts kept beside the sessions. Records with the same (day, text, intent) are one record: its count adds
    up, and its match and score are the latest. Records are dropped RETENTION_DAYS days after their day."""

    def count_turn(self, day: date, intent: str, asked: Asked | None = None) -> None:
        """Counts one turn, and the question when it was not answered well. Synchronous and without I/O: the
        store may keep counts in memory for a few seconds, and writes them before `close` returns."""
        ...

    async def flush_traffic(self) -> None:
        """Writes the counts kept in memory now."""
        ...

    async def traffic(self, since: date) -> Traffic:
        """Every record from `since` (inclusive) on that is still kept, counts in memory included."""
        ...


class Tally:
    """Counts being gathered in memory: the memory store's records, and the other stores' unwritten ones."""

    __slots__ = ("asked", "turns")

    def __init__(self) -> None:
        self.turns: dict[tuple[date, str], int] = {}
        self.asked: dict[tuple[date, str, str], tuple[Asked, int]] = {}

    def __bool__(self) -> bool:
        return bool(self.turns)

    def add(self, day: date, intent: str, asked: Asked | None) -> None:
        key = (day, intent)
        self.turns[key] = self.turns.get(key, 0) + 1
        if asked is not None:
            where = (day, asked.text, asked.intent)
            before = self.asked.get(where)
            self.asked[where] = (asked, before[1] + 1 if before else 1)

    def drop_before(self, first: date) -> None:
        """Forgets every record of a day before `first`."""
        self.turns = {key: n for key, n in self.turns.items() if key[0] >= first}
        self.asked = {key: entry for key, entry in self.asked.items() if key[0] >= first}

    def since(self, first: date) -> Traffic:
        turns = {key: n for key, n in self.turns.items() if key[0] >= first}
        asked = [AskedCount(key[0], a, n) for key, (a, n) in self.asked.items() if key[0] >= first]
        return Traffic(turns, asked)
