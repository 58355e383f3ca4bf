"""Traffic records in the Redis store (a mixin of RedisStore): counted in memory, added with HINCRBY every few
seconds into one hash per day and kind, each expiring when its day is no longer kept.

    <root>:{traffic}:days          sorted set: the ISO days that have records, by ordinal
    <root>:{traffic}:turns:<day>   hash: intent -> turns
    <root>:{traffic}:asked:<day>   hash: JSON [text, intent] -> times asked
    <root>:{traffic}:match:<day>   hash: JSON [text, intent] -> JSON [match, score], the latest
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.core.clock import Clock
from bot.core.errors import StoreUnavailable
from bot.store.redis.errors import translated
from bot.store.redis.keys import Keys
from bot.store.traffic import RETENTION_DAYS, Asked, AskedCount, Tally, Traffic, oldest_kept
from bot.store.traffic_buffer import BufferedTraffic, TrafficBuffer

if TYPE_CHECKING:
    from bot.store.redis.urls import Client

log = logging.getLogger(__name__)


class RedisTraffic(BufferedTraffic):
    _clock: Clock
    _keys: Keys
    _where: str
    _traffic: TrafficBuffer  # built by RedisStore with `_write_traffic`

    def _redis(self) -> Client:
        raise NotImplementedError

    async def traffic(self, since: date) -> Traffic:
        await self.flush_traffic()
        client = self._redis()
        first = max(since, oldest_kept(self._clock.today()))
        with translated(self._where):
            listed = await client.zrangebyscore(self._keys.traffic_days, first.toordinal(), "+inf")
            days = [date.fromisoformat(str(day)) for day in listed]
            pipe = client.pipeline(transaction=False)
            for day in days:
                pipe.hgetall(self._keys.turns(day))
                pipe.hgetall(self._keys.asked(day))
                pipe.hgetall(self._keys.matches(day))
            found = await pipe.execute()
        turns: dict[tuple[date, str], int] = {}
        asked: list[AskedCount] = []
        for i, day in enumerate(days):
            day_turns, day_asked, day_matches = found[3 * i : 3 * i + 3]
            turns |= {(day, str(intent)): int(n) for intent, n in day_turns.items()}
            for field, n in day_asked.items():
                text, intent = json.loads(field)
                match, score = json.loads(day_matches.get(field, "[null, null]"))
                asked.append(AskedCount(day, Asked(text, intent, match, score), int(n)))
        return Traffic(turns, asked)

    async def _write_traffic(self, tally: Tally) -> None:
        client = self._redis()
        today = self._clock.today()
        days = {day for day, _ in tally.turns} | {day for day, _, _ in tally.asked}
        kept = [day for day in days if day >= oldest_kept(today)]
        if not kept:
            return
        pipe = client.pipeline(transaction=False)
        for (day, intent), n in tally.turns.items():
            if day in kept:
                pipe.hincrby(self._keys.turns(day), intent, n)
        for (day, _text, _intent), (a, n) in tally.asked.items():
            if day in kept:
                field = json.dumps([a.text, a.intent], ensure_ascii=False)
                pipe.hincrby(self._keys.asked(day), field, n)
                pipe.hset(self._keys.matches(day), field, json.dumps([a.match, a.score], ensure_ascii=False))
        for day in kept:
            seconds = int((day + timedelta(days=RETENTION_DAYS + 1) - today).total_seconds())
            for name in (self._keys.turns(day), self._keys.asked(day), self._keys.matches(day)):
                pipe.expire(name, seconds)
            pipe.zadd(self._keys.traffic_days, {day.isoformat(): day.toordinal()})
        pipe.zremrangebyscore(self._keys.traffic_days, "-inf", oldest_kept(today).toordinal() - 1)
        try:
            with translated(self._where):
                await pipe.execute()
        except StoreUnavailable as exc:  # statistics: one line, no traceback, and the turns go on
            log.warning("traffic counts were dropped: %s", exc)
