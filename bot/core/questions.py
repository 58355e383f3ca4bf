"""The next question the conversation asks, whichever slot is missing, recorded as pending in the session."""

from __future__ import annotations

from bot.catalog.catalog import Catalog
from bot.core.messages import Reply
from bot.core.session import Session


class Questions:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def next(self, s: Session) -> Reply | None:
        """The next question to ask, recording it as pending; None when both slots are filled."""
        p, choices = self.catalog.prompt, self.catalog.prompts.choices
        if s.candidates:
            s.pending = "tense"
            return Reply(p("ask_tense", date=candidate_label(s)), tuple(choices["tense"]))
        if s.city_candidates:
            s.pending = "city_pick"
            listed = "、".join(f"{n}. {c}" for n, c in enumerate(s.city_candidates, 1))
            return Reply(p("ask_city_pick", candidates=listed), tuple(s.city_candidates))
        if s.expiry is None:
            s.pending = "date"
            return Reply(p("ask_date_person", person=s.person) if s.person else p("ask_date"))
        if s.city is None:
            s.pending = "city"
            if s.province:
                cities = self.catalog.places.provinces().get(s.province, [])
                ruled = [c for c in cities if c in self.catalog.rules.cities]
                options = [*ruled, *(c for c in cities if c not in ruled)][:6]
                return Reply(p("ask_city_in_province", province=s.province), tuple(options))
            text = p("ask_city_person", person=s.person) if s.person else p("ask_city")
            return Reply(text, tuple(choices["cities"]))
        return None


def candidate_label(s: Session) -> str:
    """The date whose tense is asked: 3月5日, 3月 (a whole month), 3月1日到3月10日."""
    first = s.candidates[0]
    end = s.candidate_ends[0] if s.candidate_ends else None
    if end is None:
        return f"{first.month}月{first.day}日"
    if first.day == 1 and end.month == first.month and end.day >= 28:
        return f"{first.month}月"
    return f"{first.month}月{first.day}日到{end.month}月{end.day}日"
