"""Reminders in the Redis store (a mixin of RedisStore), all under one hash tag, each change one Lua script.

    <root>:{reminders}:due       sorted set: the ids of pending reminders, scored by due time
    <root>:{reminders}:data      hash: id -> the reminder as JSON (pending and claimed ones)
    <root>:{reminders}:seq       the last id given
    <root>:{reminders}:by:<key>  set: the ids of one conversation key's reminders

A claim is the ZREM of the id from `due`: of several replicas exactly one removes it, and a cancel races with
a claim the same way (whoever removes it has it). A claimed reminder stays in `data` until `finish_reminder`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from bot.store.extras import Button, Deadline, Reminder, id_of
from bot.store.redis.errors import translated
from bot.store.redis.keys import Keys

if TYPE_CHECKING:
    from bot.store.redis.urls import Client, Script

# KEYS: due, data, by (every script). Scripts touch no key outside the {reminders} tag.
_CANCEL = """
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local found = redis.call('HGET', KEYS[2], id)
  if not found then
    redis.call('SREM', KEYS[3], id)
  elseif ARGV[1] == '1' or cjson.decode(found)['g'] == ARGV[2] then
    if redis.call('ZREM', KEYS[1], id) == 1 then
      redis.call('HDEL', KEYS[2], id)
      redis.call('SREM', KEYS[3], id)
      n = n + 1
    end
  end
end
return n
"""
_ADD = (  # then ARGV[3], ARGV[4]: one (due time, JSON) pair per reminder; KEYS[4]: seq
    _CANCEL.replace("return n", "")
    + """
for i = 3, #ARGV, 2 do
  local id = redis.call('INCR', KEYS[4])
  redis.call('HSET', KEYS[2], id, ARGV[i + 1])
  redis.call('ZADD', KEYS[1], ARGV[i], id)
  redis.call('SADD', KEYS[3], id)
end
return n
"""
)
_PENDING = """
local found = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('ZSCORE', KEYS[1], id) then
    local body = redis.call('HGET', KEYS[2], id)
    if body then table.insert(found, id); table.insert(found, body) end
  end
end
return found
"""
_DUE = """
local found = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])) do
  local body = redis.call('HGET', KEYS[2], id)
  if body then table.insert(found, id); table.insert(found, body) end
end
return found
"""
_DROP = """
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
redis.call('DEL', KEYS[3])
return 0
"""
# ARGV: the id, the prefix of the `by` sets (the key is read from the reminder itself).
_FINISH = """
local body = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if body then redis.call('SREM', ARGV[2] .. cjson.decode(body)['k'], ARGV[1]) end
return 0
"""


def _encode(
    key: str, channel: str, address: str, due_at: datetime, text: str, deadline: Deadline | None, buttons: list[Any]
) -> str:
    described = [deadline.day.isoformat(), deadline.case, deadline.label] if deadline is not None else None
    return json.dumps(
        {"k": key, "c": channel, "a": address, "t": due_at.timestamp(), "x": text, "g": id_of(deadline)}
        | {"d": described, "b": buttons},
        ensure_ascii=False,
    )


def _decode(rid: str, body: str) -> Reminder:
    r = json.loads(body)
    deadline = Deadline(date.fromisoformat(r["d"][0]), r["d"][1], r["d"][2]) if r["d"] else None
    buttons = tuple((str(label), str(data)) for label, data in r["b"])
    due_at = datetime.fromtimestamp(r["t"], UTC)
    return Reminder(int(rid), r["k"], r["c"], r["a"], due_at, r["x"], deadline, buttons)


def _pairs(flat: list[str]) -> list[Reminder]:
    found = [_decode(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
    return sorted(found, key=lambda r: (r.due_at, r.id))


class RedisReminders:
    _keys: Keys
    _where: str

    def _redis(self) -> Client:
        raise NotImplementedError

    def _init_reminders(self, client: Client) -> None:
        self._reminder_scripts: dict[str, Script] = {
            name: client.register_script(text)
            for name, text in {
                "add": _ADD,
                "cancel": _CANCEL,
                "pending": _PENDING,
                "due": _DUE,
                "drop": _DROP,
                "finish": _FINISH,
            }.items()
        }

    async def _reminder_script(self, name: str, key: str | None, *args: Any) -> Any:
        self._redis()
        k = self._keys
        keys = [k.reminders_due, k.reminders_data, k.reminders_of(key) if key is not None else k.reminders_by]
        if name == "add":
            keys.append(k.reminders_seq)
        with translated(self._where):
            return await self._reminder_scripts[name](keys=keys, args=list(args))

    async def add_reminders(
        self,
        key: str,
        channel: str,
        address: str,
        items: Sequence[tuple[datetime, str]],
        deadline: Deadline | None = None,
        buttons: Sequence[Button] = (),
    ) -> list[Reminder]:
        group = id_of(deadline)
        listed = [list(button) for button in buttons]
        args: list[Any] = ["", group]
        for due_at, text in items:
            args += [repr(due_at.timestamp()), _encode(key, channel, address, due_at, text, deadline, listed)]
        await self._reminder_script("add", key, *args)
        return [r for r in await self.reminders_for(key) if r.deadline_id == group]

    async def reminders_for(self, key: str) -> list[Reminder]:
        return _pairs(await self._reminder_script("pending", key))

    async def cancel_reminders(self, key: str, deadline_id: str | None = None) -> int:
        every = "1" if deadline_id is None else ""
        return int(await self._reminder_script("cancel", key, every, deadline_id or ""))

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[Reminder]:
        return _pairs(await self._reminder_script("due", None, repr(now.timestamp()), limit))

    async def claim_reminder(self, reminder_id: int) -> bool:
        client = self._redis()
        with translated(self._where):
            return int(await client.zrem(self._keys.reminders_due, str(reminder_id))) == 1

    async def finish_reminder(self, reminder_id: int) -> None:
        await self._reminder_script("finish", None, str(reminder_id), self._keys.reminders_by)

    async def _drop_reminders(self, key: str) -> None:
        """Every reminder of the key, claimed ones too (delete and erase)."""
        await self._reminder_script("drop", key)
