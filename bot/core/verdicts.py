"""The verdict: a pure function of (expiry date, city rule, today)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.core.rules import CityRule, add_months, shift
from bot.core.workdays import Workday, add_workdays

Case = Literal["not_expired", "within_grace", "late_endorse", "reapply"]


@dataclass(frozen=True, slots=True)
class Processing:
    """How long the office takes, in Chinese working days, plus any waiting before one may apply."""

    min_workdays: int
    max_workdays: int
    wait_months_first: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    case: Case
    expiry: date
    today: date
    grace_days: int
    deadline: date | None
    days_left: int | None
    days_over: int
    cancel_date: date | None
    window_start: date
    apply_from: date
    collect_from: Workday
    collect_to: Workday


def classify(expiry: date, rule: CityRule, today: date) -> tuple[Case, date | None, date | None]:
    """(case, deadline, cancellation date). The expiry date itself is the last valid day."""
    grace_end = expiry + timedelta(days=rule.grace_days)
    cancel = shift(expiry, rule.cancel_after) if rule.cancel_after else None
    if today <= expiry:
        return "not_expired", expiry, cancel
    if today <= grace_end:
        return "within_grace", grace_end, cancel
    if cancel is None or today <= cancel:
        return "late_endorse", cancel, cancel
    return "reapply", None, cancel


def decide(expiry: date, rule: CityRule, today: date, processing: dict[Case, Processing]) -> Verdict:
    case, deadline, cancel = classify(expiry, rule, today)
    window_start = shift(expiry, rule.window, sign=-1)
    apply_from = max(today, window_start) if case == "not_expired" else today
    steps = processing[case]
    if steps.wait_months_first:
        apply_from = add_months(apply_from, steps.wait_months_first)
    return Verdict(
        case=case,
        expiry=expiry,
        today=today,
        grace_days=rule.grace_days,
        deadline=deadline,
        days_left=(deadline - today).days if deadline else None,
        days_over=max(0, (today - expiry).days),
        cancel_date=cancel,
        window_start=window_start,
        apply_from=apply_from,
        collect_from=add_workdays(apply_from, steps.min_workdays),
        collect_to=add_workdays(apply_from, steps.max_workdays),
    )


@dataclass(frozen=True, slots=True)
class Segment:
    """Expiry days first..last (inclusive) that all lead to the same case today."""

    case: Case
    first: date
    last: date


def segments(first: date, last: date, rule: CityRule, today: date) -> list[Segment]:
    """The cases that the expiry days first..last lead to, in date order, split where the case changes.

    The case only gets less severe as the expiry gets later (reapply, late, grace, not expired), so each change
    is found by bisection instead of classifying every day of a range that may span two years.
    """
    found: list[Segment] = []
    start = first
    while start <= last:
        case = classify(start, rule, today)[0]
        lo, hi = 0, (last - start).days  # the last day of this case lies at start + lo .. start + hi
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if classify(start + timedelta(days=mid), rule, today)[0] == case:
                lo = mid
            else:
                hi = mid - 1
        end = start + timedelta(days=lo)
        found.append(Segment(case, start, end))
        start = end + timedelta(days=1)
    return found
