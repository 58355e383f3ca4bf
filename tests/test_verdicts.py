"""The verdict's boundaries: day 0, the last grace day, the day after, leap years and the turn of the year."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from bot.catalog.catalog import Catalog
from bot.core.rules import Cited, CityRule, add_months
from bot.core.verdicts import Processing, classify, decide, segments
from bot.core.workdays import add_workdays, is_workday


def cited(value: int, unit: str = "days") -> Cited:
    return Cited(value, unit, "test", "test source", "high")  # type: ignore[arg-type]


def rule(grace: int = 0, cancel_months: int | None = None) -> CityRule:
    return CityRule(
        city="测试",
        level="city",
        grace=cited(grace),
        window=cited(1, "months"),
        cancel_after=cited(cancel_months, "months") if cancel_months else None,
        permit="居住证",
        office="派出所",
    )


PROCESSING = {
    "not_expired": Processing(0, 15),
    "within_grace": Processing(0, 15),
    "late_endorse": Processing(0, 15),
    "reapply": Processing(10, 15, wait_months_first=6),
}

SHANGHAI, JIANGSU, NATIONAL = rule(60), rule(30), rule(0)
SHENZHEN, HENAN = rule(0, 24), rule(0, 6)


@pytest.mark.parametrize(
    ("expiry", "the_rule", "today", "case", "deadline", "days_left"),
    [
        # day 0: the expiry date itself is still a valid day
        (date(2026, 11, 26), NATIONAL, date(2026, 11, 26), "not_expired", date(2026, 11, 26), 0),
        (date(2026, 11, 27), NATIONAL, date(2026, 11, 26), "not_expired", date(2026, 11, 27), 1),
        # national rule: no grace at all, no cancellation point
        (date(2026, 11, 25), NATIONAL, date(2026, 11, 26), "late_endorse", None, None),
        (date(2020, 1, 1), NATIONAL, date(2026, 11, 26), "late_endorse", None, None),
        # Shanghai, 60 days: first day over, last grace day, the day after
        (date(2026, 10, 20), SHANGHAI, date(2026, 10, 21), "within_grace", date(2026, 12, 19), 59),
        (date(2026, 10, 20), SHANGHAI, date(2026, 12, 19), "within_grace", date(2026, 12, 19), 0),
        (date(2026, 10, 20), SHANGHAI, date(2026, 12, 20), "late_endorse", None, None),
        (date(2026, 10, 20), SHANGHAI, date(2026, 11, 26), "within_grace", date(2026, 12, 19), 23),
        # Jiangsu, 30 days, across a leap February and a common one
        (date(2028, 2, 28), JIANGSU, date(2028, 3, 29), "within_grace", date(2028, 3, 29), 0),
        (date(2028, 2, 28), JIANGSU, date(2028, 3, 30), "late_endorse", None, None),
        (date(2027, 2, 28), JIANGSU, date(2027, 3, 30), "within_grace", date(2027, 3, 30), 0),
        # the turn of the year: Dec 31 to Jan 1
        (date(2026, 12, 31), SHANGHAI, date(2027, 1, 1), "within_grace", date(2027, 3, 1), 59),
        (date(2027, 1, 1), NATIONAL, date(2026, 12, 31), "not_expired", date(2027, 1, 1), 1),
        (date(2026, 12, 31), NATIONAL, date(2027, 1, 1), "late_endorse", None, None),
        # Henan, cancellation 6 months after expiry (clamped at month end)
        (date(2026, 8, 31), HENAN, date(2027, 2, 28), "late_endorse", date(2027, 2, 28), 0),
        (date(2026, 8, 31), HENAN, date(2027, 3, 1), "reapply", None, None),
        # Shenzhen, 24 months, from a leap day
        (date(2024, 2, 29), SHENZHEN, date(2026, 2, 28), "late_endorse", date(2026, 2, 28), 0),
        (date(2024, 2, 29), SHENZHEN, date(2026, 3, 1), "reapply", None, None),
        (date(2025, 11, 26), SHENZHEN, date(2026, 11, 26), "late_endorse", date(2027, 11, 26), 365),
    ],
)
def test_case_deadline_and_countdown(
    expiry: date, the_rule: CityRule, today: date, case: str, deadline: date | None, days_left: int | None
) -> None:
    verdict = decide(expiry, the_rule, today, PROCESSING)
    assert (verdict.case, verdict.deadline, verdict.days_left) == (case, deadline, days_left)
    assert classify(expiry, the_rule, today)[0] == case


def test_grace_cases_report_days_over_and_grace() -> None:
    verdict = decide(date(2026, 10, 20), SHANGHAI, date(2026, 11, 26), PROCESSING)
    assert (verdict.days_over, verdict.grace_days) == (37, 60)


def test_window_opens_one_calendar_month_before_expiry() -> None:
    verdict = decide(date(2027, 3, 31), NATIONAL, date(2026, 11, 26), PROCESSING)
    assert verdict.window_start == date(2027, 2, 28)
    assert verdict.apply_from == date(2027, 2, 28)


def test_not_expired_inside_the_window_can_apply_today() -> None:
    verdict = decide(date(2026, 12, 10), NATIONAL, date(2026, 11, 26), PROCESSING)
    assert verdict.apply_from == date(2026, 11, 26)


def test_reapply_waits_half_a_year_before_applying() -> None:
    verdict = decide(date(2025, 1, 1), HENAN, date(2026, 11, 26), PROCESSING)
    assert verdict.case == "reapply"
    assert verdict.apply_from == date(2027, 5, 26)
    assert not verdict.collect_to.exact  # 2027 holidays are not published in chinese-calendar 1.11.0


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 31), -2) == date(2025, 11, 30)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_workdays_follow_the_official_2026_calendar() -> None:
    # 2026-09-30 (Wed) + 1 working day skips the National Day holiday (Oct 1-7) to Thursday Oct 8.
    assert add_workdays(date(2026, 9, 30), 1).day == date(2026, 10, 8)
    # Saturday 2026-10-10 is a make-up working day.
    assert add_workdays(date(2026, 10, 9), 1).day == date(2026, 10, 10)
    assert add_workdays(date(2026, 10, 9), 1).exact


def test_workdays_fall_back_to_weekends_and_statutory_holidays_beyond_the_calendar() -> None:
    result = add_workdays(date(2026, 12, 31), 1)  # Thu -> Fri 2027-01-01 is 元旦, then the weekend
    assert result.day == date(2027, 1, 4)
    assert not result.exact
    assert add_workdays(date(2027, 2, 4), 1).day == date(2027, 2, 9)  # 除夕 (02-05) to 初三 (02-08) are off
    assert not is_workday(date(2027, 10, 3))[0]  # 国庆
    assert is_workday(date(2027, 10, 4)) == (True, False)  # the bridging days of 2027 are not known yet


def test_zero_workdays_is_the_start_day() -> None:
    assert add_workdays(date(2026, 11, 26), 0).day == date(2026, 11, 26)


def test_is_workday_agrees_with_chinese_calendar_on_every_day_it_covers() -> None:
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    while day <= last:
        assert is_workday(day) == (chinese_calendar.is_workday(day), True), day
        day += timedelta(days=1)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    assert is_workday(date(2027, 1, 4)) == (True, False)


def test_segments_by_bisection_match_day_by_day(catalog: Catalog) -> None:
    today = date(2026, 11, 26)
    for city in ("上海", "北京", "深圳", "南京", "郑州", "杭州", None):
        rule = catalog.rule_for(city)
        for first_offset in range(-800, 60, 37):
            first = today + timedelta(days=first_offset)
            last = first + timedelta(days=400)
            parts = segments(first, last, rule, today)
            days = [first + timedelta(days=n) for n in range(401)]
            assert [classify(day, rule, today)[0] for day in days] == [
                part.case for part in parts for _ in range((part.last - part.first).days + 1)
            ]
