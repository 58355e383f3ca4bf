"""One user's conversation state, stored as a JSON document."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Literal

Pending = Literal["date", "city", "tense", "city_pick"]
SCHEMA = 2
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # built once (json.dumps builds one per call)
_DECODER = json.JSONDecoder()


@dataclass(slots=True)
class Session:
    expiry: date | None = None
    month_only: bool = False
    candidates: list[date] = field(default_factory=list)  # past and future readings awaiting the tense
    city: str | None = None
    city_known: bool = True  # False when the user named a place we could not recognise
    province: str | None = None
    city_candidates: list[str] = field(default_factory=list)
    pending: Pending | None = None
    tense: Literal["past", "future"] | None = None
    saved_at: int = 0  # epoch seconds of the last save, kept by the engine

    @property
    def empty(self) -> bool:
        """Nothing worth keeping: no slot, no pending question."""
        return not (self.started or self.tense or self.city)

    @property
    def started(self) -> bool:
        return bool(self.expiry or self.city or self.pending or self.candidates or self.province)

    def to_json(self) -> str:
        """A positional JSON array, version first: it runs twice per message, so it is kept cheap."""
        return _ENCODER.encode(
            [
                SCHEMA,
                self.expiry.isoformat() if self.expiry else None,
                self.month_only,
                [d.isoformat() for d in self.candidates],
                self.city,
                self.city_known,
                self.province,
                self.city_candidates,
                self.pending,
                self.tense,
                self.saved_at,
            ]
        )

    def state(self) -> tuple[object, ...]:
        """Everything the conversation depends on (all but `saved_at`), to compare before and after a turn."""
        return (
            self.expiry,
            self.month_only,
            tuple(self.candidates),
            self.city,
            self.city_known,
            self.province,
            tuple(self.city_candidates),
            self.pending,
            self.tense,
        )

    @classmethod
    def from_json(cls, document: str | None) -> Session:
        """A session from its document; anything unreadable starts a fresh session instead of failing."""
        if not document:
            return cls()
        fields = _decode(document)
        if fields is None:
            return cls()
        expiry, month_only, candidates, city, known, province, picks, pending, tense, at = fields
        return cls(expiry, month_only, list(candidates), city, known, province, list(picks), pending, tense, at)


@lru_cache(maxsize=20_000)  # a user's document is read again on each turn until it changes
def _decode(document: str) -> tuple[Any, ...] | None:
    try:
        version, expiry, month_only, candidates, city, known, province, picks, pending, tense, at = _DECODER.decode(
            document
        )
        if version != SCHEMA:
            return None
        return (
            date.fromisoformat(expiry) if expiry else None,
            bool(month_only),
            tuple(date.fromisoformat(d) for d in candidates),
            city,
            bool(known),
            province,
            tuple(picks),
            pending,
            tense,
            int(at),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
