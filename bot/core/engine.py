"""The engine: one async entry point that every channel calls."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from bot.catalog.catalog import Catalog
from bot.core.clock import Clock
from bot.core.dialog import Dialog, Turn
from bot.core.keys import conversation_key
from bot.core.messages import Message, Reply
from bot.core.session import Session
from bot.core.traffic import TurnRecorder
from bot.core.understanding import Understanding
from bot.store.base import Store

log = logging.getLogger(__name__)
Observer = Callable[[str, str, float], None]  # (channel, intent, seconds), e.g. Metrics.observe_turn
TOUCH = timedelta(minutes=10)  # an unchanged session is saved again at most this often


class Engine:
    """Loads a user's session, runs the dialog, saves the session; one user's turns never overlap."""

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
            async with self.store.lock(key):
                before = await self.store.load(key)
                session = Session.from_json(before)
                state = session.state()
                today = self.clock.today()
                turn = self.dialog.respond(session, message.text, today)
                await self._keep(key, before is not None, state, turn.session)
                if self.recorder is not None:  # never raises
                    self.recorder.count(message.text, today, turn.intent)
                return turn
        except Exception:  # the one boundary: log, apologise, keep the stored state as it was
            log.exception("turn failed for %s", key)
            return Turn([Reply(self.catalog.prompt("apology"))], "error", Session())

    async def _keep(self, key: str, stored: bool, state: tuple[object, ...], session: Session) -> None:
        """Saves the session, except when that would write nothing new: a visitor who only asked questions
        leaves nothing behind, and an unchanged session is re-saved only to keep it alive (TOUCH)."""
        if not stored and session.empty:
            return
        now = int(self.clock.now().timestamp())
        if session.state() == state and now - session.saved_at < TOUCH.total_seconds():
            return
        session.saved_at = now
        await self.store.save(key, session.to_json())

    async def forget(self, channel: str, user_id: str) -> None:
        """Deletes everything stored about one user on one channel."""
        key = self.key(channel, user_id)
        async with self.store.lock(key):
            await self.store.delete(key)
