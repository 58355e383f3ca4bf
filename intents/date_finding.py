"""The DateFinding result and the year-inference policy shared by the date resolvers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from intents.date_calc import month_index
from intents.date_tense import Tense

Precision = Literal["day", "month"]
MIN_YEAR = 2000
MAX_YEARS_AHEAD = 5


@dataclass(frozen=True, slots=True)
class DateFinding:
    """One date mention; `value` is None exactly when `error` is set."""

    value: date | None  # the resolved date; None when `error` is set
    matched: str  # the matched span of the normalised (NFKC) text
    precision: Precision = "day"  # "month": only a month was given (去年12月 -> 2025-12-01)
    tense: Tense = "unknown"  # the tense cue found anywhere in the text
    year_inferred: bool = False  # no year in the text: the year (or month) was chosen by the tense policy
    alternatives: tuple[date, ...] = ()  # year_inferred and tense unknown: (past candidate, future candidate)
    error: str | None = None  # "invalid_date", "out_of_range" or "too_vague"


@dataclass(frozen=True, slots=True)
class Context:
    """What every resolver needs besides its match."""

    today: date
    tense: Tense


Resolver = Callable[[re.Match[str], Context], DateFinding | None]


def year_error(year: int, today: date) -> str | None:
    """Return "out_of_range" for years before 2000 or more than five years ahead, else None."""
    return None if MIN_YEAR <= year <= today.year + MAX_YEARS_AHEAD else "out_of_range"


def problem(match: re.Match[str], context: Context, kind: str, precision: Precision = "day") -> DateFinding:
    """A finding that names the problem instead of a date."""
    return DateFinding(None, match[0], precision, context.tense, error=kind)


def resolved(
    match: re.Match[str], context: Context, value: date | None, precision: Precision = "day"
) -> DateFinding | None:
    """A resolved date (None stays None); dates outside the plausible years become "out_of_range"."""
    if value is None:
        return None
    if year_error(value.year, context.today):
        return problem(match, context, "out_of_range", precision)
    return DateFinding(value, match[0], precision, context.tense)


def inferred(
    match: re.Match[str],
    context: Context,
    candidates: tuple[date | None, date | None],
    precision: Precision = "day",
    unknown: Literal["nearer", "future"] = "nearer",
) -> DateFinding | None:
    """Past tense takes the past candidate, (maybe) future the future one; with no tense the nearer
    (or, for holidays, the future) one, keeping both as alternatives."""
    past, future = candidates
    alternatives: tuple[date, ...] = ()
    if past is not None and past == future:  # the date is today (this month, for month precision)
        value: date | None = past
    elif context.tense == "past":
        value = past
    elif context.tense != "unknown":
        value = future
    elif past is None or future is None:
        value = future if unknown == "future" else None
    else:
        value = future if unknown == "future" else _nearer(past, future, context.today, precision)
        alternatives = (past, future)
    found = resolved(match, context, value, precision)
    if found is None or found.value is None:
        return found
    return DateFinding(found.value, found.matched, precision, context.tense, True, alternatives)


def _nearer(past: date, future: date, today: date, precision: Precision) -> date:
    if precision == "month":
        to_past, to_future = month_index(today) - month_index(past), month_index(future) - month_index(today)
    else:
        to_past, to_future = (today - past).days, (future - today).days
    return past if to_past <= to_future else future  # ties go to the past
