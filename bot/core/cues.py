"""What a message is, beyond its intent: a question, a statement of a date or a place, a request for sources."""

from __future__ import annotations

import re

from bot.core.session import Session
from bot.core.understanding import Reading

NOT_YET = re.compile(r"(没|未|不)(有)?(过期|到期|到|失效)")
PLACE_SUFFIX = re.compile(r"(市|地区|盟|自治州|区|县|旗|镇|州)$")
PLACE_LEAD = re.compile(r"^(?:我们?|本人)?(?:现在|目前|一直)?(?:是|人)?(?:在|住在|住|来自|到了|搬到|搬去了?)?")
HAN_ONLY = re.compile(r"^[\u3400-\u9fff]{2,10}$")
HAN = re.compile(r"[\u3400-\u9fff]")
LATIN = re.compile(r"[a-z]{2,}")
SOURCES = re.compile(r"依据|根据什么|出处|来源|哪条规定|什么规定|凭什么|哪里规定|有规定吗|法律规定")
# What may stand around a bare date or place: 我在上海, 是12月5号的, 住在杭州市.
FILLER = re.compile(
    r"[^\u4e00-\u9fff]|[我你您们他她在住是的了吧呢啊呀哦嗯就也都还到现目前人那这边市区县省号日月年呢怎么样咋]"
)
# Words about where one lives or works, which a bare statement of a place may hold: 我老家河南的，现在在深圳上班.
LIFE = re.compile(r"老家|户口|户籍|工作|上班|生活|打工|居住|办的|办理|读书|上学")
INVITES = re.compile(r"(?:发给我|告诉我)[^。]{0,20}(?:算|查)")
QUESTION = re.compile(
    r"[?？]|吗|么|嘛|怎|如何|多久|多少|几|哪|什么|啥|是否|能不能|可不可以|要不要|会不会|是不是|有没有|还算|行不行|可以"
)
COUNTDOWN = re.compile(
    r"还(?:有|剩|差)(?:几|多少)天|剩(?:下)?(?:几|多少)天|还(?:剩|有)多久|最晚(?:哪天|什么时候|几号|哪一天)"
    r"|截止(?:到|日期)?(?:是)?(?:哪天|几号|什么时候)|倒计时|几号(?:之前|前)|哪天(?:之前|前)"
)
YEAR_WORDS = {"去年": -1, "今年": 0, "明年": 1}


def without_dates(reading: Reading) -> str:
    """The text with its date mentions taken out (the 几 of 前几天 asks nothing)."""
    text = reading.text
    for finding in reading.dates:
        text = text.replace(finding.matched, "")
    return text


def on_topic(s: Session, reading: Reading) -> bool:
    """A date or a place counts only in a message about a permit: one whose intent is clear, one in a
    conversation under way, or one with little more than the date or the place itself (「12月5号」「我在上海」)."""
    if reading.intent is not None or s.started or not (reading.dates or reading.city) or _about_permit(reading):
        return True
    rest = without_dates(reading)
    if reading.city:
        rest = rest.replace(reading.city.matched, "")
    return len(FILLER.sub("", LIFE.sub("", rest))) <= 1


# Words that make a message about the permit even when no intent is clear (天气, 限行 are not among them).
CORE_TERMS = frozenset({"居住证", "签注", "过期", "到期", "快到期", "补办", "重新申领", "注销", "宽限期", "居住登记"})


PERMIT_WORDS = re.compile(r"居住|签|过.?期|到.?期|逾期|超期|失效|证")


def _about_permit(reading: Reading) -> bool:
    if PERMIT_WORDS.search(reading.text):
        return True
    return any(CORE_TERMS.intersection(match.matched) for match in reading.ranked)


def looks_like_word(reading: Reading) -> bool:
    """A bare word of Chinese characters: a place name, perhaps, at the city question."""
    return reading.intent is None and not reading.dates and bool(HAN_ONLY.match(reading.text))


def is_question(reading: Reading) -> bool:
    """The message asks something (吗, 多久, 怎么...), not counting the 几 of a date such as 前几天."""
    return QUESTION.search(without_dates(reading)) is not None
