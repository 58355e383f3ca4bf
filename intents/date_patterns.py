"""Precompiled regexes and word tables for the Chinese date extractor (text is NFKC-normalised first)."""

from __future__ import annotations

import re
import unicodedata

CN = "〇零一二两三四五六七八九十廿"
_CN_DIGIT = "〇零一二三四五六七八九"

# Month or day numerals: 1-2 Arabic digits or up to three Chinese characters (三十一).
_MD = rf"(?:[0-9]{{1,2}}|[{CN}]{{1,3}})"
# A count for offsets and durations: 3, 15, 两, 十五, 一百, 半.
_COUNT = rf"(?:[0-9]{{1,3}}|[{CN}百]{{1,4}}|半)"
_NOT_AFTER_NUMBER = rf"(?<![0-9{CN}百千万第])"
# A day: Arabic digits with an optional 号/日 (3月5), Chinese numerals only with 号/日 (三月五号).
_DAY = (
    rf"(?P<d>[0-9]{{1,2}}|[{CN}]{{1,3}}(?=[日号]))"
    rf"(?:[日号]|(?![0-9{CN}百千万天个周年月日号点时分几多余:/\-]|\.[0-9]))"
)
_YEAR = rf"{_NOT_AFTER_NUMBER}(?P<y>[0-9]{{4}}|[0-9]{{2}}|[{_CN_DIGIT}]{{4}}|[{_CN_DIGIT}]{{2}})年"
_REL_YEAR = r"(?P<ry>今年|去年|前年|明年|后年)"
_REL_MONTH = r"(?<![马一])(?P<rm>上上个?月|上个?月|这个?月|本月|当月|下下个?月|下个?月)"
_OFFSET_UNIT = r"(?P<u>天|周|星期|礼拜|个星期|个礼拜|个月|(?<=半)月|年)"
_DURATION_TAIL = (
    r"(?!多|半|零|来|出头|左右|上下|以上|以下|以内|之内|内|后|以后|之后|前|以前|之前|起"  # vague or a range: not exact
    r"|[0-9〇零一二两三四五六七八九十])"
)

REL_YEAR: dict[str, int] = {"今年": 0, "去年": -1, "前年": -2, "明年": 1, "后年": 2}
REL_DAY: dict[str, int] = {
    "大前天": -3,
    "前天": -2,
    "昨天": -1,
    "昨日": -1,
    "今天": 0,
    "今日": 0,
    "明天": 1,
    "明日": 1,
    "后天": 2,
    "大后天": 3,
}
WEEK_SHIFT: dict[str, int] = {"上上": -2, "上": -1, "这": 0, "本": 0, "下": 1, "下下": 2}
WEEKDAY: dict[str, int] = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
WEEKDAY.update({str(day): day - 1 for day in range(1, 8)})
# 春节 (first day of the lunar year); outside this table 春节 is not resolved.
SPRING_FESTIVAL: dict[int, tuple[int, int]] = {
    2024: (2, 10),
    2025: (1, 29),
    2026: (2, 17),
    2027: (2, 6),
    2028: (1, 26),
    2029: (2, 13),
    2030: (2, 3),
    2031: (1, 23),
    2032: (2, 11),
    2033: (1, 31),
    2034: (2, 19),
    2035: (2, 8),
}


def rel_month_shift(word: str) -> int:
    """上上个月 -> -2, 上月 -> -1, 这个月 -> 0, 下个月 -> 1, 下下个月 -> 2."""
    sign = -1 if word[0] == "上" else 1 if word[0] == "下" else 0
    return sign * (2 if word[1] == word[0] else 1)


# NFKC maps full-width punctuation too, but a string that needs it takes NFKC's slow path
# (~0.2 µs a character), so the punctuation every Chinese message contains is mapped first.
_WIDE = {"，": ",", "？": "?", "！": "!", "：": ":", "；": ";", "（": "(", "）": ")", "\u3000": " "}
# Traditional characters of date and tense words that a conversion may have missed, and ○ for 〇.
_FOLD = dict(zip("號個週後禮兩過還這國慶勞節將馬沒經剛會○", "号个周后礼两过还这国庆劳节将马没经刚会〇", strict=True))
_FOLD_CHARS = re.compile(f"[{''.join(_FOLD)}]")
_WHITESPACE = re.compile(r"\s")
_SPACE_BEFORE_UNIT = re.compile(rf"([0-9{CN}年月/.\-])\s+(?=[年月日号/.\-])")
_SPACE_AFTER_UNIT = re.compile(rf"([年月/.\-])\s+(?=[0-9{CN}])")


def normalize(text: str) -> str:
    """NFKC, fold a few Traditional/look-alike characters, drop spaces inside dates (2026 年 3 月)."""
    for wide, narrow in _WIDE.items():
        if wide in text:
            text = text.replace(wide, narrow)
    text = _FOLD_CHARS.sub(lambda match: _FOLD[match[0]], unicodedata.normalize("NFKC", text))
    if _WHITESPACE.search(text) is None:
        return text
    return _SPACE_AFTER_UNIT.sub(r"\1", _SPACE_BEFORE_UNIT.sub(r"\1", text))


# --- day precision, explicit --------------------------------------------------------------------
YMD = re.compile(rf"(?:{_YEAR}|{_REL_YEAR})的?(?P<m>{_MD})月{_DAY}")
ISO = re.compile(
    r"(?<![0-9./\-])(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"(?![0-9]|[-/.][0-9])[日号]?"
)
MD = re.compile(rf"{_NOT_AFTER_NUMBER}(?P<m>{_MD})月{_DAY}")
SLASH_MD = re.compile(
    r"(?<![0-9./\-:])(?P<m>[0-9]{1,2})(?:/(?P<d>[0-9]{1,2})(?![0-9%]|[/.\-:][0-9])|"
    r"\.(?P<d2>[0-9]{1,2})(?=[日号]|到期|过期|截止|失效|就到|就过|那天|\s*$))[日号]?"
)
REL_MONTH_DAY = re.compile(rf"{_REL_MONTH}的?{_DAY}")
_EDGE_WORD = r"(?P<edge>底|末|初|中旬|中(?![心间国])|上旬|下旬)"
MONTH_EDGE = re.compile(rf"(?:{_REL_MONTH}|(?<![0-9{CN}个])月)的?{_EDGE_WORD}")
_YEAR_MONTH = rf"(?:(?:{_YEAR}|{_REL_YEAR})的?)?{_NOT_AFTER_NUMBER}(?P<m>{_MD})月份?"
YEAR_MONTH_EDGE = re.compile(rf"{_YEAR_MONTH}的?{_EDGE_WORD}")
YEAR_EDGE = re.compile(
    rf"(?:{_REL_YEAR}年?|{_NOT_AFTER_NUMBER}(?P<y>[0-9]{{4}}|[{_CN_DIGIT}]{{4}})年年?|"
    rf"(?<![0-9{CN}今去前明后新大])年)(?P<edge>底|末|初)(?![一二三四五六七八九十])"  # 大年初三 is a lunar day
)

# --- day precision, relative ---------------------------------------------------------------------
REL_DAY_WORD = re.compile(r"大前天|大后天|(?<![以之然最往提目])前天|(?<![以之然最往落])后天|[今昨明][天日]")
WEEKDAY_REF = re.compile(
    r"(?<![马一])(?P<wp>上上|下下|上|下|这|本)?(?(wp)个?)(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])(?![0-9])"
)
OFFSET = re.compile(
    rf"(?<!期)(?<!期了)(?<![0-9{CN}百])(?P<n>{_COUNT})个?{_OFFSET_UNIT}(?P<dir>以前|之前|前|以后|之后|后)"
)
REMAINING = re.compile(rf"(?:还有|还剩下?|只剩下?|仅剩)(?P<n>{_COUNT}){_OFFSET_UNIT}{_DURATION_TAIL}")
_LAPSED_BY = r"(?:过期|逾期|超期|超了|拖了|(?<![再还])过了|(?:已经|已|都)超过)"
OVERDUE = re.compile(rf"{_LAPSED_BY}了?有?(?P<n>{_COUNT}){_OFFSET_UNIT}了?{_DURATION_TAIL}")
# Festivals, alone or with 那天/前/后/期间. 年前/年后 (not after a number) mean before/after the Spring Festival.
HOLIDAY = re.compile(
    rf"(?:(?:{_YEAR}|{_REL_YEAR})的?)?(?P<h>元旦|国庆|劳动节|春节|过年|大年三十|年三十|除夕|元宵|清明|端午|中秋"
    r"|圣诞|平安夜|情人节|七夕|重阳|腊八|小年|儿童节|六一|妇女节|三八节|双十一|冬至"
    rf"|(?<![0-9{CN}])五一(?=劳动|节|假|前|后|之|以|期间|那|当天|放假|左右|[,.!?;:、。\s]|$)"
    rf"|(?<![0-9{CN}百几多半个今去前明后新])年(?=前|后|以前|以后|之前|之后)(?!后天)|过完年)"
    r"节?(?:(?P<near>前|后)(?P<nd>[一两二三1-3])天"
    r"|(?P<rel>那天|那会儿?|当天|前后|左右|之前|以前|前|之后|以后|后|期间|假期|长假|放假))?"
)
# Days of the first lunar month (初八, 正月十五) and of the last (腊月二十三), as people count the new-year holiday.
LUNAR_DAY = re.compile(
    rf"(?:(?:{_REL_YEAR})的?)?(?P<lm>正月|腊月|农历正月|农历腊月|大年)?(?P<ld>初[一二三四五六七八九十]|"
    r"(?<=月)(?:十[一二三四五六七八九]?|二十[一二三四五六七八九]?|廿[一二三四五六七八九]?|三十))(?![0-9一二三四五六七八九十])"
)
# 二十几号, 上个月十几号, 5月20几号: about a third of a month.
DAY_DECADE = re.compile(rf"(?:(?P<m>{_MD})月|{_REL_MONTH}的?)?(?P<dec>十|二十|20|10)几(?:号|日)")

# --- month precision and vague -------------------------------------------------------------------
REL_MONTH_ONLY = re.compile(_REL_MONTH)  # tier 2: 上个月15号 and 上个月底 were tried first
YEAR_MONTH = re.compile(rf"{_YEAR_MONTH}(?!底|末|初|中|上旬|下旬|内|以内|之内)")  # tier 2: 3月5号 was tried first
BARE_YEAR = re.compile(rf"{_NOT_AFTER_NUMBER}(?P<y>[0-9]{{4}}|[{_CN_DIGIT}]{{4}})年(?![0-9{CN}年底末初])")
# What may follow a bare year to make it the year of the lapse: 2024年就过期了, 2023年就没签过.
LAPSE_AFTER = re.compile(r"(?:的时候|那年|就|都|也)?(?:已经)?(?:过期|到期|失效|过了|没签|没续|断了|断签|没弄)")

# A week without a weekday (上周, 这个星期, 下礼拜): Monday to Sunday; 上周末 is its Saturday and Sunday.
WEEK_ONLY = re.compile(
    r"(?<![马一每])(?P<wp>上上|下下|上|下|这|本)个?(?:周|星期|礼拜)(?P<end>末)?(?![一二三四五六日天1-7几])"
)
# 前几天, 前些天, 前两天, 前段时间 (a few days or weeks ago).
FEW_DAYS_AGO = re.compile(r"前(?P<w>几天|些天|些日子|两天|段时间|一阵子?|阵子)")

DAY_ONLY = re.compile(
    rf"(?<![0-9{CN}百千万第月/.\-路街弄巷道里村镇区苑园坊栋楼幢号])(?P<d>[0-9]{{1,2}}|[{CN}]{{1,3}})"
    r"(?:号(?![线楼窗门口文令店厅馆台位床院房机车柜桌码键字球站厂仓库座栋幢室铺篇章条款项版表人])"
    r"|(?P<ri>日)(?![内起前后]|以[内前后]|之[内前后]))"
)
