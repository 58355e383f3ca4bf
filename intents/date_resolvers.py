"""Turn each date-pattern match into a DateFinding; TIERS lists the patterns, most specific first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from intents import date_patterns as p
from intents.date_amounts import AMOUNT
from intents.date_calc import add_days, add_months, by_month, by_weekday, by_year, month_end, safe_date
from intents.date_finding import Context, DateFinding, Resolver, Span, inferred, problem, resolved, year_error
from intents.date_numbers import month_day_number, year_of
from intents.date_ranges import day_decade, few_days_ago, holiday, lunar, vague_amount, week_only
from intents.numerals import parse_number

# --- numbers ---------------------------------------------------------------------------------------


def _count(match: re.Match[str]) -> tuple[int, str] | None:
    """(days, "d") or (months, "m") for 3天, 两周, 半个月, 半年, 6个月, 2年."""
    number, unit = match["n"], match["u"]
    if number == "半":
        return {"个月": (15, "d"), "月": (15, "d"), "年": (6, "m")}.get(unit)
    count = parse_number(number)
    if count is None:
        return None
    if unit == "天":
        return count, "d"
    if unit == "个月":
        return count, "m"
    return (count * 12, "m") if unit == "年" else (count * 7, "d")


# Whole months and years are round figures (过期两年了 is rarely exactly two years): days either side.
_ROUND_SLACK_DAYS = {"个月": 5, "月": 5, "年": 15}


def _shift(match: re.Match[str], context: Context, sign: int) -> DateFinding | None:
    amount = _count(match)
    if amount is None:
        return None
    count, kind = amount
    if kind == "d":
        return resolved(match, context, add_days(context.today, sign * count))
    shifted = add_months(context.today, sign * count)
    slack = _ROUND_SLACK_DAYS.get(match["u"], 0)
    if shifted is None or not slack:
        return resolved(match, context, shifted)
    return resolved(match, context, add_days(shifted, -slack), end=add_days(shifted, slack))


# --- resolvers: explicit dates ----------------------------------------------------------------------


def _full_date(match: re.Match[str], context: Context) -> DateFinding | None:
    year = year_of(match, context.today)
    month, day = month_day_number(match["m"]), month_day_number(match["d"])
    if year is None or month is None or day is None:
        return None
    if error := year_error(year, context.today):
        return problem(match, context, error)
    value = safe_date(year, month, day)
    return resolved(match, context, value) if value else problem(match, context, "invalid_date")


def _iso_date(match: re.Match[str], context: Context) -> DateFinding | None:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if error := year_error(year, context.today):
        return problem(match, context, error)
    value = safe_date(year, month, day)
    return resolved(match, context, value) if value else problem(match, context, "invalid_date")


def _month_day(match: re.Match[str], context: Context) -> DateFinding | None:
    month, day = month_day_number(match["m"]), month_day_number(match["d"])
    if month is None or day is None:
        return None
    if safe_date(2000, month, day) is None:  # 2000 is a leap year: only truly impossible dates fail
        return problem(match, context, "invalid_date")
    return inferred(match, context, by_year(lambda year: safe_date(year, month, day), context.today))


def _slash_month_day(match: re.Match[str], context: Context) -> DateFinding | None:
    month, day = int(match["m"]), int(match["d"] or match["d2"])
    if safe_date(2000, month, day) is None:
        return None  # 45/60 is a score or a fraction, not an invalid date
    return inferred(match, context, by_year(lambda year: safe_date(year, month, day), context.today))


def _rel_month_day(match: re.Match[str], context: Context) -> DateFinding | None:
    day = month_day_number(match["d"])
    month = add_months(context.today, p.rel_month_shift(match["rm"]), 1)
    if day is None or month is None:
        return None
    value = safe_date(month.year, month.month, day)
    return resolved(match, context, value) if value else problem(match, context, "invalid_date")


def _day_only(match: re.Match[str], context: Context) -> DateFinding | None:
    text = match["d"]
    if match["ri"] and len(text) == 1 and not text.isascii():
        return None  # 一日, 三日 are durations far more often than dates
    day = month_day_number(text)
    if day is None or not 1 <= day <= 31:
        return None
    return inferred(match, context, by_month(day, context.today))


# --- resolvers: month and year edges, month precision ------------------------------------------------


# 月初 is days 1-10, 月中 11-20, 月底 21 to the end; 年初 is January and 年底 December.
_EDGE_DAYS = {"初": (1, 10), "上旬": (1, 10), "中": (11, 20), "中旬": (11, 20), "底": (21, 31), "末": (21, 31)}
_EDGE_DAYS["下旬"] = (21, 31)


def _edge_range(year: int, month: int, edge: str) -> tuple[date | None, date | None]:
    """The days of a month that 月初/月中/月底 cover."""
    end = month_end(year, month)
    if end is None:
        return None, None
    first, last = _EDGE_DAYS[edge]
    return end.replace(day=first), end.replace(day=min(last, end.day))


def _edge_end(edge: str) -> Span:
    return lambda start: _edge_range(start.year, start.month, edge)[1]


def _month_edge(match: re.Match[str], context: Context) -> DateFinding | None:
    shift = p.rel_month_shift(match["rm"]) if match["rm"] else 0
    month = add_months(context.today, shift, 1)
    if month is None:
        return None
    first, last = _edge_range(month.year, month.month, match["edge"])
    return resolved(match, context, first, end=last)


def _year_month_edge(match: re.Match[str], context: Context) -> DateFinding | None:
    month, year = month_day_number(match["m"]), year_of(match, context.today)
    if month is None:
        return None
    if not 1 <= month <= 12:
        return problem(match, context, "invalid_date")
    edge = match["edge"]
    if year is None:
        candidates = by_year(lambda each: _edge_range(each, month, edge)[0], context.today)
        return inferred(match, context, candidates, span=_edge_end(edge))
    if error := year_error(year, context.today):
        return problem(match, context, error)
    first, last = _edge_range(year, month, edge)
    return resolved(match, context, first, end=last)


def _month_span(start: date) -> date | None:
    return month_end(start.year, start.month)


def _year_month(match: re.Match[str], context: Context) -> DateFinding | None:
    month, year = month_day_number(match["m"]), year_of(match, context.today)
    if month is None:
        return None
    if not 1 <= month <= 12:
        return problem(match, context, "invalid_date", "month")
    if year is None:
        today = context.today
        past = safe_date(today.year - (month > today.month), month, 1)
        future = safe_date(today.year + (month < today.month), month, 1)
        return inferred(match, context, (past, future), "month", span=_month_span)
    if error := year_error(year, context.today):
        return problem(match, context, error, "month")
    first = safe_date(year, month, 1)
    return resolved(match, context, first, "month", end=_month_span(first) if first else None)


def _year_edge(match: re.Match[str], context: Context) -> DateFinding | None:
    year = year_of(match, context.today)
    year = context.today.year if year is None else year
    if error := year_error(year, context.today):
        return problem(match, context, error)
    month = 1 if match["edge"] == "初" else 12
    return resolved(match, context, safe_date(year, month, 1), end=month_end(year, month))


def _rel_month_only(match: re.Match[str], context: Context) -> DateFinding | None:
    first = add_months(context.today, p.rel_month_shift(match["rm"]), 1)
    return resolved(match, context, first, "month", end=_month_span(first) if first else None)


def _bare_year(match: re.Match[str], context: Context) -> DateFinding | None:
    """2024年就过期了: the whole year, when the words after it say the lapse; else too vague to use."""
    year = year_of(match, context.today)
    if year is None:
        return None
    error = year_error(year, context.today)
    lapse = p.LAPSE_AFTER.match(match.string, match.end())
    if error is not None or lapse is None:
        return problem(match, context, error or "too_vague")
    first, last = date(year, 1, 1), date(year, 12, 31)
    if "到期" not in lapse[0] and first <= context.today < last:
        last = context.today  # 今年就过期了: some day of this year before today
    return resolved(match, context, first, end=last)


# --- resolvers: relative dates --------------------------------------------------------------------


def _rel_day(match: re.Match[str], context: Context) -> DateFinding | None:
    return resolved(match, context, add_days(context.today, p.REL_DAY[match[0]]))


_PLANNED = re.compile(r"打算|准备|计划|想|要去|去办|去签|过去|请假|去")
_WEEK_RANGE_AFTER = re.compile(r"[至~\-、和或与及]|到(?:周|星期|礼拜)")
_WEEK_RANGE_BEFORE = frozenset(f"每到至~-、和或与及{p.CN}0123456789")


def _weekday(match: re.Match[str], context: Context) -> DateFinding | None:
    weekday = p.WEEKDAY[match["wd"]]
    if match["wp"]:
        monday = add_days(context.today, 7 * p.WEEK_SHIFT[match["wp"]] - context.today.weekday())
        return resolved(match, context, add_days(monday, weekday) if monday else None)
    before = match.string[match.start() - 1 : match.start()]
    if before in _WEEK_RANGE_BEFORE or _WEEK_RANGE_AFTER.match(match.string, match.end()):
        return None  # 周一至周五, 每周三: office hours, not a date
    tense = context.tense
    if tense == "unknown" and _PLANNED.search(match.string, max(0, match.start() - 4), match.end() + 6):
        tense = "future"  # 打算周六去办: a visit to come
    if tense == "unknown":
        return None  # a bare 周三 could be last or next Wednesday: do not guess
    past, future = by_weekday(weekday, context.today)
    return resolved(match, context, past if tense == "past" else future)


def _offset(match: re.Match[str], context: Context) -> DateFinding | None:
    return _shift(match, context, -1 if "前" in match["dir"] else 1)


def _remaining(match: re.Match[str], context: Context) -> DateFinding | None:
    return _shift(match, context, 1)


def _overdue(match: re.Match[str], context: Context) -> DateFinding | None:
    return _shift(match, context, -1)


@dataclass(frozen=True, slots=True)
class Rule:
    """A pattern, its resolver, and the characters it cannot match without: one of `anchor`, and one of
    `also` when that is not empty. The check is cheap, so most patterns never scan most messages."""

    pattern: re.Pattern[str]
    resolve: Resolver
    anchor: frozenset[str]
    also: frozenset[str] = frozenset()


def _rule(pattern: re.Pattern[str], resolve: Resolver, anchor: str, also: str = "") -> Rule:
    return Rule(pattern, resolve, frozenset(anchor), frozenset(also))


_REL_MONTH_WORD = "上下这本当"
_EDGE = "底末初中旬"
_FESTIVAL = "旦庆劳春五过年除宵清端秋初圣平情七重腊小儿六妇三双冬"
_VAGUE = "多来几半零左上出快近约不概个"
_FEW = "几些两段阵"
_DIGITS = "0123456789"
_NUMERALS = _DIGITS + "〇零一二两三四五六七八九十廿百半"  # a rule that reads a number needs one of these
ANCHORS = re.compile(
    rf"[月年号日天周星期拜前后还剩超拖腊正/.\-{_REL_MONTH_WORD}{_EDGE}{_FESTIVAL}{_VAGUE}{_FEW}{_NUMERALS}]"
)

# Most specific first. Within a tier a valid date beats an error, then the first mention wins,
# then the longest one; a lower tier is only looked at when a higher one found nothing.
TIERS: tuple[tuple[Rule, ...], ...] = (
    (
        _rule(p.YMD, _full_date, "月", "年"),
        _rule(p.ISO, _iso_date, "-/.", _DIGITS),
        _rule(p.MD, _month_day, "月", _NUMERALS),
        _rule(p.SLASH_MD, _slash_month_day, "/.", _DIGITS),
        _rule(p.REL_MONTH_DAY, _rel_month_day, "月", _REL_MONTH_WORD),
        _rule(p.MONTH_EDGE, _month_edge, "月", _EDGE),
        _rule(p.YEAR_MONTH_EDGE, _year_month_edge, "月", _EDGE),
        _rule(p.YEAR_EDGE, _year_edge, "年", _EDGE),
        _rule(p.WEEKDAY_REF, _weekday, "周星拜"),
        _rule(AMOUNT, vague_amount, "天周星拜月年", _VAGUE + _NUMERALS),  # 两三天, 七八个月
        _rule(p.FEW_DAYS_AGO, few_days_ago, "前", _FEW),
        _rule(p.OFFSET, _offset, "前后", _NUMERALS),
        _rule(p.REMAINING, _remaining, "还剩", _NUMERALS),
        _rule(p.OVERDUE, _overdue, "期超过拖", _NUMERALS),
    ),
    (
        _rule(p.YEAR_MONTH, _year_month, "月", _NUMERALS),
        _rule(p.REL_MONTH_ONLY, _rel_month_only, "月", _REL_MONTH_WORD),
        _rule(p.DAY_ONLY, _day_only, "号日", _NUMERALS),
        _rule(p.HOLIDAY, holiday, _FESTIVAL),
        _rule(p.LUNAR_DAY, lunar, "初腊正"),
        _rule(p.DAY_DECADE, day_decade, "几"),
        _rule(p.WEEK_ONLY, week_only, "周星拜", "上下这本"),
    ),
    (_rule(p.REL_DAY_WORD, _rel_day, "天日"),),
    (_rule(p.BARE_YEAR, _bare_year, "年", _NUMERALS),),
)
