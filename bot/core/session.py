"""One user's conversation state, stored as a JSON document."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Literal

Pending = Literal["date", "city", "tense", "city_pick"]
SCHEMA = 1


@dataclass
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

    @property
    def started(self) -> bool:
        return bool(self.expiry or self.city or self.pending or self.candidates or self.province)

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "v": SCHEMA,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "month_only": self.month_only,
            "candidates": [d.isoformat() for d in self.candidates],
            "city": self.city,
            "city_known": self.city_known,
            "province": self.province,
            "city_candidates": self.city_candidates,
            "pending": self.pending,
            "tense": self.tense,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, document: str | None) -> Session:
        """A session from its document; anything unreadable starts a fresh session instead of failing."""
        if not document:
            return cls()
        try:
            data = json.loads(document)
            values = {k: v for k, v in data.items() if k in _FIELDS}
            values["expiry"] = date.fromisoformat(values["expiry"]) if values.get("expiry") else None
            values["candidates"] = [date.fromisoformat(d) for d in values.get("candidates", [])]
            return cls(**values)
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()


_FIELDS = frozenset(f.name for f in fields(Session))
