"""Chinese working days: the official calendar where known, weekends only beyond it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


@dataclass(frozen=True, slots=True)
class Workday:
    day: date
    exact: bool


def is_workday(day: date) -> tuple[bool, bool]:
    """(is a working day, answer comes from the official calendar)."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:  # a year this chinese-calendar release does not cover yet
        return day.weekday() < 5, False


@lru_cache(maxsize=4096)  # every user asking on the same day shares the same start date
def add_workdays(start: date, count: int) -> Workday:
    """The `count`-th working day after `start` (start itself not counted); count 0 gives start."""
    day, exact, left = start, True, count
    while left > 0:
        day += timedelta(days=1)
        works, known = is_workday(day)
        exact = exact and known
        left -= works
    return Workday(day, exact)
