"""Filling the conversation's slots from one reading: whose permit, the expiry (a day or a range, with the
year assumed or asked), the tense, and the city."""

from __future__ import annotations

from datetime import date

from bot.catalog.catalog import Catalog
from bot.catalog.models import FaqEntry
from bot.core import cues
from bot.core.render import fmt_date
from bot.core.session import Session
from bot.core.understanding import Reading
from intents.dates import DateFinding
from intents.normalize import normalize
from intents.people import same_day


class Slots:
    """Updates a session in place; the texts it returns (notes about an assumption or a person) come from the
    content."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # The texts of the year-fix buttons, as they come back once normalised (「，」 becomes 「,」).
        self._fixes = {
            normalize(self.p(key)).strip(" .!?~,") for key in ("year_fix_next", "year_fix_last", "year_fix_this")
        }

    # -- whose permit ----------------------------------------------------------------------------------------

    def whose(self, s: Session, reading: Reading, entry: FaqEntry | None) -> list[str]:
        """Switches between the user's own calculation and someone else's; returns what to say about it."""
        if reading.own_again and s.person:
            own = s.own
            s.person, s.own = None, None
            s.load_slots(own)
            return [self.p("back_to_own")]
        person = reading.person
        if not person or person == s.person:
            return []
        bare = len(cues.FILLER.sub("", reading.text.replace(person, ""))) <= 3  # 那我儿子的呢, 我老婆的也是
        if entry is not None and not reading.dates and not reading.city and not bare:
            return []
        expiry, expiry_end = s.expiry, s.expiry_end
        if s.person is None and s.started:
            s.own = s.slots()
        s.load_slots(None)
        s.person = person
        if expiry is not None and same_day(reading.text) and not reading.dates:
            s.expiry, s.expiry_end = expiry, expiry_end  # 我妈的也是这个时候到期: the same expiry
        return [self.p("other_person", person=person)]

    # -- slots ---------------------------------------------------------------------------------------------

    def fill_year_fix(self, s: Session, reading: Reading, today: date) -> bool:
        """「不对，是明年的」 after a verdict on an assumed year: switch to the other reading."""
        if s.alternative is None or any(d.error is None for d in reading.dates):
            return False
        text = reading.text.strip(" .!?~,")
        wanted = next((shift for word, shift in cues.YEAR_WORDS.items() if word in text), None)
        named = wanted is not None and reading.correction and s.alternative.year == today.year + wanted
        if not (text in self._fixes or named or text in ("不对", "不是", "错了", "不对不对")):
            return False
        s.expiry, s.alternative = s.alternative, s.expiry
        s.expiry_end, s.alternative_end = s.alternative_end, s.expiry_end
        return True

    def fill_tense_answer(self, s: Session, reading: Reading) -> bool:
        if not s.candidates or reading.date is not None:
            return False
        past_word, future_word = self.catalog.prompts.choices["tense"]
        if reading.text == future_word.lower() or cues.NOT_YET.search(reading.text) or reading.tense == "future":
            index, s.tense = len(s.candidates) - 1, "future"
        elif reading.text == past_word.lower() or reading.tense == "past":
            index, s.tense = 0, "past"
        else:
            return False
        ends = s.candidate_ends or [None] * len(s.candidates)
        s.expiry, s.expiry_end = s.candidates[index], ends[index]
        s.candidates, s.candidate_ends = [], []
        return True

    def fill_city_pick(self, s: Session, reading: Reading) -> bool:
        if not s.city_candidates:
            return False
        text = reading.text.strip()
        picked = None
        if text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= len(s.city_candidates):
            picked = s.city_candidates[int(text) - 1]
        elif reading.city and reading.city.city in s.city_candidates:
            picked = reading.city.city
        if picked is None:
            return False
        s.city, s.city_known, s.province, s.city_candidates = picked, True, None, []
        return True

    def fill_city(self, s: Session, reading: Reading) -> bool:
        finding = reading.city
        assert finding is not None
        if finding.city:
            s.city, s.city_known, s.province, s.city_candidates = finding.city, True, None, []
        elif len(finding.candidates) > 1:
            s.city_candidates = list(finding.candidates)
        elif finding.province:
            s.province = finding.province
        else:
            return False
        return True

    def sort_dates(
        self, s: Session, reading: Reading
    ) -> tuple[DateFinding | None, list[DateFinding], DateFinding | None]:
        """(the date that sets the expiry, the dates that name a plan, an error to report).

        Once an expiry is known, a date whose words do not say what it is counts as a plan, unless the user is
        correcting themselves, the bot is waiting for a date, or the date is a day inside the range given before
        (「1月10号」 after 「1月份过期的」).
        """
        valid = [d for d in reading.dates if d.error is None]
        error = next((d for d in reading.dates if d.error is not None), None)
        known = s.expiry is not None or bool(s.candidates)
        refines = any(d.end is None and self._refines(s, d) for d in valid if d.role == "unknown")
        replaceable = not known or reading.correction or s.pending in ("date", "tense") or refines
        expiry = next((d for d in valid if d.role == "expiry"), None)
        if expiry is None and replaceable and not any(d.role == "done" for d in valid):
            expiry = next((d for d in valid if d.role == "unknown"), None)
        plans = [d for d in valid if d is not expiry and d.role != "done" and (d.role == "plan" or known)]
        return expiry, plans, error

    def fill_date(self, s: Session, finding: DateFinding, today: date) -> list[str]:
        """Sets the expiry (a day or a range); returns a note when the year was assumed."""
        if finding.tense in ("past", "future"):
            s.tense = finding.tense
        assert finding.value is not None
        start, end = finding.value, finding.end
        alternative: tuple[date, date | None] | None = None
        if finding.alternatives:
            pairs = list(zip(finding.alternatives, finding.alternative_ends or (None, None), strict=False))
            inside = [p for p in pairs if s.expiry and s.expiry_end and s.expiry <= p[0] <= s.expiry_end]
            inside = inside or self._in_range(s, start, end)
            if inside:  # the exact day inside a range given before
                start, end = inside[0]
            elif finding.assumed:
                alternative = next(p for p in pairs if p[0] != start)
            elif s.tense:
                start, end = pairs[0] if s.tense == "past" else pairs[-1]
            elif s.expiry:  # a correction: take the reading closest to what the user said before
                previous = s.expiry
                start, end = min(pairs, key=lambda p: abs((p[0] - previous).days))
            else:
                s.candidates, s.candidate_ends = [p[0] for p in pairs], [p[1] for p in pairs]
                s.expiry = s.expiry_end = None
                return []
        s.expiry, s.expiry_end, s.candidates, s.candidate_ends = start, end, [], []
        s.alternative, s.alternative_end = alternative if alternative else (None, None)
        if alternative is None:
            return []
        return [self._assumption(start, alternative[0], today)]

    def _refines(self, s: Session, finding: DateFinding) -> bool:
        if not (s.expiry and s.expiry_end and finding.value):
            return False
        readings = [finding.value, *finding.alternatives]
        return any(s.expiry <= day <= s.expiry_end for day in readings) or bool(
            finding.year_inferred and self._in_range(s, finding.value, None)
        )

    @staticmethod
    def _in_range(s: Session, start: date, end: date | None) -> list[tuple[date, date | None]]:
        """5月10号 after 「2025年5月份」: the same day and month in a year of the range given before."""
        if not (s.expiry and s.expiry_end):
            return []
        for year in range(s.expiry.year, s.expiry_end.year + 1):
            try:
                moved = start.replace(year=year)
            except ValueError:  # 2月29日 in a common year
                continue
            if s.expiry <= moved <= s.expiry_end:
                span = (end - start) if end else None
                return [(moved, moved + span if span else None)]
        return []

    def _assumption(self, chosen: date, other: date, today: date) -> str:
        days = (chosen - today).days
        if days == 0:
            relation = self.p("relation_today")
        else:
            relation = self.p("relation_future" if days > 0 else "relation_past", days=abs(days))
        shift = other.year - today.year
        key = {1: "year_fix_next", -1: "year_fix_last"}.get(shift, "year_fix_this")
        return self.p("year_assumed", date=fmt_date(chosen), relation=relation, choice=self.p(key))

    def p(self, key: str, **fields: object) -> str:
        return self.catalog.prompt(key, **fields)
