"""Verdict safety, as a property: right or asking, never confidently wrong.

The truth comes first (an expiry day, a city, today); hypothesis then phrases it in one of several forms
(a full date, a month and day, a relative offset, a month only, a vague duration, a festival) and the dialog
reads it. Whatever the phrasing, the bot must not:
- give a verdict whose case differs from the truth's (not_expired for a past date, or a less urgent case);
- say 'reapply' or 'years lost' unless every day the message allows leads there;
and when the message does not settle the case, it must ask (or say which reading it assumed).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.dialog import Dialog
from bot.core.session import Session
from bot.core.verdicts import classify, segments
from intents.festivals import festival_day

CITIES = ["上海", "北京", "深圳", "南京", "郑州", "杭州", "广州", "成都", "石家庄", "兰州", "义乌", "江阴"]
FESTIVALS = ["春节", "除夕", "元宵", "清明", "劳动节", "端午", "中秋", "国庆", "元旦"]


@dataclass(frozen=True)
class Case:
    text: str
    today: date
    truth: date
    city: str


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    last = calendar.monthrange(day.year + year, month + 1)[1]
    return date(day.year + year, month + 1, min(day.day, last))


def _months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (later.day < earlier.day)


@st.composite
def phrased(draw: st.DrawFn) -> Case:
    today = draw(st.dates(date(2026, 1, 1), date(2028, 12, 31)))
    truth = today + timedelta(days=draw(st.integers(-900, 400)))
    city = draw(st.sampled_from(CITIES))
    past = truth < today
    form = draw(st.sampled_from(["full", "month_day", "offset", "month", "vague", "festival"]))
    lapse = "过期了" if past else "到期"
    if form == "full":
        text = f"{truth.year}年{truth.month}月{truth.day}日{lapse}"
    elif form == "month_day" and abs((truth - today).days) < 365:
        # Without a year, people mean the last or the next time that day comes round.
        word = draw(st.sampled_from([lapse, "到期", "过期", "就过了", ""]))
        text = f"{truth.month}月{truth.day}号{word}"
    elif form == "month_day":
        text = f"{truth.year}年{truth.month}月{truth.day}号{lapse}"
    elif form == "offset":
        days = abs((truth - today).days)
        text = f"{days}天前过期了" if past else f"还有{days}天到期"
    elif form == "month":
        text = f"{truth.year}年{truth.month}月份{lapse}"
    elif form == "vague":
        earlier, later = (truth, today) if past else (today, truth)
        months = _months_between(earlier, later)
        rest = (later - _add_months(earlier, months)).days
        if months < 1 or not 3 <= rest <= 26:  # 一个多月 is a month and a few days to a month and most of another
            days = abs((truth - today).days)
            text = f"{days}天前过期了" if past else f"还有{days}天到期"
        else:
            text = f"过期{months}个多月了" if past else f"还有{months}个多月到期"
    else:
        name = draw(st.sampled_from(FESTIVALS))
        day = festival_day(name, truth.year)
        assert day is not None
        truth = day
        past = truth < today
        text = f"{truth.year}年{name}那天{'过期的' if past else '到期'}"
    return Case(f"我在{city}，签注{text}", today, truth, city)


def _allowed(session: Session) -> list[tuple[date, date]]:
    """The expiry days the bot's reading allows: its range, and the other year's when it said it assumed one."""
    assert session.expiry is not None
    ranges = [(session.expiry, session.expiry_end or session.expiry)]
    if session.alternative is not None:
        ranges.append((session.alternative, session.alternative_end or session.alternative))
    return ranges


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=phrased())
def test_right_or_asking_never_confidently_wrong(case: Case, dialog: Dialog) -> None:
    catalog = dialog.catalog
    session = Session()
    turn = dialog.respond(session, case.text, case.today)
    reply = "\n".join(r.text for r in turn.replies)
    if session.candidates:  # it asked whether the date is past or future
        assert session.pending == "tense"
        assert any(c == case.truth or c.month == case.truth.month for c in session.candidates), reply
        return
    assert session.expiry is not None, reply
    first, last = session.expiry, session.expiry_end or session.expiry
    if session.alternative is not None and not (first <= case.truth <= last):
        # The message did not give the year: the bot said which one it took and offers the other in one tap.
        assert "您没说是哪一年" in reply, reply
        assert turn.replies[-1].choices, reply
        return
    assert any(lo <= case.truth <= hi for lo, hi in _allowed(session)), (case, session, reply)
    rule = catalog.rule_for(session.city if session.city_known else None)
    truth_case = classify(case.truth, rule, case.today)[0]
    possible = {part.case for part in segments(first, last, rule, case.today)}
    if turn.verdict is None:  # several cases are possible: every one is named and the exact day is asked for
        assert session.pending == "date", reply
        assert len(possible) > 1
        assert set(turn.cases) == possible
        return
    assert possible == {turn.verdict.case}, (case, reply)
    assert turn.verdict.case == truth_case, (case, turn.verdict.case, truth_case, reply)
    if turn.verdict.case in ("reapply", "late_endorse"):
        assert all(classify(day, rule, case.today)[0] == turn.verdict.case for day in _days(first, last))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_months_between() -> None:
    assert _months_between(date(2026, 1, 31), date(2026, 3, 1)) == 1
    assert _months_between(date(2026, 1, 15), date(2026, 3, 15)) == 2


PLANS = [
    "明天去办来得及吗",
    "我下周一去派出所",
    "{m}月{d}号之前办完行吗",
    "后天请了半天假去签注，够吗",
    "{d}号去可以吗",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    offset=st.integers(-700, 200),
    today=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    city=st.sampled_from(CITIES),
    plan=st.sampled_from(PLANS),
    ahead=st.integers(1, 40),
)
def test_a_plan_after_a_verdict_never_moves_the_expiry(
    offset: int, today: date, city: str, plan: str, ahead: int, dialog: Dialog
) -> None:
    """「明天去来得及吗」 names a visit, not the expiry: the verdict already given stays as it was."""
    expiry = today + timedelta(days=offset)
    session = Session()
    first = dialog.respond(session, f"我在{city}，签注{expiry.year}年{expiry.month}月{expiry.day}日到期", today)
    assert first.verdict is not None
    visit = today + timedelta(days=ahead)
    turn = dialog.respond(session, plan.format(m=visit.month, d=visit.day), today)
    assert (session.expiry, session.city) == (expiry, first.session.city)
    assert turn.verdict is not None
    assert turn.verdict.case == first.verdict.case
