"""Chinese working days: the official calendar where known, weekends only beyond it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from chinese_calendar.constants import holidays, workdays

from intents.festivals import festival_day

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
    """(is a working day, answer comes from the official calendar).

    For a year this chinese-calendar release does not cover yet, weekends and the statutory holidays of the
    《全国年节及纪念日放假办法》 (2024) count as days off; the bridging days and make-up working days of that year's
    arrangement are not known, so the answer is not exact.
    """
    if not _FIRST <= day.year <= _LAST:
        return day.weekday() < 5 and day not in statutory_holidays(day.year), False
    return day in _MAKEUP_DAYS or (day.weekday() < 5 and day not in _HOLIDAYS), True


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> frozenset[date]:
    """元旦 1 day, 春节 4 (除夕 to 初三), 清明 1, 劳动节 2 (5月1日–2日), 端午 1, 中秋 1, 国庆 3 (10月1日–3日)."""
    days: set[date] = set()
    for name, length in (("元旦", 1), ("除夕", 4), ("清明", 1), ("劳动节", 2), ("端午", 1), ("中秋", 1), ("国庆", 3)):
        first = festival_day(name, year)
        if first is not None:
            days.update(first + timedelta(days=n) for n in range(length))
    return frozenset(days)


def last_workday_before(day: date) -> date:
    """The last working day on or before `day` (at most a month back)."""
    for back in range(31):
        candidate = day - timedelta(days=back)
        if is_workday(candidate)[0]:
            return candidate
    return day


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
