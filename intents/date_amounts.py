"""Vague and compound durations: 一个多月, 两年多, 四十来天, 一年半, 一年零三个月, 三个半月, 大半年, 快两年.

Each becomes a range of offsets from today; the direction (back or ahead) comes from the words around it.
Exact amounts (3天前, 过期两个月) are left to the offset patterns in intents.date_patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from intents.date_calc import add_months
from intents.date_patterns import CN
from intents.numerals import parse_number

_NUM = rf"[0-9]{{1,3}}|[{CN}百]{{1,4}}"
AMOUNT = re.compile(
    rf"(?<![0-9{CN}百])(?P<pre>快要?|将近|接近|差不多|大概|大约|约|近|不到|不足)?"
    r"(?:(?P<big>大半|小半)个?(?P<bu>年|月)"
    rf"|(?P<n>(?P<pair>[一两二三四五六七八九][两二三四五六七八九十])(?=个|天|周|星期|礼拜|月|年)|{_NUM}|好几|几|半)(?P<m1>多|来|几)?(?P<ge>个)?(?P<m2>多)?(?P<h>半)?"
    r"(?P<u>天|周|星期|礼拜|月|年)(?P<m3>多|半)?"
    rf"(?:零?(?P<n2>{_NUM})(?P<u2>个月|天|个?星期|周))?)"
    r"(?P<post>左右|上下|出头)?"
)
# Words before or after an amount that give its direction.
_BACK_BEFORE = re.compile(r"(?:过期|逾期|超期|超了|超过|过了|断了|断签|拖了|到期|失效|已经|已|都)了?有?$")
_AHEAD_BEFORE = re.compile(r"(?:还有|还剩下?|只剩下?|仅剩|剩下?|再过|离到期还?有?)$")
_BACK_AFTER = re.compile(r"(?:以前|之前|前|没(?:去|有)?(?:签|办|续|弄)|了)")
_AHEAD_AFTER = re.compile(r"(?:以后|之后|后|就(?:要)?(?:到期|过期)|到期)")

_STATED = re.compile(r"了(?![吗呢?？])|前|以前|之前|没")  # 几天了, 几天前: a statement, not a question
_UNIT_DAYS = {"天": 1, "周": 7, "星期": 7, "礼拜": 7}


@dataclass(frozen=True, slots=True)
class Offset:
    """A calendar offset: whole months, then days."""

    months: int
    days: int

    def back(self, today: date) -> date | None:
        return self._move(today, -1)

    def ahead(self, today: date) -> date | None:
        return self._move(today, 1)

    def _move(self, today: date, sign: int) -> date | None:
        moved = add_months(today, sign * self.months)
        try:
            return moved + timedelta(days=sign * self.days) if moved else None
        except OverflowError:
            return None


def _offset(amount: float, unit: str) -> Offset:
    """`amount` units as whole months plus days (half a month is 15 days)."""
    if unit in _UNIT_DAYS:
        return Offset(0, max(0, round(amount * _UNIT_DAYS[unit])))
    months = amount * (12 if unit == "年" else 1)
    whole = int(months)
    return Offset(whole, round((months - whole) * 30))


def amount_range(match: re.Match[str]) -> tuple[Offset, Offset] | None:
    """The shortest and the longest offset a vague amount can mean, or None for an exact amount."""
    low: float
    high: float
    if match["big"]:  # 大半年: 7-11 months; 小半年: 4-6 months; 大半个月: 16-25 days
        most = match["big"] == "大半"
        if match["bu"] == "月":
            return (Offset(0, 16), Offset(0, 25)) if most else (Offset(0, 8), Offset(0, 14))
        return (Offset(7, 0), Offset(11, 0)) if most else (Offset(4, 0), Offset(6, 0))
    unit = match["u"]
    if unit == "月" and not (match["ge"] or match["h"] or match["m1"] or match["n"] in ("两", "几", "好几", "半")):
        return None  # 5月 is May, not five months
    if match["pair"]:  # 七八个月, 两三天, 一两年: between the two
        first, second = parse_number(match["pair"][0]), parse_number(match["pair"][1])
        if first is None or second is None or second != first + 1 or match["n2"]:
            return None
        lo, hi = _offset(float(first), unit), _offset(float(second), unit)
        return _widen(lo, hi, match, unit)
    if match["n"] in ("几", "好几"):
        if match["n2"] or (match["n"] == "几" and not _STATED.match(match.string, match.end())):
            return None  # 还有几天 asks how many days; 过期几天了 says a few days
        low, high = (2.0, 9.0) if match["n"] == "几" else (3.0, 9.0)
    else:
        number = 0.5 if match["n"] == "半" else parse_number(match["n"])
        if not number:
            return None
        low, high = _spread(float(number), match)
        if low == high and not (match["n2"] or match["pre"] or match["post"]):
            return None  # an exact amount: the offset patterns read it
    lo, hi = _offset(low, unit), _offset(high, unit)
    if match["n2"] and match["u2"]:  # 一年零三个月: exact in months, not in days
        extra = parse_number(match["n2"])
        if extra is None or not ("零" in match[0] or match["u2"].startswith("个")):
            return None  # 一年零三个月 and 一年三个月, but not 5年五周
        unit2 = match["u2"].removeprefix("个")
        rest = _offset(float(extra), unit2)
        total = Offset(lo.months + rest.months, lo.days + rest.days)
        slack = 15 if unit2 == "月" else 1
        lo, hi = _minus_days(total, slack), Offset(total.months, total.days + slack)
    return _widen(lo, hi, match, unit)


def _spread(number: float, match: re.Match[str]) -> tuple[float, float]:
    """The amount in units before the words around it widen it."""
    more = "多" in (match["m1"], match["m2"], match["m3"])
    half = match["h"] == "半" or match["m3"] == "半"
    if match["m1"] == "几":  # 十几天, 二十几天
        return number + 1, number + 9
    if match["m1"] == "来":  # 四十来天: about forty
        return number - max(1.0, number // 10), number + max(2.0, number // 5)
    if more and number >= 10 and number % 10 == 0 and match["m1"] == "多":
        step = 99 if number % 100 == 0 else 9  # 二十多天: 21-29; 一百多天: 101-199
        return number + 1, number + step
    if more and number == 0.5:  # 半年多: more than half a year, less than a year
        return 0.5, 1.0
    if half:
        return number + 0.4, number + 0.6  # 一年半: about 17-19 months; 三个半月: about 3.5 months
    if more:  # 一个多月: the edges are kept, so that month-end arithmetic never leaves the true day out
        return number, number + 1
    return number, number


def _widen(lo: Offset, hi: Offset, match: re.Match[str], unit: str) -> tuple[Offset, Offset]:
    """快两年, 将近三个月, 大概四十天, 一年左右: an approximate amount."""
    slack = {"年": 60, "月": 10}.get(unit, 2 if unit == "天" else 3)
    if match["pre"] in ("快", "快要", "将近", "接近", "近", "不到", "不足"):
        return _minus_days(lo, slack), _minus_days(hi, 1)
    if match["pre"] or match["post"] in ("左右", "上下"):
        return _minus_days(lo, slack), Offset(hi.months, hi.days + slack)
    if match["post"] == "出头":
        return lo, Offset(hi.months, hi.days + slack)
    return lo, hi


def _minus_days(offset: Offset, days: int) -> Offset:
    """An offset shortened by some days, borrowing a month (as 30 days) when needed."""
    months, left = offset.months, offset.days - days
    while left < 0 and months > 0:
        months, left = months - 1, left + 30
    return Offset(months, max(0, left))


def direction(text: str, start: int, end: int) -> int:
    """-1 when the amount lies back from today (过期一个多月了), 1 ahead (还有一个多月), 0 when the words do not say."""
    before, after = text[max(0, start - 6) : start], text[end : end + 6]
    if _AHEAD_BEFORE.search(before):
        return 1
    if _BACK_BEFORE.search(before):
        return -1
    if _AHEAD_AFTER.match(after):
        return 1
    if _BACK_AFTER.match(after):
        return -1
    return 0
