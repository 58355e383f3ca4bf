"""One user's conversation state, stored as a JSON document."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from bot.core.clock import SHANGHAI

Pending = Literal["date", "city", "tense", "city_pick"]
Kept = Literal["city", "date"]
AWAY = timedelta(hours=3)  # a user back after this long (or on a later day, see `returning`) is a returning user
NEW_DAY_PAUSE = timedelta(minutes=30)
SCHEMA = 3
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # built once (json.dumps builds one per call)
_DECODER = json.JSONDecoder()


@dataclass(slots=True)
class Session:
    """The calculation in progress. `expiry`..`expiry_end` is a range when the user was vague (5月份, 一个多月前).

    When the user asks about someone else (我老婆的也过期了), `person` names them, the slots hold that person's
    calculation, and `own` keeps the user's own slots until the user comes back to them.
    """

    expiry: date | None = None
    expiry_end: date | None = None  # the last day of a ranged expiry
    candidates: list[date] = field(default_factory=list)  # past and future readings awaiting the tense
    candidate_ends: list[date | None] = field(default_factory=list)
    alternative: date | None = None  # the other year's reading when the year was assumed (one tap to switch)
    alternative_end: date | None = None
    city: str | None = None
    city_known: bool = True  # False when the user named a place we could not recognise
    province: str | None = None
    city_candidates: list[str] = field(default_factory=list)
    pending: Pending | None = None
    tense: Literal["past", "future"] | None = None
    person: str | None = None  # whose permit the slots describe; None: the user's own
    own: list[Any] | None = None  # the user's own slots (`slots()`) while another person's are active
    saved_at: int = 0  # epoch seconds of the last save, kept by the engine
    recalled: list[Kept] = field(default_factory=list)  # slots kept from an earlier conversation, not yet restated

    def recall(self) -> None:
        """Marks the filled slots as kept from an earlier conversation (the user is back, see `returning`)."""
        kept: list[Kept] = []
        if self.city:
            kept.append("city")
        if self.expiry:
            kept.append("date")
        self.recalled = kept

    def restated(self, name: Kept) -> None:
        """The user gave this slot again in this conversation: it no longer needs to be recalled."""
        if name in self.recalled:
            self.recalled = [kept for kept in self.recalled if kept != name]

    @property
    def empty(self) -> bool:
        """Nothing worth keeping: no slot, no pending question."""
        return not (self.started or self.tense or self.city or self.own)

    @property
    def started(self) -> bool:
        return bool(self.expiry or self.city or self.pending or self.candidates or self.province)

    @property
    def ranged(self) -> bool:
        return self.expiry_end is not None

    def slots(self) -> list[Any]:
        """The calculation's slots as a JSON-ready list (everything but `person`, `own` and `saved_at`)."""
        return [
            _iso(self.expiry),
            _iso(self.expiry_end),
            [d.isoformat() for d in self.candidates],
            [_iso(d) for d in self.candidate_ends],
            _iso(self.alternative),
            _iso(self.alternative_end),
            self.city,
            self.city_known,
            self.province,
            self.city_candidates,
            self.pending,
            self.tense,
        ]

    def load_slots(self, slots: list[Any] | None) -> None:
        """Replaces the calculation's slots (None or [] clears them)."""
        self._set_slots(_slots(slots) if slots else None)

    def _set_slots(self, fresh: tuple[Any, ...] | None) -> None:
        (
            self.expiry,
            self.expiry_end,
            candidates,
            ends,
            self.alternative,
            self.alternative_end,
            self.city,
            self.city_known,
            self.province,
            picks,
            self.pending,
            self.tense,
        ) = fresh or (None, None, (), (), None, None, None, True, None, (), None, None)
        self.candidates, self.candidate_ends, self.city_candidates = list(candidates), list(ends), list(picks)

    def to_json(self) -> str:
        """A positional JSON array, version first: it runs twice per message, so it is kept cheap."""
        fields = [SCHEMA, self.slots(), self.person, self.own, self.saved_at]
        return _ENCODER.encode([*fields, self.recalled] if self.recalled else fields)

    def state(self) -> tuple[object, ...]:
        """Everything the conversation depends on (all but `saved_at`), to compare before and after a turn."""
        return (
            self.expiry,
            self.expiry_end,
            tuple(self.candidates),
            tuple(self.candidate_ends),
            self.alternative,
            self.alternative_end,
            self.city,
            self.city_known,
            self.province,
            tuple(self.city_candidates),
            self.pending,
            self.tense,
            self.person,
            self.own,
            tuple(self.recalled),
        )

    @classmethod
    def from_json(cls, document: str | None) -> Session:
        """A session from its document; anything unreadable starts a fresh session instead of failing."""
        if not document:
            return cls()
        decoded = _decode(document)
        if decoded is None:
            return cls()
        slots, person, own, saved_at, recalled = decoded
        session = cls(person=person, own=list(own) if own else None, saved_at=saved_at, recalled=list(recalled))
        session._set_slots(slots)
        return session


def returning(saved_at: int, now: datetime) -> bool:
    """Whether a user whose session was last saved at `saved_at` (epoch seconds) is back from an earlier
    conversation: away for AWAY or more, or since an earlier day in Asia/Shanghai after a pause of NEW_DAY_PAUSE
    (a conversation that only runs past midnight is not a return)."""
    if not saved_at:
        return False
    away = timedelta(seconds=now.timestamp() - saved_at)
    if away >= AWAY:
        return True
    return away >= NEW_DAY_PAUSE and datetime.fromtimestamp(saved_at, SHANGHAI).date() < now.astimezone(SHANGHAI).date()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if text else None


def _slots(raw: list[Any]) -> tuple[Any, ...]:
    expiry, end, candidates, ends, alternative, alt_end, city, known, province, picks, pending, tense = raw
    return (
        _day(expiry),
        _day(end),
        tuple(date.fromisoformat(d) for d in candidates),
        tuple(_day(d) for d in ends),
        _day(alternative),
        _day(alt_end),
        city,
        bool(known),
        province,
        tuple(picks),
        pending,
        tense,
    )


@lru_cache(maxsize=20_000)  # a user's document is read again on each turn until it changes
def _decode(document: str) -> tuple[Any, ...] | None:
    try:
        fields = _DECODER.decode(document)
        if fields[0] == 2:  # the layout before ranges and other people: migrate it
            _, expiry, _month_only, candidates, city, known, province, picks, pending, tense, at = fields
            slots = [expiry, None, candidates, [None] * len(candidates), None, None]
            fields = [SCHEMA, [*slots, city, known, province, picks, pending, tense], None, None, at]
        version, slots, person, own, at, *rest = fields  # a sixth field, the recalled slots, only when there are any
        if version != SCHEMA or len(rest) > 1:
            return None
        if own:
            _slots(own)  # validates the user's own slots, kept as JSON until they come back
        recalled = tuple(name for name in rest[0] if name in ("city", "date")) if rest else ()
        return _slots(slots), person, tuple(own) if own else None, int(at), recalled
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None
