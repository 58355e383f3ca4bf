"""The Redis store: sessions and the documents beside them, with versions for conditional saves."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from bot.core.clock import Clock
from bot.core.errors import StoreError
from bot.store.base import NO_VERSION, SESSION_TTL, Versioned
from bot.store.locks import KeyedLocks
from bot.store.redis.errors import translated
from bot.store.redis.keys import ROOT, Keys, scattered
from bot.store.redis.once import RedisOnce
from bot.store.redis.reminders import RedisReminders
from bot.store.redis.traffic import RedisTraffic
from bot.store.redis.urls import Client, connect, redact
from bot.store.traffic_buffer import TrafficBuffer

log = logging.getLogger(__name__)
PING_TIMEOUT = 1.0  # seconds

# KEYS: the document, the tag's version counter, the tag's index of documents.
# ARGV: body, saved at (the clock's epoch seconds), ttl (ms), expected version ("" for none: unconditional),
#       cutoff (a document saved at or before it has expired), the counter's ttl (ms).
# A document is a hash {b: body, t: saved at, v: version}; it returns the new version, or 0 when the expected
# version was not the key's any more. The store's clock decides expiry (Redis's own TTL only reclaims memory).
_WRITE = """
local expected = ARGV[4]
if expected ~= '' then
  local found = redis.call('HMGET', KEYS[1], 't', 'v')
  local current = 0
  if found[2] and (expected ~= '0' or tonumber(found[1]) > tonumber(ARGV[5])) then
    current = tonumber(found[2])
  end
  if current ~= tonumber(expected) then return 0 end
end
local version = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('HSET', KEYS[1], 'b', ARGV[1], 't', ARGV[2], 'v', version)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[3], KEYS[1])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return version
"""
# KEYS: the tag's index of documents. ARGV: the document to erase, and the prefix of the ones beside it.
# Deletes them (the version counter stays, so versions never repeat) and returns how many were there.
_ERASE = """
local gone = 0
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if name == ARGV[1] or string.sub(name, 1, string.len(ARGV[2])) == ARGV[2] then
    gone = gone + redis.call('DEL', name)
    redis.call('SREM', KEYS[1], name)
  end
end
return gone
"""


class RedisStore(RedisReminders, RedisOnce, RedisTraffic):
    """Documents in Redis hashes, each expiring `ttl` after its last save; see bot.store.redis.keys for the
    names. Every write is one round trip: a Lua script, atomic against every other process on the same Redis.

    Create it with `await RedisStore.open(url, clock)`. A Redis that cannot be reached makes every call raise
    StoreUnavailable (the engine answers with its apology) and `ping` answer False; redis-py reconnects by
    itself, with a short retry and backoff, once it is back. Traffic counts are kept in memory and written
    every few seconds (see TrafficBuffer), and at close.
    """

    def __init__(self, client: Client, where: str, clock: Clock, ttl: timedelta, root: str = ROOT) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"ttl must be positive, got {ttl}")
        self._client: Client | None = client
        self._where = where
        self._clock = clock
        self._ttl = ttl
        self._keys = Keys(root)
        self._locks = KeyedLocks()
        self._write_script = client.register_script(_WRITE)
        self._erase_script = client.register_script(_ERASE)
        self._init_reminders(client)
        self._init_once(client)
        self._traffic = TrafficBuffer(self._write_traffic)

    @classmethod
    async def open(cls, url: str, clock: Clock, ttl: timedelta = SESSION_TTL, root: str = ROOT) -> RedisStore:
        """Connects to the Redis that `url` names (see bot.store.redis.urls) and checks that it answers;
        StoreUnavailable when it does not, StoreError for a URL that names no Redis."""
        where = redact(url)
        client = connect(url)
        store = cls(client, where, clock, ttl, root)
        try:
            with translated(where):
                await client.ping()
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def where(self) -> str:
        """The URL without its password."""
        return self._where

    @property
    def root(self) -> str:
        return self._keys.root

    def _redis(self) -> Client:
        if self._client is None:
            raise StoreError(f"the Redis store {self._where} is closed")
        return self._client

    async def load(self, key: str) -> str | None:
        return (await self.load_versioned(key))[0]

    async def load_versioned(self, key: str) -> Versioned:
        client = self._redis()
        with translated(self._where):
            body, saved_at, version = await client.hmget(self._keys.document(key), ["b", "t", "v"])
        if body is None or float(str(saved_at)) <= self._cutoff():
            return None, NO_VERSION
        return str(body), int(str(version))

    async def save(self, key: str, document: str) -> None:
        await self._write(key, document, "")

    async def compare_and_save(self, key: str, document: str, version: int) -> bool:
        return await self._write(key, document, str(version))

    async def delete(self, key: str) -> None:
        """Deletes the key's document and its reminders."""
        client = self._redis()
        name = self._keys.document(key)
        with translated(self._where):
            await client.delete(name)
            await client.srem(self._keys.index(key), name)
        await self._drop_reminders(key)

    async def erase(self, key: str) -> None:
        """Deletes the key's document, every document saved under `key + ":..."`, and the key's reminders."""
        client = self._redis()
        name = self._keys.document(key)
        with translated(self._where):
            await self._erase_script(keys=[self._keys.index(key)], args=[name, name + ":"])
            if scattered(key):  # not a conversation key (rare; tests): look for the documents beside it
                async for stray in client.scan_iter(match=self._keys.strays(key), count=1000):
                    await client.delete(stray)
                    await client.srem(self._keys.index(_tag_key(stray)), stray)
        await self._drop_reminders(key)

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locks.lock(key)

    async def ping(self) -> bool:
        """True when Redis answers a PING within a second; False, and never an error, otherwise."""
        client = self._client
        if client is None:
            return False
        try:
            async with asyncio.timeout(PING_TIMEOUT):
                return bool(await client.ping())
        except Exception as exc:  # whatever the client raises, the answer is "not now"
            log.debug("Redis at %s did not answer a ping: %s", self._where, type(exc).__name__)
            return False

    async def close(self) -> None:
        """Writes the traffic counts kept in memory (if Redis is there), then closes the connections."""
        client = self._client
        if client is None:
            return
        try:
            await self._traffic.close()
        finally:
            self._client = None
            await client.aclose()

    async def _write(self, key: str, document: str, expected: str) -> bool:
        self._redis()
        if self._traffic.due:
            await self.flush_traffic()
        now = self._clock.now().timestamp()
        ttl_ms = int(self._ttl.total_seconds() * 1000)
        keys = [self._keys.document(key), self._keys.versions(key), self._keys.index(key)]
        args: list[str | int] = [document, repr(now), ttl_ms, expected, repr(self._cutoff()), ttl_ms + DAY_MS]
        with translated(self._where):
            version = await self._write_script(keys=keys, args=args)
        return int(version) != NO_VERSION

    def _cutoff(self) -> float:
        """A document saved at or before this moment has expired."""
        return (self._clock.now() - self._ttl).timestamp()


DAY_MS = 86_400_000  # the version counter outlives the tag's last document by a day


def _tag_key(name: str) -> str:
    """The tag of a Redis key name "<root>:{<tag>}:...", as a store key (for its index)."""
    return name[name.index("{") + 1 : name.index("}")]
