"""Traffic records in the SQLite store (a mixin of SqliteStore): counted in memory, written every few seconds."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core.clock import Clock
from bot.store.traffic import Asked, AskedCount, Tally, Traffic, oldest_kept
from bot.store.traffic_buffer import BufferedTraffic, TrafficBuffer

TRAFFIC_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS traffic_turns (day TEXT NOT NULL, intent TEXT NOT NULL, turns INTEGER NOT NULL, "
    "PRIMARY KEY (day, intent)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS traffic_asked (day TEXT NOT NULL, text TEXT NOT NULL, intent TEXT NOT NULL, "
    "nearest TEXT, score REAL, turns INTEGER NOT NULL, PRIMARY KEY (day, text, intent)) WITHOUT ROWID",
)
_ADD_TURNS = (
    "INSERT INTO traffic_turns (day, intent, turns) VALUES (?, ?, ?) "
    "ON CONFLICT (day, intent) DO UPDATE SET turns = turns + excluded.turns"
)
_ADD_ASKED = (
    "INSERT INTO traffic_asked (day, text, intent, nearest, score, turns) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, text, intent) DO UPDATE SET turns = turns + excluded.turns, nearest = excluded.nearest, "
    "score = excluded.score"
)


def traffic_purge(today: date) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements that drop records no longer kept on `today`."""
    first = (oldest_kept(today).isoformat(),)
    return [("DELETE FROM traffic_turns WHERE day < ?", first), ("DELETE FROM traffic_asked WHERE day < ?", first)]


class SqliteTraffic(BufferedTraffic):
    _clock: Clock
    _traffic: TrafficBuffer  # built by SqliteStore with `_write_traffic`

    async def _run(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        raise NotImplementedError

    async def _change(self, sql: str, parameters: tuple[Any, ...] = (), wait: bool = True) -> int:
        raise NotImplementedError

    async def traffic(self, since: date) -> Traffic:
        await self.flush_traffic()
        first = max(since, oldest_kept(self._clock.today())).isoformat()
        rows = await self._run("SELECT day, intent, turns FROM traffic_turns WHERE day >= ?", (first,))
        turns = {(date.fromisoformat(day), str(intent)): int(n) for day, intent, n in rows}
        rows = await self._run(
            "SELECT day, text, intent, nearest, score, turns FROM traffic_asked WHERE day >= ?", (first,)
        )
        asked = [
            AskedCount(date.fromisoformat(day), Asked(text, intent, nearest, score), int(n))
            for day, text, intent, nearest, score, n in rows
        ]
        return Traffic(turns, asked)

    async def _write_traffic(self, tally: Tally) -> None:
        """Joins the tick's transaction (with the session saves of the moment) and does not wait for its
        COMMIT; a failed COMMIT is logged by the group commit."""
        for (day, intent), n in tally.turns.items():
            await self._change(_ADD_TURNS, (day.isoformat(), intent, n), wait=False)
        for (day, _text, _intent), (a, n) in tally.asked.items():
            await self._change(_ADD_ASKED, (day.isoformat(), a.text, a.intent, a.match, a.score, n), wait=False)
