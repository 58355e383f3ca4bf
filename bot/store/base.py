"""The state-store contract: opaque JSON documents per conversation key, with versions for conditional saves."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Protocol

SESSION_TTL = timedelta(days=30)
NO_VERSION = 0  # the version of a key that has no document at all
Versioned = tuple[str | None, int]  # (document or None, version), from `load_versioned`


class Store(Protocol):
    """Keeps one JSON document per conversation key.

    A key is already pseudonymous (see `bot.core.keys`); stores never see raw user ids.
    `load` returns None for a key that is unknown or has not been saved for longer than the TTL.
    `lock(key)` serialises read-modify-write cycles for one key within the process; it does nothing for other
    processes on the same storage, so a read-modify-write that may race with them uses the versions instead:

    - `load_versioned(key)` returns the document (None, as `load` would) with its version, an opaque positive
      number that changes with every save of the key; a key without a live document (none, or an expired one)
      has NO_VERSION.
    - `compare_and_save(key, document, version)` saves only if the key's version is still `version` (for
      NO_VERSION: only if the key still has no live document), atomically against every writer of the same
      storage, in any process; it returns False and writes nothing when another save or a delete came first.
      The caller reads again and redoes its change (see `Engine`).

    A key deleted and saved again never gets back a version it had before, so a writer that read it before the
    delete cannot overwrite what came after (nor bring a forgotten document back). `save` is the unconditional
    write (last writer wins) for documents that no read-modify-write depends on; it changes the version too.
    The Redis store does the same with a compare-and-set script.

    `erase(key)` deletes everything kept about one conversation: its document, every document saved beside it
    under `key + ":..."` (a channel's choices, keyboard record, deferred answers) and its reminders, claimed ones
    too. Like `delete`, it changes the key's version, so a turn that read before it cannot bring it back.
    Once-only records and nonces are left to expire: they hold no conversation and live only minutes.
    """

    async def load(self, key: str) -> str | None: ...

    async def load_versioned(self, key: str) -> Versioned: ...

    async def save(self, key: str, document: str) -> None: ...

    async def compare_and_save(self, key: str, document: str, version: int) -> bool: ...

    async def delete(self, key: str) -> None: ...

    async def erase(self, key: str) -> None: ...

    def lock(self, key: str) -> AbstractAsyncContextManager[None]: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
