"""Resolvers for mentions that mean a stretch of days: vague amounts (一个多月前), weeks (上周), 前几天, 二十几号,
festivals (春节前, 国庆期间) and lunar days (初八, 正月十五)."""

from __future__ import annotations

import re
from datetime import date

from intents import date_patterns as p
from intents.date_amounts import amount_range, direction
from intents.date_calc import add_days, add_months, by_month, by_year, month_end, safe_date
from intents.date_finding import Context, DateFinding, inferred, problem, resolved, year_error
from intents.date_numbers import month_day_number, year_of
from intents.festivals import festival_day, holiday_span, lunar_day
from intents.numerals import parse_number

_LUNAR_MONTH = {"正月": 1, "农历正月": 1, "腊月": 12, "农历腊月": 12, "大年": 1}


def lunar(match: re.Match[str], context: Context) -> DateFinding | None:
    """初八 (of the first lunar month unless 腊月 is said), 正月十五, 腊月二十三."""
    text = match["ld"]
    day = parse_number(text.removeprefix("初"))
    month = _LUNAR_MONTH.get(match["lm"] or "", 1)
    if not match["lm"] and not text.startswith("初"):
        return None  # 十五 alone is a number, not a lunar date
    if day is None or not 1 <= day <= 30:
        return None

    def make(year: int) -> date | None:
        return lunar_day(year - (month == 12), month, day)  # 腊月 of the lunar year that ends in `year`

    if match["ry"]:
        return resolved(match, context, make(context.today.year + p.REL_YEAR[match["ry"]]))
    return inferred(match, context, by_year(make, context.today))


def day_decade(match: re.Match[str], context: Context) -> DateFinding | None:
    """二十几号: the 21st to the 29th (十几号: 11th-19th) of the month said, or of this month or the last."""
    low = 21 if match["dec"] in ("二十", "20") else 11
    if match["rm"]:
        month = add_months(context.today, p.rel_month_shift(match["rm"]), 1)
        return resolved(match, context, month.replace(day=low) if month else None, end=_decade_end(month, low))
    if match["m"]:
        number = month_day_number(match["m"])
        if number is None or not 1 <= number <= 12:
            return None
        candidates = by_year(lambda year: safe_date(year, number, low), context.today)
        return inferred(match, context, candidates, span=lambda start: _decade_end(start, low))
    candidates = by_month(low, context.today)
    return inferred(match, context, candidates, span=lambda start: _decade_end(start, low))


def _decade_end(month: date | None, low: int) -> date | None:
    if month is None:
        return None
    last = month_end(month.year, month.month)
    return last.replace(day=min(low + 8, last.day)) if last else None


def week_only(match: re.Match[str], context: Context) -> DateFinding | None:
    monday = add_days(context.today, 7 * p.WEEK_SHIFT[match["wp"]] - context.today.weekday())
    if monday is None:
        return None
    first = add_days(monday, 5) if match["end"] else monday
    return resolved(match, context, first, end=add_days(monday, 6))


_FEW_DAYS = {"几天": (9, 2), "些天": (14, 2), "些日子": (21, 3), "两天": (3, 1), "段时间": (45, 7)}
_FEW_DAYS.update({"一阵": (30, 5), "一阵子": (30, 5), "阵子": (30, 5)})


def few_days_ago(match: re.Match[str], context: Context) -> DateFinding | None:
    most, least = _FEW_DAYS[match["w"]]
    return resolved(match, context, add_days(context.today, -most), end=add_days(context.today, -least))


def vague_amount(match: re.Match[str], context: Context) -> DateFinding | None:
    """一个多月前, 过期两年多, 还有四十来天: a range back from or ahead of today."""
    bounds = amount_range(match)
    if bounds is None:
        return None
    low, high = bounds
    sign = direction(match.string, match.start(), match.end())
    if sign == 0:
        sign = {"past": -1, "future": 1}.get(context.tense, 0)
    if sign == 0:
        return problem(match, context, "no_direction")
    first, last = (
        (high.back(context.today), low.back(context.today))
        if sign < 0
        else (low.ahead(context.today), high.ahead(context.today))
    )
    return resolved(match, context, first, end=last) if first and last else None


# 前 and 后 around a festival: about two weeks before or after it; 前后 a week either side.
_AROUND = {"前": (-15, -1), "之前": (-15, -1), "以前": (-15, -1), "后": (1, 15), "之后": (1, 15), "以后": (1, 15)}
_AROUND["前后"] = _AROUND["左右"] = (-7, 7)


def _festival_range(name: str, rel: str | None) -> tuple[int, int]:
    if rel in _AROUND:
        return _AROUND[rel]
    if rel in ("期间", "假期", "长假", "放假"):
        return holiday_span(name)
    return 0, 0


def holiday(match: re.Match[str], context: Context) -> DateFinding | None:
    name = match["h"]
    first, last = _festival_range(name, match["rel"] or ("前" if name == "年" else None))
    if name == "年" and match.string.startswith("后", match.end()):
        first, last = _AROUND["后"]
    if name == "过完年" and not match["rel"]:
        first, last = _AROUND["后"]
    if match["near"]:  # 五一前一天, 春节后两天
        days = parse_number(match["nd"]) or 1
        first = last = days if match["near"] == "后" else -days

    def start(year: int) -> date | None:
        day = festival_day(name, year)
        return add_days(day, first) if day else None

    def span(begin: date) -> date | None:
        return add_days(begin, last - first)

    year = year_of(match, context.today)
    if year is not None:
        if error := year_error(year, context.today):
            return problem(match, context, error)
        begin = start(year)
        return resolved(match, context, begin, end=span(begin) if begin else None)
    return inferred(match, context, by_year(start, context.today), span=span)
