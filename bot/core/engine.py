"""The engine: one async entry point that every channel calls."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta

from bot.catalog.catalog import Catalog
from bot.core.clock import Clock
from bot.core.dialog import Dialog, Turn
from bot.core.errors import StoreConflict, StoreUnavailable
from bot.core.keys import conversation_key
from bot.core.messages import Message, Reply
from bot.core.session import Session, returning
from bot.core.traffic import TurnRecorder
from bot.core.understanding import Understanding
from bot.store.base import Store

log = logging.getLogger(__name__)
Observer = Callable[[str, str, float], None]  # (channel, intent, seconds), e.g. Metrics.observe_turn
TOUCH = timedelta(minutes=10)  # an unchanged session is saved again at most this often
ATTEMPTS = 5  # runs of one turn while other processes keep saving the same session; each lost race is a save won


class Engine:
    """Loads a user's session, runs the dialog, saves the session; one user's turns never overlap.

    Within the process, a per-key lock keeps them apart. Across processes on one store, the save is conditional
    on the version that was read (optimistic concurrency, see `Store`): a turn that lost the race is run again
    on the session the other process left, at most ATTEMPTS times in all, then it apologises like any failure.
    """

    def __init__(
        self,
        catalog: Catalog,
        store: Store,
        clock: Clock,
        key_salt: str = "",
        dialog: Dialog | None = None,
        observer: Observer | None = None,
        record_unmatched: bool = True,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.clock = clock
        self.dialog = dialog or Dialog(catalog, Understanding(catalog))
        self.observer = observer
        self._salt = key_salt
        self.record_unmatched = record_unmatched  # QIANZHU_RECORD_UNMATCHED: turns counted, unanswered questions kept
        self.recorder = TurnRecorder.for_store(store, self.dialog.understanding) if record_unmatched else None

    def with_store(self, store: Store, clock: Clock, observer: Observer | None = None) -> Engine:
        """Another engine on the same (expensive to build) understanding, with its own store and clock."""
        return Engine(self.catalog, store, clock, self._salt, self.dialog, observer, self.record_unmatched)

    def key(self, channel: str, user_id: str) -> str:
        """The pseudonymous key under which a user's state is stored."""
        return conversation_key(channel, user_id, self._salt)

    async def handle(self, message: Message) -> list[Reply]:
        return (await self.handle_turn(message)).replies

    async def handle_turn(self, message: Message) -> Turn:
        """Like `handle`, with the intent and state that the replay tool reports."""
        started = time.perf_counter()
        turn = await self._turn(message)
        if self.observer is not None:
            self.observer(message.channel, turn.intent, time.perf_counter() - started)
        return turn

    async def _turn(self, message: Message) -> Turn:
        key = self.key(message.channel, message.user_id)
        try:
            async with self.store.lock(key):  # no conflicts between this process's own turns
                today = self.clock.today()
                for _ in range(ATTEMPTS):
                    turn = await self._attempt(key, message.text, today)
                    if turn is not None:
                        if self.recorder is not None:  # never raises; counted once, however often the turn ran
                            self.recorder.count(message.text, today, turn.intent)
                        return turn
                    log.debug("another process saved the session during a turn; the turn runs again")
                raise StoreConflict(f"the session changed under each of {ATTEMPTS} attempts of the turn")
        except StoreUnavailable as exc:  # the store is down for a while: one line, no traceback
            log.warning("turn failed for %s: the store is unavailable (%s)", key, exc)
            return Turn([Reply(self.catalog.prompt("apology"))], "error", Session())
        except Exception:  # the one boundary: log, apologise, keep the stored state as it was
            log.exception("turn failed for %s", key)
            return Turn([Reply(self.catalog.prompt("apology"))], "error", Session())

    async def _attempt(self, key: str, text: str, today: date) -> Turn | None:
        """Runs the turn on the stored session and saves the result if the session is still the one read;
        None when another writer saved or deleted it meanwhile (nothing was written). Only the session changes:
        what else a turn leaves (its traffic count) is done by the caller once the save held."""
        before, version = await self.store.load_versioned(key)
        session = Session.from_json(before)
        if self.dialog.is_forget(text):  # 删除我的数据: everything kept about the user goes, on every store
            await self.store.erase(key)
            return self.dialog.respond(session, text, today)
        state = session.state()
        if returning(session.saved_at, self.clock.now()):  # back from an earlier conversation
            session.recall()
        turn = self.dialog.respond(session, text, today)
        return turn if await self._keep(key, version, before is not None, state, turn.session) else None

    async def _keep(self, key: str, version: int, stored: bool, state: tuple[object, ...], session: Session) -> bool:
        """Saves the session over `version`, except when that would write nothing new: a visitor who only asked
        questions leaves nothing behind, and an unchanged session is re-saved only to keep it alive (TOUCH).
        False when the conditional save lost to another writer."""
        if not stored and session.empty:
            return True
        now = int(self.clock.now().timestamp())
        if session.state() == state and now - session.saved_at < TOUCH.total_seconds():
            return True
        session.saved_at = now
        return await self.store.compare_and_save(key, session.to_json(), version)

    async def stored(self, channel: str, user_id: str) -> Session | None:
        """The conversation kept for one user on one channel, if any."""
        document = await self.store.load(self.key(channel, user_id))
        return Session.from_json(document) if document else None

    async def forget(self, channel: str, user_id: str) -> None:
        """Deletes everything stored about one user on one channel. Unconditional, and safe against a turn of
        the same user in another process: a delete changes the key's version, so that turn's save fails and it
        runs again on an empty session instead of bringing the forgotten one back."""
        key = self.key(channel, user_id)
        async with self.store.lock(key):
            await self.store.erase(key)
