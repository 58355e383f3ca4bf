"""Chinese working days: the official calendar where known, weekends only beyond it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from chinese_calendar.constants import holidays, workdays

# chinese-calendar's own tables, read once: its is_workday scans every holiday on each call to find the years
# it covers. The rule is the same: a make-up working day (调休), or a weekday that is no holiday, is a working day.
_FIRST, _LAST = min(holidays).year, max(holidays).year
_HOLIDAYS = frozenset(holidays)
_MAKEUP_DAYS = frozenset(workdays)


@dataclass(frozen=True, slots=True)
class Workday:
    day: date
    exact: bool


def is_workday(day: date) -> tuple[bool, bool]:
    """(is a working day, answer comes from the official calendar)."""
    if not _FIRST <= day.year <= _LAST:  # a year this chinese-calendar release does not cover yet
        return day.weekday() < 5, False
    return day in _MAKEUP_DAYS or (day.weekday() < 5 and day not in _HOLIDAYS), True


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
