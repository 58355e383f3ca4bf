"""Tense cues for the date extractor: is the endorsement already lapsed, about to lapse, or unknown."""

from __future__ import annotations

import re
from typing import Literal

from intents.date_patterns import CN

Tense = Literal["past", "future", "maybe_future", "maybe_past", "unknown"]

_LAPSES = ("过期", "到期", "失效", "逾期")
_LAPSE = f"(?:{'|'.join(_LAPSES)})"
# 3, 十五, 半, 几, 好几 (loose: it is only a cue), not starting inside a longer number (2025年前)
_COUNT = rf"[0-9{CN}百半几好](?<![0-9{CN}百几好].)[0-9{CN}百几]{{0,2}}"
_UNIT = r"(?:个?(?:天|周|星期|礼拜|年)|个月|(?<=半)月)"  # 12月前 is "before December", not an offset
_PERIOD = r"(?:周|星期|礼拜|月)"


def _alternatives(*parts: str) -> re.Pattern[str]:
    """Every alternative starts with a literal (lookbehinds come after it), so scanning stays fast."""
    return re.compile("|".join(parts))


# Imminent or negated lapses: 快到期了, 马上就要过期, 还有3天, 还没过期. They are blanked out before
# the other cues are searched, so the 了 in 快过期了 is not read as a past tense.
_FUTURE = _alternatives(
    *(f"{prefix}{_LAPSE}了?" for prefix in ("快要?", "就要", "将要", "即将", "马上就?要?", "要(?<![需想只]要)")),
    "即将",
    "马上",
    *(f"{word}(?:不到)?{_COUNT}{_UNIT}" for word in ("还有", "还剩下?", "只剩下?", "仅剩")),
    *(f"{negation}{_LAPSE}" for negation in ("没有?", "未", "不会", "不")),
)
_PAST = _alternatives(
    *(f"{prefix}{_LAPSE}" for prefix in ("已经?", "早就", "早已", "刚刚?", "都")),
    # 过期了, but 就过期了 is neutral: 明天就过期了 / 上个月就过期了
    *(f"{lapse}(?<![快要将就]{lapse})了" for lapse in _LAPSES),
    "过期(?<![会要快将]过期)的",
    f"过期了?{_COUNT}{_UNIT}",
    "逾期",
    "超期",
    "过期(?:好|很|多)久",
    "超(?<![不未没有能得可]超)过",
    *(f"{prefix}过了" for prefix in ("已经", "早就", "早已", "都")),
    f"过了(?:有效期|期限|截止|日期|签注|{_COUNT}{_UNIT})",
    # 过期一个多月, 超了四十来天, 过的期, expired
    f"(?:过期|逾期|超期|到期|失效)了?(?:有)?(?:[0-9{CN}百半几好大快近将]|一年|两年)",
    "超了",
    "过的期",
    "断签",
    "忘记?了?(?:签|弄|办|续)",
    "(?<!还)没(?:有)?去?(?:签|续|办)(?![完好法])",
    "拖着",
    "expired",
    "overdue",
    "lapsed",
)
# Relative words and offsets only decide when no state verb above did.
_OFFSET = re.compile(rf"{_COUNT}{_UNIT}(?P<dir>以前|之前|前|以后|之后|后)")
_WEAK_PAST = _alternatives(
    "昨天", "昨日", "大前天", "前(?<![以之然最往提目]前)天", f"上(?<!一上)上?个?{_PERIOD}", "去年", "前年"
)
_WEAK_FUTURE = _alternatives("明天", "明日", "后(?<![以之然最往落]后)天", f"下(?<!一下)下?个?{_PERIOD}", "明年", "后年")
# Words that lean to the past without settling it: 11月20号就过了 (明天就过了 is a lapse to come).
# 就过了 without a date nearby may be either way (明天就过了); with a yearless date the recency rule decides.
_MAYBE_PAST = _alternatives("就过了", "断了", "到期的(?!话|时候)")
_MAYBE_FUTURE = _alternatives(
    "到期(?!了)", *(f"{word}(?:到|至|截止)" for word in ("有效期", "宽限期", "期限")), "截止", "期满"
)


def _direction(past: bool, future: bool) -> Tense | None:
    if past and future:
        return "unknown"  # contradicting cues: do not guess
    if past:
        return "past"
    return "future" if future else None


def tense_of(normalized: str) -> Tense:
    """Tense of already normalised text, decided by the first step that finds a cue:

    1. State verbs. future: 快/要/就要/即将/马上 + 过期/到期/失效/逾期, 即将, 马上, 还有/还剩 + N天,
       没/未/不会 + 过期. These spans are blanked out first. past: 已(经)/早就/刚/都 + 过期/到期,
       过期了/到期了/失效了 (not after 快/要/将/就), 过期的, 过期N天, 逾期, 超过 (not 不超过), 已经过了,
       过了有效期. Both kinds present -> "unknown".
    2. Relative words. past: N天/周/个月/年 + 前/以前/之前, 昨天, 前天, 上周, 上个月, 去年;
       future: the same + 后/以后/之后, 明天, 后天, 下周, 下个月, 明年. Both -> "unknown".
    3. "maybe_past": 就过了, 断了 (said of a lapse, but also of a lapse to come).
    4. "maybe_future": 到期 not followed by 了, 有效期/宽限期/期限 + 到/至/截止, 截止, 期满.
    5. Otherwise "unknown".
    """
    rest, imminent = _FUTURE.subn("|", normalized)
    strong = _direction(_PAST.search(rest) is not None, imminent > 0)
    if strong is not None:
        return strong
    offsets = {"前" in match["dir"] for match in _OFFSET.finditer(rest)}
    past = True in offsets or _WEAK_PAST.search(rest) is not None
    weak = _direction(past, False in offsets or _WEAK_FUTURE.search(rest) is not None)
    if weak is not None:
        return weak
    if _MAYBE_PAST.search(rest):
        return "maybe_past"
    return "maybe_future" if _MAYBE_FUTURE.search(rest) else "unknown"
