"""Outbound: the engine's replies as one passive text of at most 2048 bytes, with choices as numbered lines."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.channels.wechat.texts import MAX_TEXT_BYTES, WechatTexts
from bot.core.messages import Reply

SENTENCE_ENDS = "。！？；!?;\n"


def _size(text: str) -> int:
    return len(text.encode())


def last_choices(replies: Sequence[Reply]) -> tuple[str, ...]:
    """The choices a number can pick: those of the last reply that offers any."""
    return next((r.choices for r in reversed(replies) if r.choices), ())


def choices_block(choices: Sequence[str], texts: WechatTexts, body: str = "") -> str:
    """The numbered lines, unless the body already lists the choices under those numbers (the fallback does)."""
    lines = [f"{n}. {choice}" for n, choice in enumerate(choices, 1)]
    if not lines or all(line in body.splitlines() for line in lines):
        return ""
    return "\n".join([texts.choices_heading, *lines])


def shorten(text: str, room: int) -> str:
    """At most `room` bytes of `text`, ending at the last sentence end that leaves at least a third of it."""
    head = text.encode()[: max(room, 0)].decode("utf-8", "ignore")
    end = max(head.rfind(mark) for mark in SENTENCE_ENDS)
    if end >= len(head) // 3:
        head = head[: end + 1]
    return head.rstrip()


def fit(body: str, tail: str, texts: WechatTexts, limit: int = MAX_TEXT_BYTES) -> str:
    """`body` then `tail` (the choices, kept whole); a body that does not fit is shortened and says so."""
    whole = "\n\n".join(part for part in (body, tail) if part)
    if _size(whole) <= limit:
        return whole
    if tail and _size(tail) + _size(texts.truncated) + 4 > limit // 2:
        tail = ""  # choices that big would crowd out the answer itself
    ending = "\n" + texts.truncated + ("\n\n" + tail if tail else "")
    text = shorten(body, limit - _size(ending)) + ending
    return text.encode()[:limit].decode("utf-8", "ignore")  # never over the limit, whatever the content


def render(replies: Sequence[Reply], texts: WechatTexts) -> str:
    """All replies joined by blank lines, then the choices of the last one that has any: numbered lines for the
    answers to a question, one line for what can be asked next (the details after a verdict card)."""
    body = "\n\n".join(reply.text for reply in replies if reply.text)
    offering = next((r for r in reversed(replies) if r.choices), None)
    if offering is not None and offering.more:
        return fit(body, offering.more_line(), texts)
    return fit(body, choices_block(last_choices(replies), texts, body), texts)


# wechatpy's TextReply.render(), written out: building the reply object costs more than the rest of the reply.
# tests/test_wechat_content.py checks that both give the same bytes.
_TEXT_REPLY = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[{content}]]></Content>\n"
    "<FromUserName><![CDATA[{source}]]></FromUserName>\n<ToUserName><![CDATA[{target}]]></ToUserName>\n"
    "<CreateTime>{created}</CreateTime>\n</xml>"
)


def cdata(text: str) -> str:
    """Text for a CDATA section: "]]>" inside it cannot close the section early."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def passive_xml(text: str, openid: str, account: str, created: int | None = None) -> str:
    """A passive text reply from the Official Account `account` to the follower `openid`."""
    when = int(time.time()) if created is None else created
    return _TEXT_REPLY.format(content=cdata(text), source=cdata(account), target=cdata(openid), created=when)
