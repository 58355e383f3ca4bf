"""Turn each date-pattern match into a DateFinding; TIERS lists the patterns, most specific first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from intents import date_patterns as p
from intents.date_amounts import AMOUNT, amount_range, direction
from intents.date_calc import add_days, add_months, by_month, by_weekday, by_year, month_end, safe_date
from intents.date_finding import Context, DateFinding, Resolver, Span, inferred, problem, resolved, year_error
from intents.festivals import festival_day, holiday_span, lunar_day
from intents.numerals import parse_digit_string, parse_number

# --- numbers ---------------------------------------------------------------------------------------


def _year(match: re.Match[str], today: date) -> int | None:
    groups = match.groupdict()
    if groups.get("ry"):
        return today.year + p.REL_YEAR[groups["ry"]]
    text = groups.get("y")
    if text is None:
        return None
    year = int(text) if text.isascii() else parse_digit_string(text)
    return None if year is None else year + 2000 if len(text) == 2 else year


def _month_day_number(text: str) -> int | None:
    """A month or day numeral; 两 is a count (两月 = two months), never a month or a day."""
    return None if "两" in text else parse_number(text)


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
    year = _year(match, context.today)
    month, day = _month_day_number(match["m"]), _month_day_number(match["d"])
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
    month, day = _month_day_number(match["m"]), _month_day_number(match["d"])
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
    day = _month_day_number(match["d"])
    month = add_months(context.today, p.rel_month_shift(match["rm"]), 1)
    if day is None or month is None:
        return None
    value = safe_date(month.year, month.month, day)
    return resolved(match, context, value) if value else problem(match, context, "invalid_date")


def _day_only(match: re.Match[str], context: Context) -> DateFinding | None:
    text = match["d"]
    if match["ri"] and len(text) == 1 and not text.isascii():
        return None  # 一日, 三日 are durations far more often than dates
    day = _month_day_number(text)
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
    month, year = _month_day_number(match["m"]), _year(match, context.today)
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
    month, year = _month_day_number(match["m"]), _year(match, context.today)
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
    year = _year(match, context.today)
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
    year = _year(match, context.today)
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


_LUNAR_MONTH = {"正月": 1, "农历正月": 1, "腊月": 12, "农历腊月": 12, "大年": 1}


def _lunar(match: re.Match[str], context: Context) -> DateFinding | None:
    """初八 (of the first lunar month unless 腊月 is said), 正月十五, 腊月二十三."""
    text = match["ld"]
    day = parse_number(text.removeprefix("初"))
    month = _LUNAR_MONTH.get(match["lm"] or "", 1)
    if match["lm"] == "大年":
        month = 1
    if not match["lm"] and not text.startswith("初"):
        return None  # 十五 alone is a number, not a lunar date
    if day is None or not 1 <= day <= 30:
        return None

    def make(year: int) -> date | None:
        return lunar_day(year - (month == 12), month, day)  # 腊月 of the lunar year that ends in `year`

    if match["ry"]:
        return resolved(match, context, make(context.today.year + p.REL_YEAR[match["ry"]]))
    return inferred(match, context, by_year(make, context.today))


def _day_decade(match: re.Match[str], context: Context) -> DateFinding | None:
    """二十几号: the 21st to the 29th (十几号: 11th-19th) of the month said, or of this month or the last."""
    low = 21 if match["dec"] in ("二十", "20") else 11
    if match["rm"]:
        month = add_months(context.today, p.rel_month_shift(match["rm"]), 1)
        return resolved(match, context, month.replace(day=low) if month else None, end=_decade_end(month, low))
    if match["m"]:
        number = _month_day_number(match["m"])
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


def _week_only(match: re.Match[str], context: Context) -> DateFinding | None:
    monday = add_days(context.today, 7 * p.WEEK_SHIFT[match["wp"]] - context.today.weekday())
    if monday is None:
        return None
    first = add_days(monday, 5) if match["end"] else monday
    return resolved(match, context, first, end=add_days(monday, 6))


_FEW_DAYS = {"几天": (9, 2), "些天": (14, 2), "些日子": (21, 3), "两天": (3, 1), "段时间": (45, 7)}
_FEW_DAYS.update({"一阵": (30, 5), "一阵子": (30, 5), "阵子": (30, 5)})


def _few_days_ago(match: re.Match[str], context: Context) -> DateFinding | None:
    most, least = _FEW_DAYS[match["w"]]
    return resolved(match, context, add_days(context.today, -most), end=add_days(context.today, -least))


def _vague_amount(match: re.Match[str], context: Context) -> DateFinding | None:
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


def _holiday(match: re.Match[str], context: Context) -> DateFinding | None:
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

    year = _year(match, context.today)
    if year is not None:
        if error := year_error(year, context.today):
            return problem(match, context, error)
        begin = start(year)
        return resolved(match, context, begin, end=span(begin) if begin else None)
    return inferred(match, context, by_year(start, context.today), span=span)


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
        _rule(AMOUNT, _vague_amount, "天周星拜月年", _VAGUE + _NUMERALS),  # 两三天, 七八个月
        _rule(p.FEW_DAYS_AGO, _few_days_ago, "前", _FEW),
        _rule(p.OFFSET, _offset, "前后", _NUMERALS),
        _rule(p.REMAINING, _remaining, "还剩", _NUMERALS),
        _rule(p.OVERDUE, _overdue, "期超过拖", _NUMERALS),
    ),
    (
        _rule(p.YEAR_MONTH, _year_month, "月", _NUMERALS),
        _rule(p.REL_MONTH_ONLY, _rel_month_only, "月", _REL_MONTH_WORD),
        _rule(p.DAY_ONLY, _day_only, "号日", _NUMERALS),
        _rule(p.HOLIDAY, _holiday, _FESTIVAL),
        _rule(p.LUNAR_DAY, _lunar, "初腊正"),
        _rule(p.DAY_DECADE, _day_decade, "几"),
        _rule(p.WEEK_ONLY, _week_only, "周星拜", "上下这本"),
    ),
    (_rule(p.REL_DAY_WORD, _rel_day, "天日"),),
    (_rule(p.BARE_YEAR, _bare_year, "年", _NUMERALS),),
)
