"""Festival dates for any year: lunar ones from the lunardate package, 清明 from the solar-term formula."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from lunardate import LunarDate

# name -> (lunar month, lunar day)
_LUNAR = {"春节": (1, 1), "元宵": (1, 15), "端午": (5, 5), "七夕": (7, 7), "中秋": (8, 15), "重阳": (9, 9)}
# Festivals of the last lunar month fall in the Gregorian year after the lunar year began.
_LUNAR_YEAR_END = {"腊八": (12, 8), "小年": (12, 23)}
# name -> (month, day) of the Gregorian calendar
_SOLAR = {"元旦": (1, 1), "劳动节": (5, 1), "五一": (5, 1), "国庆": (10, 1), "圣诞": (12, 25), "平安夜": (12, 24)}
_SOLAR.update({"情人节": (2, 14), "儿童节": (6, 1), "六一": (6, 1), "妇女节": (3, 8), "三八节": (3, 8)})
_SOLAR.update({"双十一": (11, 11), "冬至": (12, 22)})  # 冬至 is the 21st or 22nd: near enough for a range
ALIASES = {"过年": "春节", "过完年": "春节", "年": "春节", "大年三十": "除夕", "年三十": "除夕"}
# The public holiday that a festival's name also stands for (国庆期间): days from the festival day.
_HOLIDAY_DAYS = {"春节": (-1, 6), "国庆": (0, 6), "劳动节": (0, 4), "五一": (0, 4), "元旦": (0, 2)}


@lru_cache(maxsize=512)
def festival_day(name: str, year: int) -> date | None:
    """The day of a festival in a Gregorian year, or None outside the supported years (1900-2099)."""
    name = ALIASES.get(name, name)
    try:
        if name in _SOLAR:
            return date(year, *_SOLAR[name])
        if name == "清明":
            return date(year, 4, _qingming_day(year)) if 1901 <= year <= 2099 else None
        if name in _LUNAR_YEAR_END:
            month, day = _LUNAR_YEAR_END[name]
            year_end: date = LunarDate(year - 1, month, day).to_solar_date()
            return year_end
        if name == "除夕":
            new_year: date = LunarDate(year, 1, 1).to_solar_date()
            return new_year - timedelta(days=1)
        month, day = _LUNAR[name]
        solar: date = LunarDate(year, month, day).to_solar_date()
        return solar
    except (ValueError, KeyError, OverflowError, IndexError):
        return None


@lru_cache(maxsize=512)
def lunar_day(year: int, month: int, day: int) -> date | None:
    """A day of the lunar calendar (month 1 = 正月, 12 = 腊月) of the lunar year that starts in `year`."""
    try:
        solar: date = LunarDate(year, month, day).to_solar_date()
        return solar
    except (ValueError, OverflowError, IndexError):
        return None


def holiday_span(name: str) -> tuple[int, int]:
    """The days of the public holiday around a festival, relative to the festival day."""
    return _HOLIDAY_DAYS.get(ALIASES.get(name, name), (0, 0))


def _qingming_day(year: int) -> int:
    """The April day of the 清明 solar term (the common 20th/21st-century formula, C = 4.81 / 5.59)."""
    y = year % 100
    c = 5.59 if year < 2001 else 4.81
    return int(y * 0.2422 + c) - (y // 4 if year >= 2001 else (y - 1) // 4)
