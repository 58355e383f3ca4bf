"""Once-only records in the Redis store (a mixin of RedisStore): SET with a TTL, decided by a Lua script.

A record is the string "<expires>|" while its claim runs and "<expires>|=<result>" once finished, `expires`
in the store's clock's epoch seconds: the clock decides whether a record still lives (Redis's own TTL, the
same length, only reclaims the memory), so tests can move time on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.clock import Clock
from bot.store.redis.errors import translated
from bot.store.redis.keys import Keys

if TYPE_CHECKING:
    from bot.store.redis.urls import Client, Script

# KEYS: the record. ARGV: now, expires, ttl (ms), the value to keep, and "1" for remember_first (the value is
# kept as a result, and a live claim still running may be replaced) or "" for claim_once (a running claim is
# written). Returns {1, ""} when this call wrote, {0, the live record's result or ""} when a live record stays.
_TAKE = """
local found = redis.call('GET', KEYS[1])
if found then
  local bar = string.find(found, '|', 1, true)
  if tonumber(string.sub(found, 1, bar - 1)) > tonumber(ARGV[1]) then
    local result = false
    if string.sub(found, bar + 1, bar + 1) == '=' then result = string.sub(found, bar + 2) end
    if result or ARGV[5] ~= '1' then return {0, result or ''} end
  end
end
local record = ARGV[2] .. '|'
if ARGV[5] == '1' then record = record .. '=' .. ARGV[4] end
redis.call('SET', KEYS[1], record, 'PX', ARGV[3])
return {1, ''}
"""
# KEYS: the record. ARGV: expires, ttl (ms), the result. Only a record that is there is finished.
_FINISH = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[1], ARGV[1] .. '|=' .. ARGV[3], 'PX', ARGV[2])
end
return 0
"""


def _ms(ttl: timedelta) -> int:
    return max(1, int(ttl.total_seconds() * 1000))


class RedisOnce:
    _clock: Clock
    _keys: Keys
    _where: str

    def _redis(self) -> Client:
        raise NotImplementedError

    def _init_once(self, client: Client) -> None:
        self._take: Script = client.register_script(_TAKE)
        self._finish: Script = client.register_script(_FINISH)

    async def claim_once(self, key: str, ttl: timedelta) -> bool:
        wrote, _ = await self._take_record(key, "", ttl, remember=False)
        return wrote

    async def finish_once(self, key: str, result: str, ttl: timedelta) -> None:
        self._redis()
        expires = (self._clock.now() + ttl).timestamp()
        with translated(self._where):
            await self._finish(keys=[self._keys.once(key)], args=[repr(expires), _ms(ttl), result])

    async def once_result(self, key: str) -> str | None:
        client = self._redis()
        with translated(self._where):
            found = await client.get(self._keys.once(key))
        if found is None:
            return None
        expires, _, rest = str(found).partition("|")
        if float(expires) <= self._clock.now().timestamp() or not rest.startswith("="):
            return None
        return rest[1:]

    async def remember_first(self, key: str, value: str, ttl: timedelta) -> str:
        wrote, kept = await self._take_record(key, value, ttl, remember=True)
        return value if wrote else kept

    async def _take_record(self, key: str, value: str, ttl: timedelta, remember: bool) -> tuple[bool, str]:
        self._redis()
        now = self._clock.now()
        args: list[str | int] = [
            repr(now.timestamp()),
            repr((now + ttl).timestamp()),
            _ms(ttl),
            value,
            "1" if remember else "",
        ]
        with translated(self._where):
            wrote, kept = await self._take(keys=[self._keys.once(key)], args=args)
        return int(wrote) == 1, str(kept)
