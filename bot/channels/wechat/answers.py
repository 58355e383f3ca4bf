"""What each kind of inbound message is answered with: the engine for text, content for the rest."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.calendar_file import has_calendar
from bot.calendar_links import CalendarLinks
from bot.channels.wechat import CHANNEL
from bot.channels.wechat.choices import Choices, pick
from bot.channels.wechat.deferred import Composed, Deferred
from bot.channels.wechat.once import NO_REPLY
from bot.channels.wechat.parse import Inbound
from bot.channels.wechat.replies import choices_block, fit, last_choices, render
from bot.channels.wechat.texts import WechatTexts
from bot.core.dialog import Turn
from bot.core.engine import Engine
from bot.core.errors import StoreUnavailable
from bot.core.messages import Message, Reply
from bot.core.render import fmt_date
from bot.store.base import Store

log = logging.getLogger(__name__)

CALENDAR_ACTION = "action.calendar"


class Answers:
    """Turns an Inbound into the text of its reply (NO_REPLY for events that need none)."""

    def __init__(
        self,
        engine: Engine,
        store: Store,
        texts: WechatTexts,
        deferred: Deferred | None = None,
        links: CalendarLinks | None = None,
    ) -> None:
        self._engine = engine
        self._texts = texts
        self._choices = Choices(store, self.key_of)
        self._deferred = deferred
        self._links = links  # None: no calendar links configured, so 加到日历 is not offered

    def key_of(self, openid: str) -> str:
        """The user's pseudonymous key: stores and logs never see the openid."""
        return self._engine.key(CHANNEL, openid)

    async def compose(self, inbound: Inbound, user: str) -> Composed:
        """The reply to `inbound`: its answer, after any answers kept for `user` (its key) that missed their own
        deadline. A message that needs no answer (most events) carries none of them either. While the store is
        unreachable the user gets the short apology (nothing was changed; the message can be sent again)."""
        try:
            own = await self.answer(inbound)
        except StoreUnavailable as exc:
            log.warning("a WeChat message met an unreachable store (%s); answered with the apology", exc)
            apology = self._engine.catalog.prompt("apology")
            return Composed(apology, apology)
        if not own or self._deferred is None:
            return Composed(own, own)
        return await self._deferred.attach(user, own)

    async def answer(self, inbound: Inbound) -> str:
        texts = self._texts
        if inbound.kind == "text":
            return await self._converse(inbound.openid, inbound.text)
        if inbound.kind == "click":
            said = texts.clicks.get(inbound.text)
            return await self._converse(inbound.openid, said) if said else texts.unknown_click
        if inbound.kind == "subscribe":  # the welcome, with the first steps as numbers that work
            steps = tuple(self._engine.catalog.prompts.choices["start"])
            await self._choices.remember(inbound.openid, (), steps)
            return fit(texts.subscribe, choices_block(steps, texts), texts)
        if inbound.kind == "voice_unrecognised":
            return texts.voice_unrecognised
        if inbound.kind == "unsupported":
            return texts.unsupported_reply(inbound.text)
        return NO_REPLY  # other events (menu links, unsubscribe, location reports) need no answer

    async def _converse(self, openid: str, text: str) -> str:
        shown = await self._choices.shown(openid)
        turn = await self._engine.handle_turn(Message(CHANNEL, openid, pick(text, shown)))
        replies = self._with_calendar(turn)
        await self._choices.remember(openid, shown, last_choices(replies))
        return render(replies, self._texts)

    def _with_calendar(self, turn: Turn) -> list[Reply]:
        """With calendar links: 加到日历 offered after a verdict card with a deadline, and answered with a link.
        提醒我 is never offered here (a passive reply cannot come back later) and keeps the engine's answer."""
        replies, verdict, links = turn.replies, turn.verdict, self._links
        if links is None or verdict is None or verdict.deadline is None or not has_calendar(verdict) or not replies:
            return replies
        if turn.intent == CALENDAR_ACTION:
            verdicts = self._engine.dialog.verdicts
            link = links.link_for(verdict, verdicts.label(turn.session), verdicts.rule_city(turn.session))
            if link is None:
                return replies
            text = self._texts.calendar_link.format(
                url=link.url, deadline=fmt_date(verdict.deadline), until=fmt_date(link.until)
            )
            return [replace(replies[0], text=text), *replies[1:]]
        last = max((n for n, reply in enumerate(replies) if reply.choices), default=None)
        label = self._engine.catalog.prompts.details["calendar"][0]
        if last is None or not replies[last].more or label in replies[last].choices:
            return replies
        offered = replace(replies[last], choices=(*replies[last].choices, label))
        return [*replies[:last], offered, *replies[last + 1 :]]
