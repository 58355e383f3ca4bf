"""Calendar arithmetic for the date extractor; every helper returns None instead of raising."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta

_YEARS_SEARCHED = 8  # enough to reach a 29 February in both directions
_MONTHS_SEARCHED = 12  # enough to reach a 31st in both directions


def safe_date(year: int, month: int, day: int) -> date | None:
    """date(year, month, day), or None when it does not exist."""
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):
        return None


def month_end(year: int, month: int) -> date | None:
    """The last day of the month, or None for an invalid month."""
    if not (1 <= month <= 12 and 1 <= year <= 9999):
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


def add_days(base: date, days: int) -> date | None:
    """base + days, or None outside the supported range."""
    try:
        return base + timedelta(days=days)
    except OverflowError:
        return None


def add_months(base: date, months: int, day: int | None = None) -> date | None:
    """Shift by whole months; the day (base.day by default) is clamped to the target month's length."""
    year, month0 = divmod(base.month - 1 + months, 12)
    end = month_end(base.year + year, month0 + 1)
    if end is None:
        return None
    return end.replace(day=min(day or base.day, end.day))


def month_index(value: date) -> int:
    """Months since year 0, for month-precision distances."""
    return value.year * 12 + value.month - 1


def by_year(make: Callable[[int], date | None], today: date) -> tuple[date | None, date | None]:
    """The latest make(year) <= today and the earliest make(year) > today: a date without a year that falls on
    today keeps next year's reading as the other candidate."""
    past, _ = _around(lambda offset: make(today.year + offset), today, _YEARS_SEARCHED)
    after = add_days(today, 1)
    if after is None:
        return past, None
    _, future = _around(lambda offset: make(today.year + offset), after, _YEARS_SEARCHED)
    return past, future


def by_month(day: int, today: date) -> tuple[date | None, date | None]:
    """The latest and the earliest day-of-month `day` around today (skipping months that lack it)."""

    def in_month(offset: int) -> date | None:
        month = add_months(today, offset, 1)
        return safe_date(month.year, month.month, day) if month else None

    return _around(in_month, today, _MONTHS_SEARCHED)


def _around(make: Callable[[int], date | None], today: date, reach: int) -> tuple[date | None, date | None]:
    """Walk outwards from offset 0 until make(-offset) <= today and make(offset) >= today are found."""
    past: date | None = None
    future: date | None = None
    for offset in range(reach + 1):
        if past is None and (found := make(-offset)) is not None and found <= today:
            past = found
        if future is None and (found := make(offset)) is not None and found >= today:
            future = found
        if past is not None and future is not None:
            break
    return past, future


def by_weekday(weekday: int, today: date) -> tuple[date | None, date | None]:
    """The latest and the earliest given weekday (Monday = 0) around today."""
    return (
        add_days(today, -((today.weekday() - weekday) % 7)),
        add_days(today, (weekday - today.weekday()) % 7),
    )
