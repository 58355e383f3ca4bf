"""Whose permit a message is about: the user's own, or someone else's (我老婆的也过期了, 那我朋友呢)."""

from __future__ import annotations

import re

_PEOPLE = (
    "老婆|老公|妻子|丈夫|爱人|媳妇|对象|男朋友|女朋友|男友|女友|朋友|同事|室友|舍友|孩子|儿子|女儿|闺女"
    "|爸爸|妈妈|父亲|母亲|老爸|老妈|爸妈|父母|公公|婆婆|岳父|岳母|丈母娘|哥哥|姐姐|弟弟|妹妹|亲戚|家人"
    "|老乡|同学|员工|租客|邻居|闺蜜|兄弟|表哥|表姐|表弟|表妹|堂哥|堂姐|小舅子|女婿|儿媳"
)
# A person word that owns the permit (我老婆的, 朋友也, 同事居住证, 帮我朋友算) or comes back as a question (朋友呢).
_OTHER = re.compile(
    rf"(?P<p>{_PEOPLE}|(?<=[我俺])(?:妈|爸|哥|姐|弟|妹))(?=的|也|呢|那边|居住证|签注|证件|在|住|办|弄|算|查|看|问|是"
    r"|[0-9一二三四五六七八九十]+[月号日]|上个?月|下个?月|去年|今年|明年)"
)
_SELF = re.compile(r"我自己|我本人|我的呢|回到我|说回我|算回我|我自己的|我这边|还是我的")


_FULL = {"妈": "妈妈", "爸": "爸爸", "哥": "哥哥", "姐": "姐姐", "弟": "弟弟", "妹": "妹妹"}
_SAME_DAY = re.compile(r"同一天|一样|这个时候|那个时候|同时|也是这天|也是那天|跟我同|和我同")


# Characters that every person word holds one of: a message without any is about nobody else (most are).
_PERSON_CHARS = frozenset("婆公妻夫人妇象友事孩子儿女爸妈父母哥姐弟妹戚乡学员客居蜜兄婿")


def other_person(text: str) -> str | None:
    """The person a message is about, when it is not the user (the first one named; 我妈 is 妈妈)."""
    if _PERSON_CHARS.isdisjoint(text):
        return None
    match = _OTHER.search(text)
    return _FULL.get(match["p"], match["p"]) if match else None


def same_day(text: str) -> bool:
    """The other person's permit lapses when the user's does (我妈的也是这个时候到期)."""
    return _SAME_DAY.search(text) is not None


def back_to_self(text: str) -> bool:
    """The user returns to their own permit (我自己的呢)."""
    return "我" in text and _SELF.search(text) is not None
