"""What a date in a message stands for: the day the 签注 expires, a day the user plans to go, or unknown."""

from __future__ import annotations

import re

from intents.date_finding import Role

_EXPIRY = re.compile(
    r"到.?期|过期|有效期|期满|截止|失效|逾期|超期|过的期|就过了|断签|没(?:有)?去?(?:签|弄|办|续)|忘(?:记)?了?(?:签|弄|办|续)"
    r"|(?:签注|居住证|证)(?:是|在|到)|expire|overdue"
)
_PLAN = re.compile(
    r"去|(?<![咋怎么])办|请.{0,3}假|来得及|赶得上|赶得及|够吗|够不够|行吗|行不行|可以吗|能不能|预约|跑一趟|提交|递交|过去|排队"
)
# 上周已经签过了, 昨天办好了: the endorsement is done, the date is the visit.
DONE = re.compile(
    r"(?:已经|早就|刚刚?)(?:去)?(?:签|办|弄|续)(?![注不])|(?<![没未])(?:签|办|弄|续)(?:过了|过|好了|完了)(?![吗没期])"
)
_LAPSED_BEFORE = re.compile(r"(?:过期|到期|逾期|超期|超了|过了|断了|拖了)了?$")
_CLAUSE = re.compile(r"[,.!?;:\s。，！？；：]")  # chat messages often separate phrases with spaces
_WINDOW = 10


def role_of(text: str, start: int, end: int) -> Role:
    """The role of text[start:end], read from the words next to it within its clause.

    The words after the date come first (11月20号到期 / 明天去办), then the words before it (有效期到11月20日).
    """
    lo = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
    stop = _CLAUSE.search(text, end)
    hi = stop.start() if stop else len(text)
    after = text[end : min(hi, end + _WINDOW)]
    if _LAPSED_BEFORE.search(text, max(lo, start - 3), start):
        return "expiry"  # 过期一个多月, 超了23个月: a duration said of the lapse
    done = DONE.search(after)
    expiry, plan = _EXPIRY.search(after), _PLAN.search(after)
    if done and (expiry is None or done.start() < expiry.start()):
        return "done"
    if expiry and (plan is None or expiry.start() < plan.start()):
        return "expiry"
    if plan:
        return "plan"
    before = text[max(lo, start - _WINDOW) : start]
    expiry, plan = _EXPIRY.search(before), _PLAN.search(before)
    if expiry and (plan is None or expiry.end() > plan.end()):
        return "expiry"
    return "plan" if plan else "unknown"
