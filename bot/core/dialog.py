"""The conversation: fills the two slots from any message, answers FAQs, and gives the verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from bot.catalog.catalog import Catalog
from bot.core.messages import Reply
from bot.core.render import VerdictRenderer, faq_text, fmt_date
from bot.core.rules import CityRule
from bot.core.session import Session
from bot.core.understanding import Reading, Understanding
from bot.core.verdicts import Case, Processing, Verdict, decide
from intents.dates import DateFinding

_NOT_YET = re.compile(r"(没|未|不)(有)?(过期|到期|到|失效)")
_PLACE_SUFFIX = re.compile(r"(市|地区|盟|自治州|区|县)$")
_HAN_ONLY = re.compile(r"^[\u3400-\u9fff]{2,10}$")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[a-z]{2,}")


@dataclass(frozen=True, slots=True)
class Turn:
    replies: list[Reply]
    intent: str
    session: Session
    verdict: Verdict | None = None


class Dialog:
    """Pure conversation logic: (session, text, today) in, (replies, new session) out."""

    def __init__(self, catalog: Catalog, understanding: Understanding) -> None:
        self.catalog = catalog
        self.understanding = understanding
        self.processing: dict[Case, Processing] = {
            case_id: Processing(c.processing.min_workdays, c.processing.max_workdays, c.processing.wait_months_first)
            for case_id, c in catalog.cases.items()
        }
        self._commands = {word.lower(): name for name, words in catalog.prompts.commands.items() for word in words}
        # Verdicts are pure functions of (expiry, city, today): many users share them on any one day.
        self._renderer = VerdictRenderer(catalog)
        self._verdict = lru_cache(maxsize=16_384)(self._compute_verdict)

    def respond(self, session: Session, raw: str, today: date) -> Turn:
        """The turn for one message; `session` is updated in place and returned in the turn."""
        reading = self.understanding.read(raw, today)
        command = self._commands.get(reading.text.strip(" .!?。！？~"))
        if command == "reset":
            fresh = Session(pending="date")
            return Turn([Reply(self.p("reset_done")), Reply(self.p("ask_date"))], "command.reset", fresh)
        if command in ("help", "start"):
            text = self.p("welcome") if command == "start" else self._help()
            return self._with_resume(session, [text], f"command.{command}")
        if not reading.meaningful:
            return self._with_resume(session, [self.p("empty_input")], "empty")
        if command == "unsure":
            return self._unsure(session)

        notes = [self.p("long_input")] if reading.truncated else []
        if _LATIN.search(reading.text) and not _HAN.search(reading.text):
            notes.append(self.p("not_chinese"))
        s = session  # short name: every helper below takes and updates it
        filled = self._fill_tense_answer(s, reading)
        filled = self._fill_city_pick(s, reading) or filled
        if reading.city and not filled:
            filled = self._fill_city(s, reading)
        if reading.date is not None:
            if reading.date.error:
                return self._bad_date(s, reading.date, notes)
            self._fill_date(s, reading.date, reading)
            filled = True
        elif reading.tense in ("past", "future"):
            s.tense = reading.tense

        intent = reading.intent.intent if reading.intent else None
        if intent and intent.startswith("faq.") and reading.date is None:
            entry = self.catalog.faq_entry(intent.removeprefix("faq."))
            if entry is not None:
                return self._with_resume(s, [*notes, faq_text(self.catalog, entry)], intent)
        if filled or intent == "flow.expired":
            return self._next_step(s, notes, intent or "slot", today)
        if s.pending == "city" and self._looks_like_place(reading):
            s.city, s.city_known, s.province = _PLACE_SUFFIX.sub("", reading.text), False, None
            return self._next_step(s, notes, "unknown_city", today)
        if intent == "smalltalk.thanks":
            return self._with_resume(s, [*notes, self.p("thanks")], intent)
        return self._fallback(s, reading, notes)

    # -- slots ---------------------------------------------------------------------------------------------

    def _fill_tense_answer(self, s: Session, reading: Reading) -> bool:
        if not s.candidates or reading.date is not None:
            return False
        past_word, future_word = self.catalog.prompts.choices["tense"]
        if reading.text == future_word.lower() or _NOT_YET.search(reading.text) or reading.tense == "future":
            chosen = max(s.candidates)
            s.tense = "future"
        elif reading.text == past_word.lower() or reading.tense == "past":
            chosen = min(s.candidates)
            s.tense = "past"
        else:
            return False
        s.expiry, s.candidates = chosen, []
        return True

    def _fill_city_pick(self, s: Session, reading: Reading) -> bool:
        if not s.city_candidates:
            return False
        text = reading.text.strip()
        picked = None
        if text.isdigit() and 1 <= int(text) <= len(s.city_candidates):
            picked = s.city_candidates[int(text) - 1]
        elif reading.city and reading.city.city in s.city_candidates:
            picked = reading.city.city
        if picked is None:
            return False
        s.city, s.city_known, s.province, s.city_candidates = picked, True, None, []
        return True

    def _fill_city(self, s: Session, reading: Reading) -> bool:
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

    def _fill_date(self, s: Session, finding: DateFinding, reading: Reading) -> None:
        if finding.tense in ("past", "future"):
            s.tense = finding.tense
        value = finding.value
        if finding.alternatives:
            if s.tense:
                value = min(finding.alternatives) if s.tense == "past" else max(finding.alternatives)
            elif s.expiry:  # a correction: take the reading closest to what the user said before
                previous = s.expiry
                value = min(finding.alternatives, key=lambda d: abs((d - previous).days))
            else:
                s.candidates, s.expiry = list(finding.alternatives), None
                return
        s.expiry, s.month_only, s.candidates = value, finding.precision == "month", []

    # -- replies -------------------------------------------------------------------------------------------

    def _next_step(self, s: Session, notes: list[str], intent: str, today: date) -> Turn:
        question = self._question(s)
        if question is not None:
            return Turn([Reply("\n".join([*notes, question.text]), question.choices)], intent, s)
        s.pending = None
        verdict, rule, text = self._verdict_of(s, today)
        texts = [*notes]
        if s.month_only and s.expiry:
            texts.append(self.p("month_precision", date=fmt_date(s.expiry)))
        if not s.city_known:
            texts.append(self.p("unknown_city", city=s.city))
        elif rule.level == "national" and s.city not in self.catalog.rules.cities:
            texts.append(self.p("national_fallback", city=s.city))
        texts.append(text)
        return Turn([Reply("\n\n".join(texts))], intent, s, verdict)

    def _question(self, s: Session) -> Reply | None:
        """The next question to ask, recording it as pending; None when both slots are filled."""
        choices = self.catalog.prompts.choices
        if s.candidates:
            s.pending = "tense"
            month_day = f"{s.candidates[0].month}月{s.candidates[0].day}日"
            return Reply(self.p("ask_tense", date=month_day), tuple(choices["tense"]))
        if s.city_candidates:
            s.pending = "city_pick"
            listed = "、".join(f"{n}. {c}" for n, c in enumerate(s.city_candidates, 1))
            return Reply(self.p("ask_city_pick", candidates=listed), tuple(s.city_candidates))
        if s.expiry is None:
            s.pending = "date"
            return Reply(self.p("ask_date"))
        if s.city is None:
            s.pending = "city"
            if s.province:
                cities = self.catalog.places.provinces().get(s.province, [])
                ruled = [c for c in cities if c in self.catalog.rules.cities]
                options = [*ruled, *(c for c in cities if c not in ruled)][:6]
                return Reply(self.p("ask_city_in_province", province=s.province), tuple(options))
            return Reply(self.p("ask_city"), tuple(choices["cities"]))
        return None

    def verdict_for(self, s: Session, today: date) -> tuple[Verdict, CityRule]:
        verdict, rule, _ = self._verdict_of(s, today)
        return verdict, rule

    def _verdict_of(self, s: Session, today: date) -> tuple[Verdict, CityRule, str]:
        """The (memoised) verdict, rule and reply text for a session whose slots are filled."""
        assert s.expiry is not None
        return self._verdict(s.expiry, s.city if s.city_known else None, s.city or "", today)

    def _compute_verdict(
        self, expiry: date, rule_city: str | None, label: str, today: date
    ) -> tuple[Verdict, CityRule, str]:
        rule = self.catalog.rule_for(rule_city)
        verdict = decide(expiry, rule, today, self.processing)
        return verdict, rule, self._renderer.render(verdict, rule, label)

    def _with_resume(self, s: Session, texts: list[str], intent: str, choices: tuple[str, ...] = ()) -> Turn:
        """Answers, then repeats the question the conversation was waiting on, if any."""
        answer = Reply("\n".join(texts), choices)
        question = self._question(s) if s.started else None
        if question is None:
            return Turn([answer], intent, s)
        return Turn([answer, Reply(f"{self.p('resume')}{question.text}", question.choices)], intent, s)

    def _bad_date(self, s: Session, finding: DateFinding, notes: list[str]) -> Turn:
        key = {"invalid_date": "invalid_date", "out_of_range": "out_of_range_date"}.get(
            finding.error or "", "vague_date"
        )
        matched = finding.matched if key != "vague_date" else finding.matched.rstrip("年") + "年"
        s.pending = s.pending or "date"
        return Turn([Reply("\n".join([*notes, self.p(key, matched=matched)]))], f"date.{finding.error}", s)

    def _unsure(self, s: Session) -> Turn:
        return self._with_resume(s, [self.p("unsure")], "unsure")

    def _fallback(self, s: Session, reading: Reading, notes: list[str]) -> Turn:
        suggestions = [
            entry.question
            for match in reading.ranked
            if match.intent.startswith("faq.")
            and (entry := self.catalog.faq_entry(match.intent.removeprefix("faq."))) is not None
        ][:3]
        choices = tuple(suggestions or self.catalog.prompts.choices["fallback"])
        text = "\n".join([*notes, self.p("fallback"), *(f"{n}. {q}" for n, q in enumerate(choices, 1))])
        return self._with_resume(s, [text], "fallback", choices)

    def _help(self) -> str:
        topics = "、".join(dict.fromkeys(e.topic for e in self.catalog.faq))
        return self.p("help", topics=topics)

    def _looks_like_place(self, reading: Reading) -> bool:
        return reading.intent is None and reading.date is None and bool(_HAN_ONLY.match(reading.text))

    def p(self, key: str, **fields: object) -> str:
        return self.catalog.prompt(key, **fields)
