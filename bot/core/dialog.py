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

from bot.catalog.catalog import Catalog
from bot.catalog.models import ACTIONS, DetailId, FaqEntry
from bot.core import cues
from bot.core.card import CardRenderer
from bot.core.details import Details
from bot.core.followups import Followups
from bot.core.messages import Reply
from bot.core.questions import Questions
from bot.core.recall import Recall
from bot.core.render import VerdictRenderer, faq_text, fmt_date
from bot.core.rules import CityRule
from bot.core.session import Session
from bot.core.session_verdicts import SessionVerdicts
from bot.core.slots import Slots
from bot.core.understanding import Reading, Understanding
from bot.core.verdicts import Case, Verdict
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
        self._commands = {word.lower(): name for name, words in catalog.prompts.commands.items() for word in words}
        self._commands.setdefault(self._command_key(self.p("recalled_change")), "reset")  # the choice starts afresh
        renderer = VerdictRenderer(catalog)
        self._card = CardRenderer(catalog, renderer)
        self._details: dict[str, DetailId] = {
            self._command_key(word): detail for detail, words in catalog.prompts.details.items() for word in words
        }
        self.followups = Followups(catalog)
        self.verdicts = SessionVerdicts(catalog, renderer, self.followups, full)
        self.processing = self.verdicts.processing
        self.recall = Recall(catalog, self.verdicts.label)
        self.questions = Questions(catalog)
        self.details = Details(catalog, self._card, self.verdicts)
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
        complete = self.verdicts.complete(s)
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
            return self._with_resume(s, [self.p("thanks")], intent, self.details.more(s, today), more=True)
        return self._fallback(s, reading, notes)

    # -- replies -------------------------------------------------------------------------------------------

    def _faq(self, s: Session, entry: FaqEntry, notes: list[str], dated: bool, today: date) -> Turn:
        """A FAQ answer, for the user's city when it is known; after a verdict, only the city's short answer."""
        intent = f"faq.{entry.id}"
        answer = faq_text(self.catalog, entry)
        change: tuple[str, ...] = ()
        if entry.city_topic and s.city and s.city_known:
            rule = self.catalog.rule_for(s.city)
            verdict = self.verdicts.of(s, today)[0] if self.verdicts.complete(s) else None
            local = self.followups.topic(entry.city_topic, rule, self.verdicts.label(s), verdict)
            # The city's answer first; the general one follows only where it adds the national rule.
            general = verdict is None and entry.city_topic in ("grace", "cancel")
            answer = f"{local}\n\n{answer}" if general else local
            if verdict is not None:
                basis, change = self.recall.basis(s, today)
                answer = "\n".join([*basis, answer])
        if dated:  # 签注12月5号到期，要带什么: the answer, then the calculation goes on
            step = self._next_step(s, [], intent, today)
            first = Reply("\n".join([*notes, answer]), change)
            return Turn([first, *step.replies], intent, s, step.verdict, step.cases)
        if not s.pending and not self.verdicts.complete(s):
            offer_key, city = ("offer_calc_city", s.city) if s.city and s.city_known else ("offer_calc", "")
            invited = cues.INVITES.search(answer)  # many answers already invite
            offer = [] if invited else [self.p(offer_key, city=city) if city else self.p(offer_key)]
            return Turn([Reply("\n".join([*notes, answer, *offer]))], intent, s)
        return self._with_resume(s, [*notes, answer], intent, (*change, *self.details.more(s, today)), more=True)

    def _plan(self, s: Session, plan: DateFinding, notes: list[str], today: date) -> Turn:
        """「明天去来得及吗」: checked against the deadline already given, never taken for the expiry."""
        assert plan.value is not None
        if not self.verdicts.complete(s):
            return self._next_step(s, [*notes, self.p("plan_needs_date")], "plan", today)
        verdict, rule, _text, _cases = self.verdicts.of(s, today)
        if verdict is None:  # a range that spans several cases: the exact day is needed first
            return self._next_step(s, [*notes, self.p("plan_needs_date")], "plan", today)
        # A plan is in the future: 25号 said on 3 March is 25 March, not 25 February.
        future = [d for d in plan.alternatives if d >= today]
        start = min(future) if future else plan.value
        day = plan.end if plan.end and start == plan.value else start
        basis, change = self.recall.basis(s, today)
        texts = [*notes, *basis, self.followups.plan(day, plan.matched, verdict, rule)]
        if plan.role != "plan":
            texts.append(self.p("plan_hint", date=f"{day.month}月{day.day}日"))
        reply = Reply("\n".join(texts), (*change, *self.details.more(s, today)), self.p("more_heading"))
        return Turn([reply], "plan", s, verdict, (verdict.case,))

    def _followup(self, s: Session, reading: Reading, intent: str | None, today: date) -> Turn | None:
        """After a verdict: 还有几天 gets the countdown and 依据是什么 the sources, not the whole verdict again."""
        verdict, rule, _text, _cases = self.verdicts.of(s, today)
        if verdict is None:
            return None
        if cues.SOURCES.search(reading.text):
            reply = Reply(self.followups.sources(rule), self.details.more(s, today, "sources"), self.p("more_heading"))
            return Turn([reply], "followup.sources", s, verdict, (verdict.case,))
        if intent == "flow.expired" or cues.COUNTDOWN.search(reading.text):
            basis, change = self.recall.basis(s, today)
            card = self._card.card(verdict, rule, self.verdicts.label(s), s.person or "您")
            text = "\n".join([*basis, card])  # the card again: the countdown, hedged as the verdict was
            reply = Reply(text, (*change, *self.details.more(s, today)), self.p("more_heading"))
            return Turn([reply], "followup.countdown", s, verdict, (verdict.case,))
        return None

    def _next_step(self, s: Session, notes: list[str], intent: str, today: date) -> Turn:
        question = self.questions.next(s)
        if question is not None:
            return Turn([Reply("\n".join([*notes, question.text]), question.choices)], intent, s)
        s.pending = None
        verdict, rule, text, cases = self.verdicts.of(s, today)
        basis, change = self.recall.basis(s, today)
        texts = [*notes, *basis]
        if not s.city_known:
            texts.append(self.p("unknown_city", city=s.city))
        elif rule.level == "national" and s.city not in self.catalog.rules.cities:
            texts.append(self.p("national_fallback", city=s.city))
        choices = (*change, *((self._fix_choice(s, today),) if s.alternative else ()))
        if verdict is None:
            s.pending = "date"  # the range spans several cases: ask for the exact day
        elif not self.full:  # the card: countdown first, then what the answer assumed, then what to do now
            if s.expiry_end is not None:
                texts.append(self.p("card_approx_range", first=fmt_date(verdict.expiry), last=fmt_date(s.expiry_end)))
            card = self._card.card(verdict, rule, self.verdicts.label(s), s.person or "您", texts)
            more = self.details.more(s, today)
            return Turn([Reply(card, (*choices, *more), self.p("more_heading"))], intent, s, verdict, cases)
        texts.append(text)
        return Turn([Reply("\n\n".join(texts), choices)], intent, s, verdict, cases)

    # -- after a verdict: its details and the actions a channel may take ------------------------------------

    def _detail(self, s: Session, detail: DetailId, today: date) -> Turn | None:
        """材料, 去哪办, 依据… after a verdict: that part of it. None (the message is read as usual) when there is
        no single verdict yet and the word is not an action: 材料 alone is then the materials question."""
        answered = self.details.answer(s, detail, today)
        if answered is None:
            if detail not in ACTIONS:
                return None
            return self._with_resume(s, [self.p("action_needs_verdict")], f"action.{detail}")
        text, verdict = answered
        reply = Reply(text, self.details.more(s, today, detail), self.p("more_heading"))
        kind = "action" if detail in ACTIONS else "detail"
        return Turn([reply], f"{kind}.{detail}", s, verdict, (verdict.case,))

    def verdict_for(self, s: Session, today: date) -> tuple[Verdict | None, CityRule]:
        verdict, rule, _, _ = self.verdicts.of(s, today)
        return verdict, rule

    def label_of(self, s: Session) -> str:
        """「上海」, or 「老婆｜上海」 for someone else's permit: how the verdict names whose it is."""
        return self.verdicts.label(s)

    def resumed(self, s: Session, today: date) -> str:
        """The notice of a terminal chat that goes on with a stored conversation."""
        return self.recall.resumed(s, today)

    def _fix_choice(self, s: Session, today: date) -> str:
        assert s.alternative is not None
        shift = s.alternative.year - today.year
        return self.p({1: "year_fix_next", -1: "year_fix_last"}.get(shift, "year_fix_this"))

    def _with_resume(
        self, s: Session, texts: list[str], intent: str, choices: tuple[str, ...] = (), more: bool = False
    ) -> Turn:
        """Answers, then repeats the question the conversation was waiting on, if any. `more`: the choices are
        what can be asked next (after a verdict: its details), shown only when no question follows."""
        question = self.questions.next(s) if s.started and s.pending else None
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
