"""The conversation: fills the two slots from any message, answers FAQs, and gives the verdict.

The policy, in order (each step is a method below):
1. Commands, empty messages, 不知道.
2. A question about another document (护照, 居留许可...): answer it and change nothing.
3. Whose permit: someone else's (我老婆的也过期了) starts a separate calculation; 我自己的呢 comes back.
4. The slots: a tense answer, a pick among cities, a city, and an *expiry* date. A date that names a plan
   (明天去办) never fills the expiry; after a date is known, only a correction or a date said to be the expiry
   replaces it.
5. A FAQ: answered (for the user's city when it is known) before anything else is asked.
6. A plan date: answered against the deadline already given.
7. After a verdict: short follow-ups (还有几天, 依据是什么) from that verdict.
8. Otherwise the next question, or the verdict, or the fallback.

A returning user's kept slots (`Session.recalled`, marked by the engine) are named before the first verdict that
uses them, with a choice to change them; a slot the user gives again in the new conversation is not named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from bot.catalog.catalog import Catalog
from bot.catalog.models import ACTIONS, DetailId, FaqEntry
from bot.core import cues
from bot.core.card import CardRenderer
from bot.core.followups import Followups
from bot.core.messages import Reply
from bot.core.render import VerdictRenderer, faq_text, fmt_date, render_split
from bot.core.rules import CityRule
from bot.core.session import Session
from bot.core.slots import Slots
from bot.core.understanding import Reading, Understanding
from bot.core.verdicts import Case, Processing, Verdict, decide, segments
from intents.dates import DateFinding


@dataclass(frozen=True, slots=True)
class Turn:
    replies: list[Reply]
    intent: str
    session: Session
    verdict: Verdict | None = None
    cases: tuple[Case, ...] = ()  # every case the expiry range can lead to (several: the bot asked)


class Dialog:
    """Pure conversation logic: (session, text, today) in, (replies, new session) out."""

    def __init__(self, catalog: Catalog, understanding: Understanding, full: bool = False) -> None:
        """`full`: a verdict is the whole text in one reply (`qianzhu ask --full`, `qianzhu replay --full`), not
        the short card with its details on demand."""
        self.catalog = catalog
        self.understanding = understanding
        self.full = full
        self.processing: dict[Case, Processing] = {
            case_id: Processing(c.processing.min_workdays, c.processing.max_workdays, c.processing.wait_months_first)
            for case_id, c in catalog.cases.items()
        }
        self._commands = {word.lower(): name for name, words in catalog.prompts.commands.items() for word in words}
        self._commands.setdefault(self._command_key(self.p("recalled_change")), "reset")  # the choice starts afresh
        self._renderer = VerdictRenderer(catalog)
        self._card = CardRenderer(catalog, self._renderer)
        self._details: dict[str, DetailId] = {
            self._command_key(word): detail for detail, words in catalog.prompts.details.items() for word in words
        }
        self.followups = Followups(catalog)
        # Verdicts are pure functions of (expiry range, city, today): many users share them on any one day.
        self._verdict = lru_cache(maxsize=16_384)(self._compute_verdict)
        self.slots = Slots(catalog)

    def is_forget(self, raw: str) -> bool:
        """The message asks to erase everything kept about the user (删除我的数据, /forget)."""
        return self._commands.get(self._command_key(raw)) == "forget"

    def respond(self, session: Session, raw: str, today: date) -> Turn:
        """The turn for one message; `session` is updated in place and returned in the turn."""
        reading = self.understanding.read(raw, today)
        command = self._commands.get(self._command_key(reading.text))
        if command == "forget":  # the engine erases everything kept for the user instead of saving
            return Turn([Reply(self.p("forget_done"))], "command.forget", Session())
        if command == "reset":
            fresh = Session(pending="date")
            return Turn([Reply(self.p("reset_done")), Reply(self.p("ask_date"))], "command.reset", fresh)
        if command in ("help", "start"):  # a few first steps or the categories, as buttons or numbers
            text = self.p("welcome" if command == "start" else "help")
            choices = tuple(self.catalog.prompts.choices[command])
            return self._with_resume(session, [text], f"command.{command}", choices)
        if command == "topics":
            return self._with_resume(session, [self._topics()], "command.topics")
        detail = self._details.get(self._command_key(reading.text))
        if detail is not None and (detail in ACTIONS or not self.full):  # the whole text has every detail
            asked = self._detail(session, detail, today)
            if asked is not None:
                return asked
        if not reading.meaningful:
            return self._with_resume(session, [self.p("empty_input")], "empty")
        if command == "unsure":
            return self._unsure(session)

        notes = [self.p("long_input")] if reading.truncated else []
        if cues.LATIN.search(reading.text) and not cues.HAN.search(reading.text):
            notes.append(self.p("not_chinese"))
        s = session  # short name: every helper below takes and updates it
        intent = reading.intent.intent if reading.intent else None
        entry = self.catalog.faq_entry(intent.removeprefix("faq.")) if intent and intent.startswith("faq.") else None
        if entry is not None and entry.other_document:
            if reading.city and reading.city.city and not s.city:
                s.city, s.city_known = reading.city.city, True  # where the user lives, whatever the document
            return self._with_resume(s, [*notes, faq_text(self.catalog, entry)], intent or "faq")
        switched = self.slots.whose(s, reading, entry)
        notes += switched
        if switched:
            s.recalled = []  # another person's slots, or the user's own brought back: nothing kept to name
        if switched and reading.person and not reading.dates:
            entry = None  # 那我儿子的呢 is about whose permit, not about children
        if not switched and not cues.on_topic(s, reading):
            return self._fallback(s, reading, notes)  # 股票明天会涨吗, 今天深圳天气咋样: not about a permit

        city_before, dates_before = s.city, (s.expiry, s.expiry_end)
        filled = self.slots.fill_year_fix(s, reading, today)
        filled = self.slots.fill_tense_answer(s, reading) or filled
        filled = self.slots.fill_city_pick(s, reading) or filled
        if reading.city and not filled:
            filled = self.slots.fill_city(s, reading)
        expiry, plans, error = self.slots.sort_dates(s, reading)
        if expiry is not None:
            notes += self.slots.fill_date(s, expiry, today)
            filled = True
            if entry is not None and not cues.is_question(reading):
                entry, intent = None, "flow.expired"  # 签注是春节前到期的: one's own situation, no question
        elif error is not None and entry is None and not plans:
            return self._bad_date(s, error, notes)
        elif reading.tense in ("past", "future"):
            s.tense = reading.tense
        if s.recalled:
            if reading.city or s.city != city_before:
                s.restated("city")
            if expiry is not None or (s.expiry, s.expiry_end) != dates_before:
                s.restated("date")
        filled = filled or bool(switched)

        if expiry is None and entry is None and any(d.role == "done" for d in reading.dates):
            return Turn([Reply("\n".join([*notes, self.p("done_already")]))], "done", s)
        complete = self._complete(s)
        if entry is not None and complete and reading.correction and s.city != city_before and city_before:
            entry, intent = None, "slot"  # 不对，是上海的居住证: the verdict again, for the corrected city
        declared = [d for d in plans if d.role == "plan"]  # a date of unknown role does not beat a question
        if plans and (entry is None or (complete and declared)):
            return self._plan(s, (declared or plans)[0], notes, today)
        if complete and not filled:
            followup = self._followup(s, reading, intent, today)
            if followup is not None:
                return followup
        if entry is not None:
            return self._faq(s, entry, notes, expiry is not None, today)
        if filled or intent == "flow.expired":
            return self._next_step(s, notes, intent or "slot", today)
        if cues.looks_like_word(reading) and (
            s.pending == "city" or (s.expiry is not None and cues.PLACE_SUFFIX.search(reading.text))
        ):
            return self._place_or_not(s, reading, today)
        if intent == "smalltalk.thanks":
            return self._with_resume(s, [self.p("thanks")], intent, self._more(s, today), more=True)
        return self._fallback(s, reading, notes)

    # -- replies -------------------------------------------------------------------------------------------

    def _faq(self, s: Session, entry: FaqEntry, notes: list[str], dated: bool, today: date) -> Turn:
        """A FAQ answer, for the user's city when it is known; after a verdict, only the city's short answer."""
        intent = f"faq.{entry.id}"
        answer = faq_text(self.catalog, entry)
        change: tuple[str, ...] = ()
        if entry.city_topic and s.city and s.city_known:
            rule = self.catalog.rule_for(s.city)
            verdict = self._verdict_of(s, today)[0] if self._complete(s) else None
            local = self.followups.topic(entry.city_topic, rule, self._label(s), verdict)
            # The city's answer first; the general one follows only where it adds the national rule.
            general = verdict is None and entry.city_topic in ("grace", "cancel")
            answer = f"{local}\n\n{answer}" if general else local
            if verdict is not None:
                basis, change = self._basis(s, today)
                answer = "\n".join([*basis, answer])
        if dated:  # 签注12月5号到期，要带什么: the answer, then the calculation goes on
            step = self._next_step(s, [], intent, today)
            first = Reply("\n".join([*notes, answer]), change)
            return Turn([first, *step.replies], intent, s, step.verdict, step.cases)
        if not s.pending and not self._complete(s):
            offer_key, city = ("offer_calc_city", s.city) if s.city and s.city_known else ("offer_calc", "")
            invited = cues.INVITES.search(answer)  # many answers already invite
            offer = [] if invited else [self.p(offer_key, city=city) if city else self.p(offer_key)]
            return Turn([Reply("\n".join([*notes, answer, *offer]))], intent, s)
        return self._with_resume(s, [*notes, answer], intent, (*change, *self._more(s, today)), more=True)

    def _plan(self, s: Session, plan: DateFinding, notes: list[str], today: date) -> Turn:
        """「明天去来得及吗」: checked against the deadline already given, never taken for the expiry."""
        assert plan.value is not None
        if not self._complete(s):
            return self._next_step(s, [*notes, self.p("plan_needs_date")], "plan", today)
        verdict, rule, _text, _cases = self._verdict_of(s, today)
        if verdict is None:  # a range that spans several cases: the exact day is needed first
            return self._next_step(s, [*notes, self.p("plan_needs_date")], "plan", today)
        # A plan is in the future: 25号 said on 3 March is 25 March, not 25 February.
        future = [d for d in plan.alternatives if d >= today]
        start = min(future) if future else plan.value
        day = plan.end if plan.end and start == plan.value else start
        basis, change = self._basis(s, today)
        texts = [*notes, *basis, self.followups.plan(day, plan.matched, verdict, rule)]
        if plan.role != "plan":
            texts.append(self.p("plan_hint", date=f"{day.month}月{day.day}日"))
        reply = Reply("\n".join(texts), (*change, *self._more(s, today)), self.p("more_heading"))
        return Turn([reply], "plan", s, verdict, (verdict.case,))

    def _followup(self, s: Session, reading: Reading, intent: str | None, today: date) -> Turn | None:
        """After a verdict: 还有几天 gets the countdown and 依据是什么 the sources, not the whole verdict again."""
        verdict, rule, _text, _cases = self._verdict_of(s, today)
        if verdict is None:
            return None
        if cues.SOURCES.search(reading.text):
            reply = Reply(self.followups.sources(rule), self._more(s, today, "sources"), self.p("more_heading"))
            return Turn([reply], "followup.sources", s, verdict, (verdict.case,))
        if intent == "flow.expired" or cues.COUNTDOWN.search(reading.text):
            basis, change = self._basis(s, today)
            label, whose = self._label(s), s.person or "您"
            card = [self._card.head(verdict, rule, label, whose), *self._card.body(verdict, rule, label, whose)]
            text = "\n".join([*basis, *card])  # the card again: the countdown, hedged as the verdict was
            reply = Reply(text, (*change, *self._more(s, today)), self.p("more_heading"))
            return Turn([reply], "followup.countdown", s, verdict, (verdict.case,))
        return None

    def _next_step(self, s: Session, notes: list[str], intent: str, today: date) -> Turn:
        question = self._question(s)
        if question is not None:
            return Turn([Reply("\n".join([*notes, question.text]), question.choices)], intent, s)
        s.pending = None
        verdict, rule, text, cases = self._verdict_of(s, today)
        basis, change = self._basis(s, today)
        texts = [*notes, *basis]
        if not s.city_known:
            texts.append(self.p("unknown_city", city=s.city))
        elif rule.level == "national" and s.city not in self.catalog.rules.cities:
            texts.append(self.p("national_fallback", city=s.city))
        choices = (*change, *((self._fix_choice(s, today),) if s.alternative else ()))
        if verdict is None:
            s.pending = "date"  # the range spans several cases: ask for the exact day
        elif not self.full:  # the card: countdown first, then what the answer assumed, then what to do now
            label, whose = self.label_of(s), s.person or "您"
            if s.expiry_end is not None:
                texts.append(self.p("card_approx_range", first=fmt_date(verdict.expiry), last=fmt_date(s.expiry_end)))
            head = self._card.head(verdict, rule, label, whose)
            card = "\n".join([head, *texts, *self._card.body(verdict, rule, label, whose)])
            more = tuple(self._label_of_detail(d) for d in self._card.offered(rule))
            return Turn([Reply(card, (*choices, *more), self.p("more_heading"))], intent, s, verdict, cases)
        texts.append(text)
        return Turn([Reply("\n\n".join(texts), choices)], intent, s, verdict, cases)

    # -- after a verdict: its details and the actions a channel may take ------------------------------------

    def _detail(self, s: Session, detail: DetailId, today: date) -> Turn | None:
        """材料, 去哪办, 依据… after a verdict: that part of it. None (the message is read as usual) when there is
        no single verdict yet and the word is not an action: 材料 alone is then the materials question."""
        verdict = self._verdict_of(s, today)[0] if self._complete(s) else None
        if verdict is None:
            if detail not in ACTIONS:
                return None
            return self._with_resume(s, [self.p("action_needs_verdict")], f"action.{detail}")
        rule = self.catalog.rule_for(s.city if s.city_known else None)
        label, whose = self.label_of(s), s.person or "您"
        if detail in ACTIONS:
            if verdict.deadline is None:
                text = self.p("action_no_deadline", what=self._card.head(verdict, rule, label, whose))
            else:
                text = self.p(f"action_{detail}", deadline=fmt_date(verdict.deadline), city=label)
        else:
            text = self._card.detail(detail, verdict, rule, label, whose)
        return Turn(
            [Reply(text, self._more(s, today, detail), self.p("more_heading"))],
            f"{'action' if detail in ACTIONS else 'detail'}.{detail}",
            s,
            verdict,
            (verdict.case,),
        )

    def _more(self, s: Session, today: date, shown: DetailId | None = None) -> tuple[str, ...]:
        """The details one can still ask for about the verdict of `s` (none without a single verdict)."""
        if self.full or not self._complete(s):
            return ()
        verdict, rule, _text, _cases = self._verdict_of(s, today)
        if verdict is None:
            return ()
        return tuple(self._label_of_detail(d) for d in self._card.offered(rule) if d != shown)

    def _label_of_detail(self, detail: DetailId) -> str:
        return self.catalog.prompts.details[detail][0]

    def _basis(self, s: Session, today: date) -> tuple[list[str], tuple[str, ...]]:
        """For a verdict that uses slots kept from an earlier conversation: the line that names them and the
        choice to change them. Said once per return: the slots stop counting as recalled."""
        kept = self._kept(s, today)
        s.recalled = []
        if not kept:
            return [], ()
        return [self.p("recalled", kept=kept)], (self.p("recalled_change"),)

    def _kept(self, s: Session, today: date, names: tuple[str, ...] | None = None) -> str:
        """「上海，签注10月20日到期」: the recalled slots (or `names`), as the user would say them; "" for none."""
        names = tuple(s.recalled) if names is None else names
        parts = []
        if "city" in names and s.city:
            parts.append(self._label(s))
        elif s.person and "date" in names:
            parts.append(s.person)
        if "date" in names and s.expiry is not None:
            parts.append(self.p("recalled_date", date=self._expiry_label(s.expiry, s.expiry_end, today)))
        return "，".join(parts)

    @staticmethod
    def _expiry_label(first: date, last: date | None, today: date) -> str:
        def day(d: date) -> str:
            return f"{d.month}月{d.day}日" if d.year == today.year else f"{d.year}年{d.month}月{d.day}日"

        return day(first) if last is None else f"{day(first)}到{day(last)}"

    def resumed(self, s: Session, today: date) -> str:
        """The notice of a terminal chat that goes on with a stored conversation."""
        kept = self._kept(s, today, ("city", "date"))
        return self.p("chat_resumed", kept=kept) if kept else self.p("chat_resumed_unfinished")

    def _fix_choice(self, s: Session, today: date) -> str:
        assert s.alternative is not None
        shift = s.alternative.year - today.year
        return self.p({1: "year_fix_next", -1: "year_fix_last"}.get(shift, "year_fix_this"))

    def _question(self, s: Session) -> Reply | None:
        """The next question to ask, recording it as pending; None when both slots are filled."""
        choices = self.catalog.prompts.choices
        if s.candidates:
            s.pending = "tense"
            return Reply(self.p("ask_tense", date=self._candidate_label(s)), tuple(choices["tense"]))
        if s.city_candidates:
            s.pending = "city_pick"
            listed = "、".join(f"{n}. {c}" for n, c in enumerate(s.city_candidates, 1))
            return Reply(self.p("ask_city_pick", candidates=listed), tuple(s.city_candidates))
        if s.expiry is None:
            s.pending = "date"
            return Reply(self.p("ask_date_person", person=s.person) if s.person else self.p("ask_date"))
        if s.city is None:
            s.pending = "city"
            if s.province:
                cities = self.catalog.places.provinces().get(s.province, [])
                ruled = [c for c in cities if c in self.catalog.rules.cities]
                options = [*ruled, *(c for c in cities if c not in ruled)][:6]
                return Reply(self.p("ask_city_in_province", province=s.province), tuple(options))
            text = self.p("ask_city_person", person=s.person) if s.person else self.p("ask_city")
            return Reply(text, tuple(choices["cities"]))
        return None

    @staticmethod
    def _candidate_label(s: Session) -> str:
        first = s.candidates[0]
        end = s.candidate_ends[0] if s.candidate_ends else None
        if end is None:
            return f"{first.month}月{first.day}日"
        if first.day == 1 and end.month == first.month and end.day >= 28:
            return f"{first.month}月"
        return f"{first.month}月{first.day}日到{end.month}月{end.day}日"

    @staticmethod
    def _complete(s: Session) -> bool:
        return s.expiry is not None and s.city is not None and not s.candidates and not s.city_candidates

    def verdict_for(self, s: Session, today: date) -> tuple[Verdict | None, CityRule]:
        verdict, rule, _, _ = self._verdict_of(s, today)
        return verdict, rule

    def label_of(self, s: Session) -> str:
        """「上海」, or 「老婆｜上海」 for someone else's permit: how the verdict names whose it is."""
        return self._label(s)

    def _label(self, s: Session) -> str:
        city = s.city or ""
        return self.p("person_label", person=s.person, city=city) if s.person else city

    def _verdict_of(self, s: Session, today: date) -> tuple[Verdict | None, CityRule, str, tuple[Case, ...]]:
        """The (memoised) verdict, rule, reply text and possible cases for a session whose slots are filled;
        the verdict is None when the expiry range leads to several cases."""
        assert s.expiry is not None
        rule_city = s.city if s.city_known else None
        return self._verdict(s.expiry, s.expiry_end, rule_city, self._label(s), s.person or "您", today)

    def _compute_verdict(
        self, first: date, last: date | None, rule_city: str | None, label: str, whose: str, today: date
    ) -> tuple[Verdict | None, CityRule, str, tuple[Case, ...]]:
        rule = self.catalog.rule_for(rule_city)
        parts = segments(first, last, rule, today) if last else []
        if len(parts) > 1:
            sources = self.followups.sources(rule)
            text = render_split(self.catalog, parts, rule, label, today, sources)
            return None, rule, text, tuple(part.case for part in parts)
        verdict = decide(first, rule, today, self.processing)  # the earliest day: the earliest deadline
        text = self._renderer.render(verdict, rule, label, whose)
        if last:
            text = f"{self.p('approx_range', first=fmt_date(first), last=fmt_date(last))}\n\n{text}"
        return verdict, rule, text, (verdict.case,)

    def _with_resume(
        self, s: Session, texts: list[str], intent: str, choices: tuple[str, ...] = (), more: bool = False
    ) -> Turn:
        """Answers, then repeats the question the conversation was waiting on, if any. `more`: the choices are
        what can be asked next (after a verdict: its details), shown only when no question follows."""
        question = self._question(s) if s.started and s.pending else None
        if question is None:
            return Turn(
                [Reply("\n".join(texts), choices, self.p("more_heading") if more and choices else "")], intent, s
            )
        answer = Reply("\n".join(texts), () if more else choices)
        return Turn([answer, Reply(f"{self.p('resume')}{question.text}", question.choices)], intent, s)

    def _bad_date(self, s: Session, finding: DateFinding, notes: list[str]) -> Turn:
        key = {
            "invalid_date": "invalid_date",
            "out_of_range": "out_of_range_date",
            "not_this_year": "not_this_year",
        }.get(finding.error or "", "vague_date")
        if finding.error == "no_direction":
            choices = tuple(self.catalog.prompts.choices["tense"])
            text = self.p("ask_direction", matched=finding.matched)
            return Turn([Reply("\n".join([*notes, text]), choices)], "date.no_direction", s)
        matched = finding.matched if key != "vague_date" else finding.matched.rstrip("年") + "年"
        s.pending = s.pending or "date"
        return Turn([Reply("\n".join([*notes, self.p(key, matched=matched)]))], f"date.{finding.error}", s)

    def _unsure(self, s: Session) -> Turn:
        return self._with_resume(s, [self.p("unsure")], "unsure")

    def _place_or_not(self, s: Session, reading: Reading, today: date) -> Turn:
        """A bare word at the city question: an unlisted place (it ends in 市, 县...) or not a place at all."""
        if cues.PLACE_SUFFIX.search(reading.text):
            name = cues.PLACE_LEAD.sub("", reading.text)  # 我在柳溪镇 -> 柳溪镇
            s.city, s.city_known, s.province = cues.PLACE_SUFFIX.sub("", name) or name, False, None
            return self._next_step(s, [], "unknown_city", today)
        text = self.p("city_not_place", text=reading.text)
        return Turn([Reply(text, tuple(self.catalog.prompts.choices["cities"]))], "city_not_place", s)

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

    def _topics(self) -> str:
        topics = "、".join(dict.fromkeys(e.topic for e in self.catalog.faq))
        return self.p("help_topics", topics=topics)

    @staticmethod
    def _command_key(text: str) -> str:
        return text.strip(" .!?。！？~").lower()

    def p(self, key: str, **fields: object) -> str:
        return self.catalog.prompt(key, **fields)
