"""What the engine records of each turn for the content editors: its intent and day, and, when the content had
no good answer, the question itself, masked. Never a user key or id."""

from __future__ import annotations

import logging
from datetime import date

from bot.core.masking import PLACE, mask
from bot.core.understanding import Reading, Understanding
from bot.store.traffic import Asked, TrafficStore

log = logging.getLogger(__name__)
FALLBACK = "fallback"
LOW_MARGIN = 1.0  # an FAQ answered with a score below the threshold + this is recorded as a weak answer
MAX_PLACES = 3  # place names masked per question (the reading's city, then a look for more)


class TurnRecorder:
    """Counts every turn per intent and day, and records each turn that ended in the fallback or in an FAQ
    answer of low score. It costs a dict update per turn (the store writes later); only a recorded question
    reads the message again, from the understanding's cache."""

    def __init__(self, store: TrafficStore, understanding: Understanding) -> None:
        self._store = store
        self._understanding = understanding
        self._low = understanding.matcher.threshold + LOW_MARGIN

    @classmethod
    def for_store(cls, store: object, understanding: Understanding) -> TurnRecorder | None:
        """A recorder, or None for a store that keeps no traffic records."""
        return cls(store, understanding) if isinstance(store, TrafficStore) else None

    def count(self, text: str, today: date, intent: str) -> None:
        """Counts the turn that read `text` on `today` (the dialog's day). Never raises: a record is not worth
        a turn."""
        try:
            asked = self._asked(text, today, intent) if intent == FALLBACK or intent.startswith("faq.") else None
            self._store.count_turn(today, intent, asked)
        except Exception:
            log.exception("a turn could not be counted")

    def _asked(self, text: str, today: date, intent: str) -> Asked | None:
        reading = self._understanding.read(text, today)  # the dialog's reading, from the cache
        best = reading.ranked[0] if reading.ranked else None
        if intent != FALLBACK and (best is None or best.intent != intent or best.score >= self._low):
            return None
        match, score = (best.intent, best.score) if best is not None else (None, None)
        return Asked(mask(reading.text, self._places(reading)), intent, match, score)

    def _places(self, reading: Reading) -> list[str]:
        """The reading's place, then any other that the city extractor finds once it is masked."""
        found: list[str] = []
        text, finding = reading.text, reading.city
        while finding is not None and finding.matched and len(found) < MAX_PLACES:
            found.append(finding.matched)
            text = text.replace(finding.matched, PLACE)
            finding = self._understanding.cities.extract(text)
        return found
