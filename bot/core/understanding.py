"""Builds the understanding pipeline once and reads each message with it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from bot.catalog.catalog import Catalog
from bot.core.matching import make_matcher
from intents.cities import CityExtractor, CityFinding
from intents.dates import DateFinding, Tense, read_dates
from intents.dates import best as best_date
from intents.matcher import IntentMatch
from intents.normalize import is_meaningful, normalize
from intents.people import back_to_self, other_person

# 不对 / 是… / 其实是 / 记错了: the user corrects what they said before.
_CORRECTION = re.compile(
    r"不对|不是|其实|记错|搞错|弄错|说错|应该是|改成|改为|更正|纠正|重新说|^是|准确(?:地|的)?(?:说|是)|确切|具体是|精确|实际(?:上)?是"
)


@dataclass(frozen=True, slots=True)
class Reading:
    """What one message says, before any dialog decision."""

    raw: str
    text: str
    meaningful: bool
    truncated: bool
    ranked: tuple[IntentMatch, ...]
    intent: IntentMatch | None
    date: DateFinding | None  # the mention most likely to give the expiry (see intents.dates.best)
    city: CityFinding | None
    tense: Tense
    dates: tuple[DateFinding, ...] = ()  # every date mention, each with its role
    person: str | None = None  # someone else whose permit the message is about
    own_again: bool = False  # the user comes back to their own permit
    correction: bool = False


class Understanding:
    """Reads messages; built once at start-up because jieba's dictionary takes a second to load."""

    def __init__(self, catalog: Catalog, memo_size: int = 20_000) -> None:
        self.cities = CityExtractor(catalog.places.to_places(), catalog.places.provinces())
        self.matcher = make_matcher(catalog.intents, catalog.faq, self.cities.vocabulary())
        # Reading is a pure function of (text, today), and chat traffic repeats itself: quick-reply buttons,
        # suggested questions, greetings and city names arrive verbatim from many users.
        self.read = lru_cache(maxsize=memo_size)(self._read) if memo_size else self._read

    def _read(self, raw: str, today: date) -> Reading:
        text = normalize(raw)
        ranked = tuple(self.matcher.rank(text)) if text else ()
        best = ranked[0] if ranked and ranked[0].score >= self.matcher.threshold else None
        found_dates, tense = read_dates(text, today) if text else ([], "unknown")
        dates = tuple(found_dates)
        found = best_date(found_dates)
        return Reading(
            raw=raw,
            text=text,
            meaningful=is_meaningful(text),
            truncated=len(raw.strip()) > len(text) + 50,
            ranked=ranked,
            intent=best,
            date=found,
            city=self.cities.extract(text) if text else None,
            tense=found.tense if found else tense,
            dates=dates,
            person=other_person(text) if text else None,
            own_again=back_to_self(text),
            correction=_CORRECTION.search(text) is not None,
        )
