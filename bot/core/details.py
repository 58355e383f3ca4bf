"""What can be asked after a verdict card, answered for the verdict already given: a part of the whole
verdict (材料, 去哪办, 网上办, 办理时间, 当地提示, 依据) or an action that a channel takes where it can (提醒我,
加到日历), with the generic text that a channel unable to take it keeps."""

from __future__ import annotations

from datetime import date

from bot.catalog.catalog import Catalog
from bot.catalog.models import ACTIONS, DetailId
from bot.core.card import CardRenderer
from bot.core.render import fmt_date
from bot.core.session import Session
from bot.core.session_verdicts import SessionVerdicts
from bot.core.verdicts import Verdict


class Details:
    def __init__(self, catalog: Catalog, card: CardRenderer, verdicts: SessionVerdicts) -> None:
        self.catalog = catalog
        self.card = card
        self.verdicts = verdicts

    def answer(self, s: Session, detail: DetailId, today: date) -> tuple[str, Verdict] | None:
        """The text for `detail` and the verdict it is about; None without a single verdict yet."""
        if not self.verdicts.complete(s):
            return None
        verdict, rule, _text, _cases = self.verdicts.of(s, today)
        if verdict is None:
            return None
        p = self.catalog.prompt
        label, whose = self.verdicts.label(s), s.person or "您"
        if detail not in ACTIONS:
            return self.card.detail(detail, verdict, rule, label, whose), verdict
        if verdict.deadline is None:
            return p("action_no_deadline", what=self.card.head(verdict, rule, label, whose)), verdict
        return p(f"action_{detail}", deadline=fmt_date(verdict.deadline), city=label), verdict

    def more(self, s: Session, today: date, shown: DetailId | None = None) -> tuple[str, ...]:
        """The labels of the details one can still ask for about the verdict of `s` (none without one)."""
        if self.verdicts.full or not self.verdicts.complete(s):
            return ()
        verdict, rule, _text, _cases = self.verdicts.of(s, today)
        if verdict is None:
            return ()
        return tuple(self.label(d) for d in self.card.offered(rule) if d != shown)

    def label(self, detail: DetailId) -> str:
        """The detail's label on buttons and numbered lists: the first of its words."""
        return self.catalog.prompts.details[detail][0]
