"""A city's endorsement rule, resolved from city, province and national content."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

Level = Literal["city", "province", "national"]


@dataclass(frozen=True, slots=True)
class Cited:
    """A figure and the source it came from."""

    value: int
    unit: Literal["days", "months"]
    source_id: str
    source_title: str
    confidence: str
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class OnlineChannel:
    name: str
    how: str
    confidence: str


@dataclass(frozen=True, slots=True)
class CityRule:
    """Everything the verdict and the reply need to know about one place."""

    city: str | None
    level: Level
    grace: Cited
    window: Cited
    cancel_after: Cited | None
    permit: str
    office: str
    channels: tuple[OnlineChannel, ...] = ()
    rule_source_id: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    after_cancel: Literal["reapply", "reregister"] = "reapply"
    reapply_steps: tuple[str, ...] = ()

    @property
    def grace_days(self) -> int:
        return self.grace.value


def shift(day: date, amount: Cited, sign: int = 1) -> date:
    """`day` moved by a cited amount of days or calendar months."""
    if amount.unit == "months":
        return add_months(day, sign * amount.value)
    return day + timedelta(days=sign * amount.value)


def add_months(day: date, months: int) -> date:
    """Same day of the month, `months` later, clamped to the month's end (Aug 31 + 6 months = Feb 28)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
