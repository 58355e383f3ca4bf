"""The verdict a session's slots give, memoised: a pure function of (expiry range, city, today), which many users
share on any one day; and how a verdict names whose permit it is."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from bot.catalog.catalog import Catalog
from bot.core.followups import Followups
from bot.core.render import VerdictRenderer, fmt_date, render_split
from bot.core.rules import CityRule
from bot.core.session import Session
from bot.core.verdicts import Case, Processing, Verdict, decide, segments

Outcome = tuple[Verdict | None, CityRule, str, tuple[Case, ...]]  # (verdict, rule, text, every possible case)


class SessionVerdicts:
    def __init__(self, catalog: Catalog, renderer: VerdictRenderer, followups: Followups, full: bool) -> None:
        """`full`: the text of a single verdict is the whole verdict; otherwise there is none (the card is written
        from the verdict itself), and only a range that spans several cases gets its text here."""
        self.catalog = catalog
        self.renderer = renderer
        self.followups = followups
        self.full = full
        self.processing: dict[Case, Processing] = {
            case_id: Processing(c.processing.min_workdays, c.processing.max_workdays, c.processing.wait_months_first)
            for case_id, c in catalog.cases.items()
        }
        self._outcome = lru_cache(maxsize=16_384)(self._compute)

    @staticmethod
    def complete(s: Session) -> bool:
        """Both slots are filled and nothing about them is still being asked."""
        return s.expiry is not None and s.city is not None and not s.candidates and not s.city_candidates

    @staticmethod
    def rule_city(s: Session) -> str | None:
        """The city whose rule applies: the session's city when it is one we know, else None (the national rule)."""
        return s.city if s.city_known else None

    def label(self, s: Session) -> str:
        """「上海」, or 「老婆｜上海」 for someone else's permit: how the verdict names whose it is."""
        city = s.city or ""
        return self.catalog.prompt("person_label", person=s.person, city=city) if s.person else city

    def of(self, s: Session, today: date) -> Outcome:
        """The outcome for a session whose slots are filled; the verdict is None when the expiry range leads to
        several cases."""
        assert s.expiry is not None
        return self._outcome(s.expiry, s.expiry_end, self.rule_city(s), self.label(s), s.person or "您", today)

    def _compute(
        self, first: date, last: date | None, rule_city: str | None, label: str, whose: str, today: date
    ) -> Outcome:
        rule = self.catalog.rule_for(rule_city)
        parts = segments(first, last, rule, today) if last else []
        if len(parts) > 1:
            sources = self.followups.sources(rule)
            text = render_split(self.catalog, parts, rule, label, today, sources)
            return None, rule, text, tuple(part.case for part in parts)
        verdict = decide(first, rule, today, self.processing)  # the earliest day: the earliest deadline
        text = ""
        if self.full:
            text = self.renderer.render(verdict, rule, label, whose)
            if last:
                text = f"{self.catalog.prompt('approx_range', first=fmt_date(first), last=fmt_date(last))}\n\n{text}"
        return verdict, rule, text, (verdict.case,)
