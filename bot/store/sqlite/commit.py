"""Group commit for SqliteStore: the writes of one event-loop tick share one transaction and one COMMIT."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from contextlib import suppress

from bot.core.errors import StoreError

log = logging.getLogger(__name__)

Translate = Callable[[sqlite3.Error | ValueError], StoreError]


def _retrieve(done: asyncio.Future[None]) -> None:
    """Marks a failed commit as seen even if every writer waiting on it was cancelled."""
    if not done.cancelled():
        done.exception()


class GroupCommit:
    """The transaction that inline writes join, opened lazily and committed at the end of the current tick.

    `begin` opens it with BEGIN IMMEDIATE (on a connection whose busy timeout is zero, so it never waits: a
    file locked by another connection raises StoreUnavailable and nothing was done) and schedules its COMMIT
    with `loop.call_soon`; every write of the tick runs inside it and then awaits a future of its own from
    `begin` (so a cancelled writer cancels nobody else), which resolves once the COMMIT is done, or fails with
    the store's error if the COMMIT or a statement that rolled the transaction back failed. Reads on the same
    connection see the open transaction's writes.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        translate: Translate,
        committed: Callable[[], None],
        rolled_back: Callable[[], None] = lambda: None,
    ) -> None:
        self._conn = conn
        self._translate = translate
        self._committed = committed  # told of each successful COMMIT
        self._rolled_back = rolled_back  # told when the open transaction is lost
        self._done: asyncio.Future[None] | None = None  # the open transaction's COMMIT
        self._writers: list[asyncio.Future[None]] = []  # one future per write waiting for it

    @property
    def pending(self) -> asyncio.Future[None] | None:
        """The open transaction's COMMIT, if one is open (to wait on, never to cancel)."""
        return self._done

    def begin(self, wait: bool = True) -> asyncio.Future[None] | None:
        """Joins the open transaction or opens one; raises the store's error if it cannot be opened. Returns the
        writer's future, or None for a writer that does not wait (a failed COMMIT is then only logged)."""
        loop = asyncio.get_running_loop()
        if self._done is None:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, ValueError) as exc:
                raise self._translate(exc) from exc
            self._done = loop.create_future()
            self._done.add_done_callback(_retrieve)
            loop.call_soon(self.commit)
        if not wait:
            return None
        writer = loop.create_future()
        self._writers.append(writer)
        return writer

    def failed(self, error: StoreError) -> None:
        """After a statement in the transaction failed: if that rolled it back, every earlier write is gone."""
        if self._done is not None and not self._conn.in_transaction:
            self._settle(error)

    def commit(self) -> None:
        """Commits the open transaction (if any) and wakes its writers; a failure rolls back and reaches all."""
        if self._done is None:
            return
        try:
            self._conn.execute("COMMIT")
        except (sqlite3.Error, ValueError) as exc:
            with suppress(sqlite3.Error, ValueError):
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            log.warning("a group COMMIT failed and was rolled back: %s", exc)
            self._settle(self._translate(exc))
        else:
            self._settle(None)
            self._committed()

    def _settle(self, error: StoreError | None) -> None:
        done, writers = self._done, self._writers
        self._done, self._writers = None, []
        if error is not None:
            self._rolled_back()
        for future in (*writers, done):
            if future is None or future.done():  # a writer cancelled while waiting
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
