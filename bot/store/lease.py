"""A lease on the Store contract: one holder at a time across processes, for as long as it keeps renewing.

`qianzhu telegram` holds one per bot token while it long-polls: Telegram hands each update to one getUpdates
caller, and two pollers on one token fight (409 Conflict) and split a user's messages between them. A second poller
(another replica, a restarted unit whose old process lingers) waits for the lease instead, and takes over when the
holder stops renewing it: at its exit, or at most `ttl` seconds after it died.

The lease is a document {"owner", "until"} written with compare_and_save, so it works on every store (memory,
SQLite, Redis) without a primitive of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.core.clock import Clock
from bot.store.base import Store

PREFIX = "lease:"


@dataclass
class Lease:
    store: Store
    name: str  # what is held, e.g. "telegram:<digest of the token>"; never a secret itself
    owner: str  # who holds it: unique per process
    clock: Clock
    ttl: float = 30.0

    @property
    def key(self) -> str:
        return PREFIX + self.name

    async def acquire(self) -> bool:
        """Takes or renews the lease; False while another owner holds a live one (or lost the race to it)."""
        document, version = await self.store.load_versioned(self.key)
        now = self.clock.now().timestamp()
        if document is not None:
            held = json.loads(document)
            if held.get("owner") != self.owner and float(held.get("until", 0)) > now:
                return False
        claim = json.dumps({"owner": self.owner, "until": now + self.ttl})
        return await self.store.compare_and_save(self.key, claim, version)

    async def release(self) -> None:
        """Gives the lease up at once (only if this owner still holds it), so a waiting poller need not wait out
        the ttl."""
        document, version = await self.store.load_versioned(self.key)
        if document is not None and json.loads(document).get("owner") == self.owner:
            await self.store.compare_and_save(self.key, json.dumps({"owner": "", "until": 0}), version)
