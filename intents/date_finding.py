"""The DateFinding result and the year-inference policy shared by the date resolvers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from intents.date_calc import safe_date
from intents.date_tense import Tense

Precision = Literal["day", "month"]
Role = Literal["expiry", "plan", "done", "unknown"]
MIN_YEAR = 2000
MAX_YEARS_AHEAD = 5
# The recency rule for a date without a year and without a clear tense: when one reading lies within NEAR_DAYS
# of today and the other more than FAR_DAYS away, the near one is taken (and the dialog says so).
NEAR_DAYS = 92
FAR_DAYS = 270
# Even with a tense cue, a reading this far away is never taken silently when the other is this close.
SILENT_LIMIT_DAYS = 300
CLOSE_DAYS = 60
# A reading further than this from today is not offered (2月29日 said on a leap day is not about 2032).
PLAUSIBLE_DAYS = 800
Span = Callable[[date], date | None]  # the last day of a ranged mention, from its first day


@dataclass(frozen=True, slots=True)
class DateFinding:
    """One date mention; `value` is None exactly when `error` is set.

    A mention may be a range: 「5月份」 is May 1-31, 「一个多月前」 is one to two months back. `value` is then its
    first day and `end` its last; `end` is None for a single day.
    """

    value: date | None  # the resolved date (the first day of a range); None when `error` is set
    matched: str  # the matched span of the normalised (NFKC) text
    precision: Precision = "day"  # "month": only a month was given (去年12月 -> 2025-12-01..31)
    tense: Tense = "unknown"  # the tense cue found anywhere in the text
    year_inferred: bool = False  # no year in the text: the year (or month) was chosen by the tense policy
    alternatives: tuple[date, ...] = ()  # (past candidate, future candidate) when the year was inferred
    error: str | None = None  # "invalid_date", "out_of_range" or "too_vague"
    end: date | None = None  # the last day of a ranged mention
    alternative_ends: tuple[date | None, ...] = ()  # the last day of each alternative, for ranges
    assumed: bool = False  # the year was chosen by recency or against a far reading: say so, offer the other
    role: Role = "unknown"  # what the words around it say: the expiry, a planned visit, a visit done, or unknown
    start: int = -1  # where `matched` starts in the normalised text

    def placed(self, role: Role, start: int) -> DateFinding:
        """This finding with its role and position (dataclasses.replace costs ten times more)."""
        return DateFinding(
            self.value,
            self.matched,
            self.precision,
            self.tense,
            self.year_inferred,
            self.alternatives,
            self.error,
            self.end,
            self.alternative_ends,
            self.assumed,
            role,
            start,
        )

    @property
    def latest(self) -> date | None:
        """The last day the mention can mean."""
        return self.end or self.value

    @property
    def ambiguous(self) -> bool:
        """Two readings of the year remain and neither was chosen: the dialog asks."""
        return bool(self.alternatives) and not self.assumed


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
    match: re.Match[str],
    context: Context,
    value: date | None,
    precision: Precision = "day",
    end: date | None = None,
) -> DateFinding | None:
    """A resolved date or range (None stays None); dates outside the plausible years become "out_of_range"."""
    if value is None:
        return None
    if year_error(value.year, context.today) or (end is not None and year_error(end.year, context.today)):
        return problem(match, context, "out_of_range", precision)
    return DateFinding(value, match[0], precision, context.tense, end=end if end != value else None)


def inferred(
    match: re.Match[str],
    context: Context,
    candidates: tuple[date | None, date | None],
    precision: Precision = "day",
    span: Span | None = None,
) -> DateFinding | None:
    """A date (or range) without a year: pick the year by the tense and by recency.

    A clear past cue takes the past reading and a clear future cue the future one. Otherwise, when one reading
    lies within NEAR_DAYS and the other beyond FAR_DAYS, the near one is taken and marked `assumed`; a cue that
    leans to the past (忘了签) takes the past one, also marked; when neither stands out, both stay as
    alternatives and the dialog asks. A reading chosen by its tense cue is
    also marked `assumed` when it lies beyond SILENT_LIMIT_DAYS while the other is within CLOSE_DAYS.
    """
    past, future = (c if c is None or abs((c - context.today).days) <= PLAUSIBLE_DAYS else None for c in candidates)
    wanted = {"past": past, "maybe_past": past, "future": future}.get(context.tense, past or future)
    if wanted is None and (candidates[0] or candidates[1]):
        return problem(match, context, "not_this_year", precision)  # 2月29号过期了, said in 2026: which year?
    if past == context.today and span is None and context.tense in ("past", "maybe_past"):
        # 「1月1号过期了」 said on 1 January: today, or a year ago? Keep a year ago as the other reading.
        future, past = past, safe_date(past.year - 1, past.month, past.day) if past.year > 1 else None
    ends = (_end(past, span), _end(future, span))
    assumed = False
    if past is not None and (past == future or (ends[0] is not None and ends[0] >= context.today)):
        value: date | None = past  # the mention covers today (this month, this year's festival week)
        future = None
    elif past is None or future is None:
        value = past or future
    else:
        to_past = (context.today - (ends[0] or past)).days
        to_future = (future - context.today).days
        if context.tense == "past" and to_future == 0:
            value, assumed = future, True  # expired "today": the expiry day itself, said in the past tense
        elif context.tense == "past":
            value = past
            assumed = to_past > SILENT_LIMIT_DAYS and to_future <= CLOSE_DAYS
        elif context.tense == "future":
            value = future
            assumed = to_future > SILENT_LIMIT_DAYS and to_past <= CLOSE_DAYS
        elif min(to_past, to_future) <= NEAR_DAYS and max(to_past, to_future) > FAR_DAYS:
            value, assumed = (past if to_past <= to_future else future), True
        elif context.tense == "maybe_past":
            value = past
            assumed = True
        else:
            value = past if to_past <= to_future else future  # ties go to the past; the dialog asks
    found = resolved(match, context, value, precision, _end(value, span))
    if found is None or found.value is None:
        return found
    keep = past is not None and future is not None and (assumed or context.tense not in ("past", "future"))
    return DateFinding(
        found.value,
        found.matched,
        precision,
        context.tense,
        True,
        (past, future) if keep and past and future else (),
        end=found.end,
        alternative_ends=ends if keep else (),
        assumed=assumed,
    )


def _end(start: date | None, span: Span | None) -> date | None:
    if start is None or span is None:
        return None
    end = span(start)
    return end if end != start else None
